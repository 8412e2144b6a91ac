import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface RefreshingProviderOptions {
  /** Fetches fresh credentials. Should set `expiration`; credentials without one are kept until invalidate(). */
  fetch: () => Promise<AwsCredentialIdentity>;
  /** How long before expiry a refresh starts; default 5 minutes (capped at half the credentials' lifetime). */
  refreshAheadMs?: number;
  now?: () => number;
  /** Called after every successful fetch. */
  onRefresh?: (credentials: AwsCredentialIdentity) => void;
  /** Called when a background (early) refresh fails; the current credentials keep being served. */
  onBackgroundError?: (error: unknown) => void;
}

export interface RefreshingProvider {
  /** Give this to the SDK clients. */
  readonly provider: AwsCredentialIdentityProvider;
  /** The credentials in memory, if any (may be past their refresh point). */
  current(): AwsCredentialIdentity | null;
  /** Forces the next call to fetch (e.g. after a new sign-in or a sign-out). */
  invalidate(): void;
  /** Number of successful fetches so far. */
  readonly refreshCount: number;
}

const FIVE_MINUTES = 5 * 60_000;

/**
 * An in-memory credential cache with these guarantees, whatever the SDK's own memoizing does:
 * - credentials are refreshed at least `refreshAheadMs` (default 5 min) before they expire,
 *   or at half their lifetime if they live shorter than twice that;
 * - only one fetch runs at a time, however many callers wait;
 * - while the current credentials are still valid, an early refresh runs in the background and
 *   its failure never fails a caller; callers keep getting the current credentials;
 * - only when no valid credentials remain does a caller wait for (and see the error of) a fetch;
 * - `{ forceRefresh: true }` (the SDK's flag; the audit sync sends it after a 401) fetches at once
 *   even while the cached credentials look fresh, sharing a fetch already in flight; its failure
 *   fails only the forced callers and leaves the cached credentials in place.
 * Every credential it returns carries `expiration` when the source had one, so the SDK keeps
 * asking (a credential without expiration is treated by the SDK as constant forever).
 */
export function createRefreshingProvider(options: RefreshingProviderOptions): RefreshingProvider {
  const now = options.now ?? Date.now;
  const refreshAhead = options.refreshAheadMs ?? FIVE_MINUTES;
  let cached: AwsCredentialIdentity | null = null;
  let refreshAt = 0;
  let usableUntil = 0;
  let lifetime = 0;
  let inflight: Promise<AwsCredentialIdentity> | null = null;
  let lastBackgroundFailure = 0;
  let generation = 0;
  let refreshCount = 0;

  const fetchOnce = (): Promise<AwsCredentialIdentity> => {
    if (inflight) return inflight;
    const startedGeneration = generation;
    const started = now();
    const attempt = (async () => {
      const fresh = await options.fetch();
      if (startedGeneration !== generation) return fresh; // invalidated meanwhile: do not cache
      cached = fresh;
      refreshCount += 1;
      lastBackgroundFailure = 0;
      if (fresh.expiration) {
        const expiresAt = fresh.expiration.getTime();
        lifetime = Math.max(0, expiresAt - started);
        refreshAt = expiresAt - Math.min(refreshAhead, lifetime / 2);
        // Credentials this close to expiry are not handed out: a request signed now could arrive late.
        usableUntil = expiresAt - Math.min(30_000, lifetime / 4);
      } else {
        refreshAt = Number.POSITIVE_INFINITY;
        usableUntil = Number.POSITIVE_INFINITY;
      }
      options.onRefresh?.(fresh);
      return fresh;
    })();
    inflight = attempt;
    attempt.then(
      () => {
        if (inflight === attempt) inflight = null;
      },
      () => {
        if (inflight === attempt) inflight = null;
      },
    );
    return attempt;
  };

  const provider: AwsCredentialIdentityProvider = async (properties?: { forceRefresh?: boolean }) => {
    // The caller saw these credentials refused (e.g. revoked before their expiry): the cache's idea of fresh is wrong.
    if (properties?.forceRefresh) return fetchOnce();
    const t = now();
    if (cached && t < refreshAt) return cached;
    if (cached && t < usableUntil) {
      const backoff = Math.max(100, Math.min(30_000, lifetime / 20));
      if (!inflight && t - lastBackgroundFailure >= backoff) {
        fetchOnce().catch((error: unknown) => {
          lastBackgroundFailure = now();
          options.onBackgroundError?.(error);
        });
      }
      return cached;
    }
    return fetchOnce();
  };

  return {
    provider,
    current: () => cached,
    invalidate: () => {
      generation += 1;
      cached = null;
      inflight = null;
      refreshAt = 0;
      usableUntil = 0;
    },
    get refreshCount() {
      return refreshCount;
    },
  };
}
