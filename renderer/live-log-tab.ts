import type { RequestBatch } from './api.ts';
import { h, setText } from './dom.ts';
import { formatClock, formatMs, formatTokens, formatUsd, shortClient, shortModel } from './format.ts';
import { LiveLogStore, type LogEntry, type LogFilter, type StatusFilter } from './live-log-store.ts';

/** Rows on screen at most: the DOM stays this size whatever the request rate (the store keeps more). */
export const DISPLAY_LIMIT = 100;

interface RowElements {
  row: HTMLLIElement;
  badge: HTMLSpanElement;
  model: HTMLSpanElement;
  time: HTMLSpanElement;
  details: HTMLSpanElement;
  /** The entry version drawn; -1 for a row not drawn yet. */
  shownVersion: number;
}

function badgeOf(entry: LogEntry): { kind: string; text: string } {
  if (entry.status === null) return { kind: 'running', text: entry.stream ? 'streaming' : 'running' };
  const failed = entry.status >= 400 || entry.errorType !== null;
  return { kind: failed ? 'error' : 'ok', text: String(entry.status) };
}

/** What was asked and what it became, short; the full ids are in the title and data-model-id. */
function modelOf(entry: LogEntry): string {
  const requested = entry.requestedModel;
  const resolved = entry.modelId ? shortModel(entry.modelId) : null;
  if (requested && resolved && requested !== resolved && requested !== entry.modelId) return `${requested} → ${resolved}`;
  return resolved ?? requested ?? entry.route;
}

function fullModelOf(entry: LogEntry): string {
  const requested = entry.requestedModel;
  if (requested && entry.modelId && requested !== entry.modelId) return `${requested} → ${entry.modelId}`;
  return entry.modelId ?? requested ?? entry.route;
}

function detailsOf(entry: LogEntry, now: number): string {
  const parts: string[] = [];
  if (entry.status === null) {
    if (entry.stream || entry.outputTokens > 0) parts.push(`${formatTokens(entry.outputTokens)} tokens so far`);
    if (entry.timeToFirstTokenMs !== null) parts.push(`first token ${formatMs(entry.timeToFirstTokenMs)}`);
    parts.push(`${formatMs(Math.max(0, now - entry.startedAt))} elapsed`);
  } else {
    if (entry.errorType) parts.push(entry.errorType);
    if (entry.usage) {
      const input = entry.usage.inputTokens + entry.usage.cacheReadTokens + entry.usage.cacheWriteTokens;
      if (input > 0 || entry.usage.outputTokens > 0) parts.push(`${formatTokens(input)} in / ${formatTokens(entry.usage.outputTokens)} out`);
    }
    if (entry.latencyMs !== null) parts.push(formatMs(entry.latencyMs));
    if (entry.timeToFirstTokenMs !== null) parts.push(`first token ${formatMs(entry.timeToFirstTokenMs)}`);
    if (entry.costUsd !== null) parts.push(formatUsd(entry.costUsd));
  }
  parts.push(shortClient(entry.userAgent));
  return parts.join(' · ');
}

/**
 * Live log: every /v1 request as it starts, streams and finishes. Events go into a bounded store at
 * once; the list is redrawn at most once per animation frame. Rows are keyed by request: a new
 * request is one row inserted at the top and the oldest shown one leaves at the bottom; the others stay
 * where they are and are redrawn only when their entry changed (or, while running, for the elapsed time).
 */
export function createLiveLogTab(panel: HTMLElement): { show(): void; hide(): void; apply(batch: RequestBatch): void; store: LiveLogStore } {
  const store = new LiveLogStore();
  const filter: LogFilter = { model: '', status: 'all' };
  let visible = false;
  let scheduled = false;
  let droppedEvents = 0;
  let knownModels = 0;
  let tick: ReturnType<typeof setTimeout> | undefined;

  const modelFilter = h('select', { id: 'log-model-filter', attrs: { 'aria-label': 'Filter by model' } }, h('option', { attrs: { value: '' } }, 'All models'));
  const statusFilter = h(
    'select',
    { id: 'log-status-filter', attrs: { 'aria-label': 'Filter by status' } },
    h('option', { attrs: { value: 'all' } }, 'Any status'),
    h('option', { attrs: { value: 'running' } }, 'Running'),
    h('option', { attrs: { value: 'ok' } }, 'Succeeded'),
    h('option', { attrs: { value: 'error' } }, 'Failed'),
  );
  const summary = h('p', { class: 'muted small', id: 'log-summary' });
  const list = h('ol', { class: 'log-list', id: 'log-list', attrs: { 'aria-label': 'Requests, newest first' } });
  const rows = new Map<string, RowElements>();
  /** Rows that left the list, reused for the next requests: no element churn at high rates. */
  const spare: RowElements[] = [];

  modelFilter.addEventListener('change', () => {
    filter.model = modelFilter.value;
    schedule();
  });
  statusFilter.addEventListener('change', () => {
    filter.status = statusFilter.value as StatusFilter;
    schedule();
  });

  panel.append(
    h('div', { class: 'log-toolbar' }, modelFilter, statusFilter, h('button', { attrs: { type: 'button' }, on: { click: clear } }, 'Clear')),
    summary,
    list,
  );

  function clear(): void {
    store.clear();
    droppedEvents = 0;
    schedule();
  }

  function schedule(): void {
    if (!visible || scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  }

  function rowFor(id: string): RowElements {
    let elements = rows.get(id);
    if (elements) return elements;
    elements = spare.pop();
    if (!elements) {
      const badge = h('span', { class: 'badge' });
      const model = h('span', { class: 'log-model' });
      const time = h('span', { class: 'log-time' });
      const details = h('span', { class: 'log-details' });
      const row = h('li', { class: 'log-row' }, h('div', { class: 'log-line' }, badge, model, time), h('div', { class: 'log-line' }, details));
      elements = { row, badge, model, time, details, shownVersion: -1 };
    }
    elements.shownVersion = -1;
    elements.row.dataset.id = id;
    rows.set(id, elements);
    return elements;
  }

  function draw(elements: RowElements, entry: LogEntry, now: number): void {
    const badge = badgeOf(entry);
    elements.badge.dataset.kind = badge.kind;
    setText(elements.badge, badge.text);
    setText(elements.model, modelOf(entry));
    elements.model.title = fullModelOf(entry);
    elements.row.dataset.modelId = entry.modelId ?? '';
    setText(elements.time, formatClock(entry.startedAt));
    setText(elements.details, detailsOf(entry, now));
    elements.row.dataset.status = badge.kind;
    elements.shownVersion = entry.version;
  }

  function render(): void {
    scheduled = false;
    const now = Date.now();
    const entries = store.view(filter, DISPLAY_LIMIT);
    const wanted = new Set(entries.map((entry) => entry.id));
    for (const [id, elements] of rows) {
      if (wanted.has(id)) continue;
      elements.row.remove();
      rows.delete(id);
      spare.push(elements);
    }
    let running = false;
    let cursor = list.firstElementChild;
    for (const entry of entries) {
      const elements = rowFor(entry.id);
      if (elements.row === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(elements.row, cursor);
      if (entry.status === null) running = true;
      // Running rows change every frame (elapsed time); finished ones only when their entry did.
      if (elements.shownVersion !== entry.version || entry.status === null) draw(elements, entry, now);
    }

    if (store.models.size !== knownModels) {
      knownModels = store.models.size;
      const chosen = modelFilter.value;
      modelFilter.replaceChildren(h('option', { attrs: { value: '' } }, 'All models'), ...[...store.models].sort().map((name) => h('option', { attrs: { value: name } }, name)));
      modelFilter.value = chosen;
    }
    const matching = store.count(filter);
    const shown = entries.length;
    setText(
      summary,
      [
        // The log holds what this window saw; earlier requests are in the Usage tab.
        store.size === 0 ? 'No requests since this window opened: they appear here as they start.' : `${matching} of ${store.size} requests since this window opened${matching > shown ? `, newest ${shown} shown` : ''}`,
        droppedEvents > 0 ? ` · ${droppedEvents} events skipped under load` : '',
      ].join(''),
    );
    // Keeps elapsed times moving while something runs, at a calm pace (one timer at most).
    if (running && tick === undefined) {
      tick = setTimeout(() => {
        tick = undefined;
        schedule();
      }, 500);
    }
  }

  return {
    store,
    apply(batch: RequestBatch) {
      for (const event of batch.started) store.started(event);
      for (const event of batch.progress) store.progress(event);
      for (const event of batch.finished) store.finished(event);
      droppedEvents += batch.dropped;
      schedule();
    },
    show() {
      visible = true;
      schedule();
    },
    hide() {
      visible = false;
    },
  };
}
