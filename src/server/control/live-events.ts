import { isModelApiRoute, type RequestEventBus, type RequestFinishedEvent, type RequestProgressEvent, type RequestStartedEvent } from '../../core/request-events.ts';

export type LiveFinishedEvent = RequestFinishedEvent & { costUsd: number | null };

/** What one `requests` SSE event carries (docs/control-api.md). */
export interface RequestBatch {
  started: RequestStartedEvent[];
  /** The latest progress of each request within the batch. */
  progress: RequestProgressEvent[];
  finished: LiveFinishedEvent[];
  /** Entries left out because the batch was full. */
  dropped: number;
}

export interface RequestBatcherOptions {
  bus: RequestEventBus;
  /** The request's cost in USD, null when unpriced. */
  costOf: (event: RequestFinishedEvent) => number | null;
  intervalMs?: number;
  /** Most entries per list in one batch. */
  maxPerList?: number;
}

/**
 * Turns the request bus into ~10 batches a second for the live log, however many requests run: the
 * bus is subscribed only while somebody watches, a batch is bounded (the oldest entries beyond the bound
 * are counted, not kept), progress is coalesced per request, and costs are worked out only at flush.
 * Only model API requests (isModelApiRoute) are passed on.
 */
export class RequestBatcher {
  readonly #bus: RequestEventBus;
  readonly #costOf: RequestBatcherOptions['costOf'];
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #listeners = new Set<(batch: RequestBatch) => void>();
  #started: RequestStartedEvent[] = [];
  #progress = new Map<string, RequestProgressEvent>();
  #finished: RequestFinishedEvent[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: RequestBatcherOptions) {
    this.#bus = options.bus;
    this.#costOf = options.costOf;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#max = options.maxPerList ?? 500;
  }

  readonly #onStarted = (event: RequestStartedEvent): void => {
    if (!isModelApiRoute(event.route)) return;
    this.#push(this.#started, event);
  };

  readonly #onProgress = (event: RequestProgressEvent): void => {
    if (!isModelApiRoute(event.route)) return;
    if (this.#progress.size >= this.#max && !this.#progress.has(event.id)) {
      this.#dropped += 1;
      return;
    }
    this.#progress.set(event.id, event);
    this.#schedule();
  };

  readonly #onFinished = (event: RequestFinishedEvent): void => {
    if (!isModelApiRoute(event.route)) return;
    // Finished requests need no more progress in this batch.
    this.#progress.delete(event.id);
    this.#push(this.#finished, event);
  };

  #push<T>(list: T[], event: T): void {
    if (list.length >= this.#max) {
      list.shift();
      this.#dropped += 1;
    }
    list.push(event);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.#flush(), this.#intervalMs);
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = null;
    const batch: RequestBatch = {
      started: this.#started,
      progress: [...this.#progress.values()],
      finished: this.#finished.map((event) => ({ ...event, costUsd: this.#costOf(event) })),
      dropped: this.#dropped,
    };
    this.#started = [];
    this.#progress = new Map();
    this.#finished = [];
    this.#dropped = 0;
    for (const listener of this.#listeners) listener(batch);
  }

  /** Calls `listener` with each batch; returns the unsubscribe function. */
  subscribe(listener: (batch: RequestBatch) => void): () => void {
    if (this.#listeners.size === 0) {
      this.#bus.on('request-started', this.#onStarted);
      this.#bus.on('request-progress', this.#onProgress);
      this.#bus.on('request-finished', this.#onFinished);
    }
    this.#listeners.add(listener);
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#bus.off('request-started', this.#onStarted);
      this.#bus.off('request-progress', this.#onProgress);
      this.#bus.off('request-finished', this.#onFinished);
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#started = [];
      this.#progress = new Map();
      this.#finished = [];
      this.#dropped = 0;
    };
  }
}
