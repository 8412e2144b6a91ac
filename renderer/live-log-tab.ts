import type { RequestBatch } from './api.ts';
import { h, setText } from './dom.ts';
import { formatClock, formatMs, formatTokens, formatUsd, shortClient } from './format.ts';
import { LiveLogStore, type LogEntry, type LogFilter, type StatusFilter } from './live-log-store.ts';

/** Rows on screen at most: the DOM stays this size whatever the request rate (the store keeps more). */
export const DISPLAY_LIMIT = 100;

interface RowElements {
  row: HTMLLIElement;
  badge: HTMLSpanElement;
  model: HTMLSpanElement;
  time: HTMLSpanElement;
  details: HTMLSpanElement;
  shownId: string;
  shownVersion: number;
}

function badgeOf(entry: LogEntry): { kind: string; text: string } {
  if (entry.status === null) return { kind: 'running', text: entry.stream ? 'streaming' : 'running' };
  const failed = entry.status >= 400 || entry.errorType !== null;
  return { kind: failed ? 'error' : 'ok', text: String(entry.status) };
}

function modelOf(entry: LogEntry): string {
  const requested = entry.requestedModel;
  const resolved = entry.modelId;
  if (requested && resolved && requested !== resolved) return `${requested} → ${resolved}`;
  return resolved ?? requested ?? entry.route;
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
 * once; the list is redrawn at most once per animation frame, reusing a fixed pool of row elements
 * and touching only the rows whose entry changed.
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
  const pool: RowElements[] = [];

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

  function rowAt(index: number): RowElements {
    let elements = pool[index];
    if (!elements) {
      const badge = h('span', { class: 'badge' });
      const model = h('span', { class: 'log-model' });
      const time = h('span', { class: 'log-time' });
      const details = h('span', { class: 'log-details' });
      const row = h('li', { class: 'log-row' }, h('div', { class: 'log-line' }, badge, model, time), h('div', { class: 'log-line' }, details));
      elements = { row, badge, model, time, details, shownId: '', shownVersion: -1 };
      pool.push(elements);
    }
    return elements;
  }

  function render(): void {
    scheduled = false;
    const now = Date.now();
    const entries = store.view(filter, DISPLAY_LIMIT);
    let running = false;
    entries.forEach((entry, index) => {
      const elements = rowAt(index);
      if (elements.row.parentNode !== list) list.append(elements.row);
      if (entry.status === null) running = true;
      // Running rows change every frame (elapsed time); finished ones only when their entry did.
      if (elements.shownId === entry.id && elements.shownVersion === entry.version && entry.status !== null) return;
      const badge = badgeOf(entry);
      elements.badge.dataset.kind = badge.kind;
      setText(elements.badge, badge.text);
      setText(elements.model, modelOf(entry));
      elements.model.title = modelOf(entry);
      setText(elements.time, formatClock(entry.startedAt));
      setText(elements.details, detailsOf(entry, now));
      elements.row.dataset.id = entry.id;
      elements.row.dataset.status = badge.kind;
      elements.shownId = entry.id;
      elements.shownVersion = entry.version;
    });
    for (let index = entries.length; index < pool.length; index += 1) pool[index]!.row.remove();

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
        store.size === 0 ? 'No requests yet: they appear here as they start.' : `${matching} of ${store.size} recent requests${matching > shown ? `, newest ${shown} shown` : ''}`,
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
