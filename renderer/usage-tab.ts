import type uPlot from 'uplot';
import type { UsageGrouping } from '../src/usage/aggregates.ts';
import { api, type SyncView, type UsageQueryParams, type UsageView } from './api.ts';
import { describeError } from './context.ts';
import { h, replaceChildren } from './dom.ts';
import { formatAgo, formatCount, formatTokens, formatUsd, shortClient, shortModel } from './format.ts';
import { drawUsageChart, periodLabel } from './usage-chart.ts';

const GROUPS: ReadonlyArray<[UsageGrouping, string]> = [
  ['day', 'Day'],
  ['week', 'Week'],
  ['month', 'Month'],
  ['model', 'Model'],
  ['client', 'Client'],
];

const DAY_MS = 86_400_000;
const RANGES: ReadonlyArray<[string, string, number | null]> = [
  ['7', 'Last 7 days', 7],
  ['30', 'Last 30 days', 30],
  ['90', 'Last 90 days', 90],
  ['all', 'All time', null],
];

/**
 * Usage: this machine's ledger by day, week, month, model or client; totals, a chart of tokens and
 * cost, the rows as a table and as CSV, and where the org audit sync stands.
 */
/** How often the open tab reloads while requests finish. */
const REFRESH_MS = 3000;

export function createUsageTab(panel: HTMLElement): { show(): void; hide(): void; redraw(): void; requestsFinished(): void } {
  let group: UsageGrouping = 'day';
  let rangeDays: number | null = 30;
  let data: UsageView | null = null;
  let chart: uPlot | null = null;
  let visible = false;

  const groupButtons = GROUPS.map(([value, label]) =>
    h('button', { attrs: { type: 'button', 'aria-pressed': String(value === group) }, data: { group: value }, on: { click: () => setGroup(value) } }, label),
  );
  const rangePicker = h('select', { id: 'usage-range', attrs: { 'aria-label': 'Period' } }, ...RANGES.map(([value, label]) => h('option', { attrs: { value } }, label)));
  rangePicker.value = '30';
  rangePicker.addEventListener('change', () => {
    rangeDays = RANGES.find(([value]) => value === rangePicker.value)?.[2] ?? null;
    void load();
  });
  const csvLink = h('a', { id: 'usage-csv', attrs: { download: '' } }, 'Export CSV');
  const totals = h('div', { class: 'totals', id: 'usage-totals' });
  const note = h('p', { class: 'muted small', id: 'usage-note' });
  const chartBox = h('div', { class: 'chart', id: 'usage-chart', attrs: { role: 'img', 'aria-label': 'Tokens (bars) and cost (line) per group' } });
  const tokensSwatch = h('span', { class: 'swatch tokens' });
  const costSwatch = h('span', { class: 'swatch cost' });
  const legend = h('p', { class: 'chart-legend small' }, tokensSwatch, 'Tokens', costSwatch, 'Cost');
  const tableBody = h('tbody', { id: 'usage-rows' });
  const syncBox = h('div', { id: 'usage-sync' });

  panel.append(
    h('div', { class: 'row' }, h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Group by' } }, ...groupButtons)),
    h('div', { class: 'row' }, rangePicker, h('span', { class: 'grow' }), csvLink),
    totals,
    note,
    legend,
    chartBox,
    h(
      'table',
      { id: 'usage-table' },
      h('colgroup', null, h('col'), h('col', { attrs: { width: '76px' } }), h('col', { attrs: { width: '56px' } }), h('col', { attrs: { width: '84px' } })),
      h('thead', null, h('tr', null, h('th', { attrs: { scope: 'col' } }, 'Group'), h('th', { class: 'num', attrs: { scope: 'col' } }, 'Requests'), h('th', { class: 'num', attrs: { scope: 'col' } }, 'Tokens'), h('th', { class: 'num', attrs: { scope: 'col' } }, 'Cost'))),
      tableBody,
    ),
    h('h2', null, 'Audit sync'),
    syncBox,
  );

  /** A row's name, short (the full key is in its title): a model as people say it, a client's product. */
  function labelOf(key: string): string {
    if (group === 'model') return shortModel(key);
    if (group === 'client') return shortClient(key);
    return periodLabel(key);
  }

  function params(): UsageQueryParams {
    return rangeDays === null ? { group } : { group, from: Date.now() - rangeDays * DAY_MS };
  }

  function setGroup(next: UsageGrouping): void {
    group = next;
    for (const button of groupButtons) button.setAttribute('aria-pressed', String(button.dataset.group === next));
    void load();
  }

  function total(label: string, figure: string, id: string): HTMLElement {
    return h('div', { class: 'total' }, h('div', { class: 'label' }, label), h('div', { class: 'figure', id }, figure));
  }

  function renderUsage(view: UsageView): void {
    data = view;
    csvLink.href = api.usageCsvUrl(params());
    replaceChildren(
      totals,
      total('Requests', formatCount(view.totals.requests), 'usage-total-requests'),
      total('Tokens', formatTokens(view.totals.totalTokens), 'usage-total-tokens'),
      total('Cost', formatUsd(view.totals.costUsd), 'usage-total-cost'),
    );
    totals.dataset.requests = String(view.totals.requests);
    totals.dataset.tokens = String(view.totals.totalTokens);
    totals.dataset.cost = String(view.totals.costUsd);
    const notes: string[] = [];
    if (view.totals.errors > 0) notes.push(`${formatCount(view.totals.errors)} failed`);
    if (view.totals.unpricedRequests > 0) notes.push(`${formatCount(view.totals.unpricedRequests)} without a price (not in the cost)`);
    note.textContent = notes.join(' · ');
    replaceChildren(
      tableBody,
      ...(view.rows.length === 0
        ? [h('tr', null, h('td', { class: 'muted', attrs: { colspan: '4' } }, 'No usage recorded in this period.'))]
        : view.rows.map((row) => h('tr', null, h('td', { title: row.key }, group === 'model' || group === 'client' ? labelOf(row.key) : row.key), h('td', { class: 'num' }, formatCount(row.requests)), h('td', { class: 'num', title: formatCount(row.totalTokens) }, formatTokens(row.totalTokens)), h('td', { class: 'num', title: `$${row.costUsd}` }, formatUsd(row.costUsd))))),
    );
    redraw();
  }

  function redraw(): void {
    chart?.destroy();
    chart = null;
    chartBox.replaceChildren();
    legend.hidden = !data || data.rows.length === 0;
    if (!data || !visible || data.rows.length === 0) return;
    // Periods come newest first: the chart reads left to right in time.
    const rows = group === 'model' || group === 'client' ? data.rows : [...data.rows].reverse();
    // The stylesheet owns the colours (light and dark): the canvas takes them as computed.
    const colours = {
      tokens: getComputedStyle(tokensSwatch).backgroundColor,
      cost: getComputedStyle(costSwatch).backgroundColor,
      axis: getComputedStyle(legend).color,
      grid: getComputedStyle(chartBox).borderTopColor,
    };
    chart = drawUsageChart(chartBox, rows, rows.map((row) => labelOf(row.key)), Math.max(200, chartBox.clientWidth), colours);
  }

  function renderSync(sync: SyncView): void {
    const now = Date.now();
    const lines: Array<HTMLElement | null> = [];
    if (!sync.enabled) {
      lines.push(h('p', { class: 'muted' }, `Not synced: ${sync.reason}.`));
    } else {
      lines.push(h('p', { class: 'mono small', title: sync.endpoint }, sync.endpoint));
      lines.push(h('p', null, sync.lastSuccessAt ? `Last delivered ${formatAgo(sync.lastSuccessAt, now)}` : 'Nothing delivered yet', ` · ${formatCount(sync.delivered)} records delivered`));
      if (sync.lastError) lines.push(h('p', { class: 'error-text small' }, `${sync.consecutiveFailures} failed attempts: ${sync.lastError}`));
    }
    // Without an endpoint nothing is waiting to go anywhere: no "pending" to worry about.
    if (sync.enabled || sync.rejected > 0) lines.push(h('p', { id: 'sync-counts' }, `${formatCount(sync.pending)} pending · ${formatCount(sync.rejected)} rejected`));
    const level = sync.enabled && sync.lastError ? 'error' : sync.rejected > 0 ? 'warn' : undefined;
    replaceChildren(
      syncBox,
      h('div', { class: 'card', data: level ? { level } : {} }, ...lines),
      sync.rejectedRecords.length > 0
        ? h(
            'details',
            { class: 'small' },
            h('summary', null, `Rejected records (${sync.rejectedRecords.length} shown)`),
            h('ul', null, ...sync.rejectedRecords.map((record) => h('li', null, h('span', { class: 'mono' }, record.modelId ?? record.id), `: ${record.reason}`))),
          )
        : null,
    );
  }

  async function load(): Promise<void> {
    try {
      const [usage, sync] = await Promise.all([api.usage(params()), api.sync()]);
      renderUsage(usage);
      renderSync(sync);
    } catch (error) {
      note.textContent = describeError(error);
    }
  }

  let refresh: ReturnType<typeof setTimeout> | undefined;
  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(redraw);
  });

  return {
    show() {
      visible = true;
      void load();
    },
    hide() {
      visible = false;
    },
    redraw,
    /** New records are in the ledger: reload, at most every few seconds, while the tab is open. */
    requestsFinished() {
      if (!visible || refresh !== undefined) return;
      refresh = setTimeout(() => {
        refresh = undefined;
        if (visible) void load();
      }, REFRESH_MS);
    },
  };
}
