/**
 * Requests per caller per minute, in one replica's memory (a fixed window). Behind a load balancer
 * with N replicas a caller gets up to N times the limit; it guards against a runaway client, not a
 * determined one.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = 0;
  #counts = new Map<string, number>();

  constructor(limitPerWindow: number, options: { windowMs?: number; now?: () => number } = {}) {
    this.#limit = limitPerWindow;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** null when allowed; else the seconds until the caller may try again. */
  take(key: string): number | null {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#counts = new Map();
    }
    const used = this.#counts.get(key) ?? 0;
    if (used >= this.#limit) return Math.max(1, Math.ceil((this.#windowStart + this.#windowMs - now) / 1000));
    this.#counts.set(key, used + 1);
    return null;
  }
}
