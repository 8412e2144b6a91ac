import type { RequestFinishedEvent, RequestProgressEvent, RequestStartedEvent, TokenUsage } from '../src/core/request-events.ts';

/**
 * The live log's data: the latest requests, newest last, updated in place as their events arrive.
 * Bounded (the oldest entry goes when a new one would pass `capacity`), so a window left open for days
 * at 200 requests/s holds the same memory as after a minute. Pure: no DOM, tested under Node.
 */

export interface LogEntry {
  id: string;
  startedAt: number;
  route: string;
  userAgent: string | null;
  requestedModel: string | null;
  modelId: string | null;
  stream: boolean;
  /** Output tokens so far while streaming; the final count once finished. */
  outputTokens: number;
  timeToFirstTokenMs: number | null;
  /** null while the request is in flight. */
  status: number | null;
  errorType: string | null;
  latencyMs: number | null;
  usage: TokenUsage | null;
  /** USD; null while running or when the model has no price. */
  costUsd: number | null;
  /** Bumped on each change, so a view redraws only the rows that changed. */
  version: number;
}

export type StatusFilter = 'all' | 'running' | 'ok' | 'error';

export interface LogFilter {
  /** A model name as clients asked for it (see modelKey); '' for all. */
  model: string;
  status: StatusFilter;
}

export type FinishedWithCost = RequestFinishedEvent & { costUsd?: number | null };

export const DEFAULT_CAPACITY = 1000;
/** A client sending a new model name on every request must not grow the filter's list without end. */
const MAX_MODEL_NAMES = 200;

/**
 * The name a request is filed under in the model filter: what the client asked for (an alias and the
 * id it resolves to are one choice, not two), else the resolved id when it named none.
 */
export function modelKey(entry: LogEntry): string | null {
  return entry.requestedModel ?? entry.modelId;
}

export function matches(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.model && modelKey(entry) !== filter.model) return false;
  switch (filter.status) {
    case 'all':
      return true;
    case 'running':
      return entry.status === null;
    case 'ok':
      return entry.status !== null && entry.status < 400 && entry.errorType === null;
    case 'error':
      return entry.status !== null && (entry.status >= 400 || entry.errorType !== null);
  }
}

export class LiveLogStore {
  readonly capacity: number;
  /** Insertion order = arrival order; a Map keeps it and finds an id in O(1). */
  readonly #entries = new Map<string, LogEntry>();
  /** Every model name seen (modelKey), for the filter's choices. */
  readonly models = new Set<string>();
  /** Requests seen since the window opened, evicted ones included. */
  seen = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): LogEntry | undefined {
    return this.#entries.get(id);
  }

  started(event: RequestStartedEvent): void {
    const entry = this.#entryFor(event.id, event.startedAt, event.route);
    entry.userAgent = event.userAgent;
    entry.version += 1;
  }

  progress(event: RequestProgressEvent): void {
    const entry = this.#entries.get(event.id) ?? this.#entryFor(event.id, Date.now(), event.route);
    if (entry.status !== null) return; // a late progress after the outcome changes nothing
    entry.requestedModel = event.requestedModel;
    entry.modelId = event.modelId;
    entry.stream = event.stream;
    entry.outputTokens = event.outputTokens;
    entry.timeToFirstTokenMs = event.timeToFirstTokenMs;
    this.#noteModels(entry);
    entry.version += 1;
  }

  finished(event: FinishedWithCost): void {
    const entry = this.#entries.get(event.id) ?? this.#entryFor(event.id, event.startedAt, event.route);
    entry.startedAt = event.startedAt;
    entry.userAgent = event.userAgent;
    entry.requestedModel = event.requestedModel;
    entry.modelId = event.modelId;
    entry.stream = event.stream;
    entry.status = event.status;
    entry.errorType = event.errorType;
    entry.latencyMs = event.latencyMs;
    entry.timeToFirstTokenMs = event.timeToFirstTokenMs;
    entry.usage = event.usage;
    entry.outputTokens = event.usage.outputTokens;
    entry.costUsd = event.costUsd ?? null;
    this.#noteModels(entry);
    entry.version += 1;
  }

  /** The newest `limit` entries that pass `filter`, newest first. */
  view(filter: LogFilter, limit: number): LogEntry[] {
    const all = [...this.#entries.values()];
    const result: LogEntry[] = [];
    for (let index = all.length - 1; index >= 0 && result.length < limit; index -= 1) {
      const entry = all[index]!;
      if (matches(entry, filter)) result.push(entry);
    }
    return result;
  }

  /** How many entries pass `filter` (the buffer's, not only the shown ones). */
  count(filter: LogFilter): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (matches(entry, filter)) count += 1;
    return count;
  }

  clear(): void {
    this.#entries.clear();
  }

  #entryFor(id: string, startedAt: number, route: string): LogEntry {
    const existing = this.#entries.get(id);
    if (existing) return existing;
    const entry: LogEntry = {
      id,
      startedAt,
      route,
      userAgent: null,
      requestedModel: null,
      modelId: null,
      stream: false,
      outputTokens: 0,
      timeToFirstTokenMs: null,
      status: null,
      errorType: null,
      latencyMs: null,
      usage: null,
      costUsd: null,
      version: 0,
    };
    this.#entries.set(id, entry);
    this.seen += 1;
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return entry;
  }

  #noteModels(entry: LogEntry): void {
    const name = modelKey(entry);
    if (name && this.models.size < MAX_MODEL_NAMES) this.models.add(name);
  }
}
