import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createIdentityProofHeader, IDENTITY_HEADER, resolveStsEndpoint } from './identity-proof.ts';
import type { RejectedRecord, UsageLedger } from './ledger.ts';
import { toWireRecord, type IdentitySourceKind, type UsageRecord } from './usage-record.ts';
import { errorBodyReason } from '../core/error-body-reason.ts';

/** The part of src/credentials' CredentialSource the sync needs. */
export interface UsageCredentialSource {
  readonly kind: IdentitySourceKind;
  readonly credentials: AwsCredentialIdentityProvider;
  bearerToken?(options?: { forceRefresh?: boolean }): Promise<string>;
}

/** The `client` object of each POST: who is sending (no secrets). */
export interface AuditClientInfo {
  name: string;
  version: string;
  platform?: string;
  source?: IdentitySourceKind;
  user?: string | null;
  [key: string]: unknown;
}

export interface AuditSyncOptions {
  ledger: UsageLedger;
  /** The org's usage endpoint (from the org gateway's well-known document, or settings). */
  endpoint: string;
  source: UsageCredentialSource;
  /** Region for the identity proof's SigV4 scope (the STS endpoint's region). */
  region: string;
  /** Defaults to AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, then https://sts.<region>.amazonaws.com. */
  stsEndpoint?: string;
  client?: () => AuditClientInfo;
  /** Records per POST, at most 500 (the contract's limit). */
  batchSize?: number;
  /** Periodic sync. Default 5 minutes. 0 disables the timer. */
  intervalMs?: number;
  /** Delay after new records before a sync. Default 2 s. */
  debounceMs?: number;
  /** Per-request timeout. Default 15 s. */
  requestTimeoutMs?: number;
  /** Full-jitter exponential backoff: random(0, min(cap, base * 2^(failures-1))). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A Retry-After beyond this is clamped. Default 1 h. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
}

export type SyncState = 'idle' | 'syncing' | 'waiting' | 'stopped';

export interface SyncStatus {
  enabled: true;
  endpoint: string;
  state: SyncState;
  /** Epoch ms of the last POST the endpoint answered with 200. */
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  /** Records not yet accepted (committed and still buffered). */
  pending: number;
  /** Records the endpoint rejected as invalid, set aside with their reason. */
  rejected: number;
  /** The most recent of them (newest first, at most STATUS_REJECTED_LIMIT) with the endpoint's reason. */
  rejectedRecords: RejectedRecord[];
  /** The last failure, without secrets; null after a success. */
  lastError: string | null;
  consecutiveFailures: number;
  /** When the next retry is due, while waiting after a failure. */
  nextAttemptAt: number | null;
  /** Records delivered since start (accepted by the endpoint). */
  delivered: number;
}

export interface SyncRunResult {
  ok: boolean;
  accepted: number;
  rejected: number;
  /** Requests made (including retried auth). */
  requests: number;
  error: string | null;
}

const MAX_BATCH = 500;
/** How many rejected records the status carries: enough for the window to show, bounded however many there are. */
export const STATUS_REJECTED_LIMIT = 10;
/**
 * Whole-batch refusals that are about what we sent, not about the endpoint's health: 413 (the body is
 * too large: send halves) and 400/422 (something in it is unacceptable: bisect to the record). Retrying
 * the same batch would block the queue behind it forever.
 */
const BATCH_REFUSALS: ReadonlySet<number> = new Set([400, 413, 422]);
/** The endpoint's reason as stored with a set-aside record; longer texts are cut. */

class SyncHttpError extends Error {
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  /** The endpoint's own explanation of a batch refusal (kept with a record it sets aside; never in lastError). */
  readonly reason: string | null;
  constructor(message: string, status: number | null, retryAfterMs: number | null = null, reason: string | null = null) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.reason = reason;
  }
}

/**
 * Full-jitter exponential backoff after `failures` consecutive failures (>= 1):
 * a uniform draw in [0, min(cap, base * 2^(failures-1))).
 */
export function backoffDelay(failures: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.floor(random() * ceiling);
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unparsable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/** What one run carries between the batches it delivers. */
interface RunState {
  result: SyncRunResult;
  /** Ids the endpoint answered for neither way: still pending, retried after a short delay. */
  unanswered: number;
  /** Whether a POST without records is taken; asked once per run, when a batch is refused as a whole. */
  emptyBatchAccepted: boolean | null;
}

interface EndpointAnswer {
  accepted: string[];
  rejected: { id: string; reason: string }[];
}

function parseAnswer(value: unknown): EndpointAnswer | null {
  if (!value || typeof value !== 'object') return null;
  const { accepted, rejected } = value as Record<string, unknown>;
  if (!Array.isArray(accepted) || !accepted.every((id) => typeof id === 'string')) return null;
  const rejections: { id: string; reason: string }[] = [];
  if (rejected !== undefined) {
    if (!Array.isArray(rejected)) return null;
    for (const entry of rejected) {
      if (!entry || typeof entry !== 'object' || typeof (entry as { id?: unknown }).id !== 'string') return null;
      const reason = (entry as { reason?: unknown }).reason;
      rejections.push({ id: (entry as { id: string }).id, reason: typeof reason === 'string' ? reason : 'rejected' });
    }
  }
  return { accepted: accepted as string[], rejected: rejections };
}

/** A short, secret-free description of a failure. */
function describe(error: unknown): string {
  if (error instanceof SyncHttpError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'The audit endpoint did not answer in time';
    if (error.name === 'AbortError') return 'Sync aborted';
    if (error.name === 'SignInRequiredError') return 'Sign-in required before usage can be sent';
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code) return `Cannot reach the audit endpoint (${cause.code})`;
    return `Sync failed: ${error.name}`;
  }
  return 'Sync failed';
}

/**
 * Delivers unsynced ledger records to the org's audit endpoint in id order, in batches, marking
 * synced exactly the ids the endpoint accepted. One run at a time; never loads more than a batch.
 */
export class AuditSync {
  readonly endpoint: string;
  readonly #ledger: UsageLedger;
  readonly #source: UsageCredentialSource;
  readonly #region: string;
  readonly #stsEndpoint: string;
  readonly #client: () => AuditClientInfo;
  /** Records per POST; lowered for good when the endpoint answers 413 (its body limit is below ours). */
  #batchSize: number;
  readonly #intervalMs: number;
  readonly #debounceMs: number;
  readonly #requestTimeoutMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffCapMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;

  #state: SyncState = 'idle';
  #running: Promise<SyncRunResult> | null = null;
  #again = false;
  #interval: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #abort = new AbortController();
  #stopped = false;
  #lastSuccessAt: number | null = null;
  #lastAttemptAt: number | null = null;
  #lastError: string | null = null;
  #failures = 0;
  #nextAttemptAt: number | null = null;
  /** While a Retry-After is in force, no request is made before this time, even at quit. */
  #notBefore = 0;
  #delivered = 0;
  #requests = 0;

  constructor(options: AuditSyncOptions) {
    this.endpoint = options.endpoint;
    this.#ledger = options.ledger;
    this.#source = options.source;
    this.#region = options.region;
    this.#stsEndpoint = options.stsEndpoint ?? resolveStsEndpoint(options.region);
    this.#client = options.client ?? (() => ({ name: 'bedrock-bridge', version: '0.0.0' }));
    this.#batchSize = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? MAX_BATCH));
    this.#intervalMs = options.intervalMs ?? 5 * 60_000;
    this.#debounceMs = options.debounceMs ?? 2_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.#backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.#backoffCapMs = options.backoffCapMs ?? 5 * 60_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 60 * 60_000;
    this.#fetch = options.fetch ?? fetch;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the periodic timer and syncs soon. */
  start(): void {
    if (this.#stopped) return;
    if (this.#intervalMs > 0 && this.#interval === null) {
      this.#interval = setInterval(() => this.#trigger(false), this.#intervalMs);
      this.#interval.unref();
    }
    this.#trigger(false);
  }

  /** New records were committed: sync after the debounce delay (unless backing off). */
  notify(): void {
    if (this.#stopped || this.#debounce !== null) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.#trigger(false);
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  #trigger(force: boolean): void {
    if (this.#stopped) return;
    if (!force && this.#retry !== null) return; // a backoff is in progress; its timer will run
    void this.syncNow({ force }).catch(() => {});
  }

  /**
   * Runs a sync now (sign-in, the window's "sync now", tests). `force` ignores our own backoff
   * (a Retry-After the endpoint asked for is always honoured). Resolves when the run ends.
   */
  syncNow(options: { force?: boolean } = {}): Promise<SyncRunResult> {
    if (this.#stopped) return Promise.resolve({ ok: false, accepted: 0, rejected: 0, requests: 0, error: 'stopped' });
    if (this.#running) {
      // A forced sync (sign-in, quit) must not be absorbed by a run that may be failing: run again after it.
      if (options.force) return this.#running.then(() => this.syncNow({ force: true }));
      this.#again = true;
      return this.#running;
    }
    if (options.force && this.#retry !== null) {
      clearTimeout(this.#retry);
      this.#retry = null;
      this.#nextAttemptAt = null;
    }
    const run = this.#run().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped && this.#retry === null) {
        this.#again = false;
        this.#trigger(false);
      }
    });
    this.#running = run;
    return run;
  }

  async #run(): Promise<SyncRunResult> {
    const result: SyncRunResult = { ok: true, accepted: 0, rejected: 0, requests: 0, error: null };
    const wait = this.#notBefore - Date.now();
    if (wait > 0) {
      this.#scheduleRetry(wait);
      return { ...result, ok: false, error: this.#lastError };
    }
    this.#state = 'syncing';
    const requestsBefore = this.#requests;
    const run: RunState = { result, unanswered: 0, emptyBatchAccepted: null };
    let cursor = '';
    try {
      for (;;) {
        if (this.#stopped && this.#abort.signal.aborted) break;
        const limit = this.#batchSize;
        const batch = this.#ledger.pendingBatch(limit, cursor);
        if (batch.length === 0) break;
        cursor = batch[batch.length - 1]!.id;
        await this.#deliver(batch, run);
        if (batch.length < limit) break;
      }
      this.#state = this.#stopped ? 'stopped' : 'idle';
      this.#nextAttemptAt = null;
      if (run.unanswered > 0 && !this.#stopped) this.#scheduleRetry(this.#backoffBaseMs + Math.floor(this.#random() * this.#backoffBaseMs));
      return result;
    } catch (error) {
      this.#failures++;
      this.#lastError = describe(error);
      result.ok = false;
      result.error = this.#lastError;
      let delay = backoffDelay(this.#failures, this.#backoffBaseMs, this.#backoffCapMs, this.#random);
      if (error instanceof SyncHttpError && error.retryAfterMs !== null) {
        const retryAfter = Math.min(error.retryAfterMs, this.#maxRetryAfterMs);
        this.#notBefore = Date.now() + retryAfter;
        delay = Math.max(delay, retryAfter);
      }
      if (this.#stopped) this.#state = 'stopped';
      else this.#scheduleRetry(delay);
      return result;
    } finally {
      result.requests = this.#requests - requestsBefore;
    }
  }

  /**
   * POSTs one batch and books the answer. A batch the endpoint refuses as a whole for what it holds
   * (BATCH_REFUSALS) is split until the records it takes are through and a record it refuses on its
   * own is set aside with the endpoint's reason; any other failure throws (backoff).
   */
  async #deliver(batch: UsageRecord[], run: RunState): Promise<void> {
    this.#lastAttemptAt = Date.now();
    let answer: EndpointAnswer;
    try {
      answer = await this.#post(batch.map(toWireRecord));
    } catch (error) {
      if (!(error instanceof SyncHttpError) || error.status === null || !BATCH_REFUSALS.has(error.status)) throw error;
      if (error.status === 413 && batch.length > 1) {
        // Its body limit is below this batch: from now on send at most half, in chunks of the size
        // learnt so far (a chunk that is still too large lowers it again for the chunks after it).
        this.#batchSize = Math.min(this.#batchSize, Math.ceil(batch.length / 2));
        for (let start = 0; start < batch.length; ) {
          const chunk = batch.slice(start, start + this.#batchSize);
          start += chunk.length;
          await this.#deliver(chunk, run);
        }
        return;
      }
      // Only blame a record once the endpoint has shown it takes our request without it: a refusal
      // of every request (our client object, a proxy, a broken endpoint) must not empty the queue.
      run.emptyBatchAccepted ??= await this.#acceptsEmptyBatch();
      if (!run.emptyBatchAccepted) throw error;
      if (batch.length === 1) {
        const reason = `${error.reason ?? 'refused'} (HTTP ${error.status})`;
        run.result.rejected += this.#ledger.markRejected([{ id: batch[0]!.id, reason }]);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#deliver(batch.slice(0, half), run);
      await this.#deliver(batch.slice(half), run);
      return;
    }
    const sent = new Set(batch.map((record) => record.id));
    const accepted = answer.accepted.filter((id) => sent.has(id));
    const acceptedIds = new Set(accepted);
    const rejected = answer.rejected.filter((entry) => sent.has(entry.id) && !acceptedIds.has(entry.id));
    this.#ledger.markSynced(accepted);
    if (rejected.length > 0) this.#ledger.markRejected(rejected);
    run.result.accepted += accepted.length;
    run.result.rejected += rejected.length;
    run.unanswered += batch.length - accepted.length - rejected.length;
    this.#delivered += accepted.length;
    this.#lastSuccessAt = Date.now();
    this.#lastError = null;
    this.#failures = 0;
  }

  /** Whether the endpoint takes a POST with no records; false when it refuses that too (BATCH_REFUSALS). */
  async #acceptsEmptyBatch(): Promise<boolean> {
    try {
      await this.#post([]);
      return true;
    } catch (error) {
      if (error instanceof SyncHttpError && error.status !== null && BATCH_REFUSALS.has(error.status)) return false;
      throw error;
    }
  }

  #scheduleRetry(delay: number): void {
    if (this.#stopped) return;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#state = 'waiting';
    this.#nextAttemptAt = Date.now() + delay;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#nextAttemptAt = null;
      this.#trigger(false);
    }, delay);
    this.#retry.unref();
  }

  async #authHeaders(renew: boolean): Promise<Record<string, string>> {
    const source = this.#source;
    if (source.kind === 'org-gateway' && source.bearerToken) {
      const token = await source.bearerToken(renew ? { forceRefresh: true } : undefined);
      return { authorization: `Bearer ${token}` };
    }
    const credentials: AwsCredentialIdentityProvider = renew ? () => source.credentials({ forceRefresh: true }) : source.credentials;
    const proof = await createIdentityProofHeader({
      credentials: await credentials(),
      audience: this.endpoint,
      stsEndpoint: this.#stsEndpoint,
      region: this.#region,
    });
    return { [IDENTITY_HEADER]: proof };
  }

  async #post(records: unknown[]): Promise<EndpointAnswer> {
    const client = this.#client();
    const body = JSON.stringify({ client, records });
    for (let attempt = 0; attempt < 2; attempt++) {
      const auth = await this.#authHeaders(attempt > 0);
      this.#requests++;
      // Our own timer (strongly held) rather than AbortSignal.timeout inside AbortSignal.any, whose
      // timeout signal can be garbage-collected before it fires. It also bounds reading the body.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DOMException('The audit endpoint did not answer in time', 'TimeoutError')), this.#requestTimeoutMs);
      const onStop = () => controller.abort(new DOMException('Sync stopped', 'AbortError'));
      if (this.#abort.signal.aborted) onStop();
      else this.#abort.signal.addEventListener('abort', onStop, { once: true });
      try {
        const response = await this.#fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': `${client.name}/${client.version}`, ...auth },
          body,
          signal: controller.signal,
        });
        if (response.status === 401 && attempt === 0) {
          await response.body?.cancel().catch(() => {});
          continue; // renew the token / credentials once, then retry
        }
        if (!response.ok) {
          const retryAfter = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : null;
          const reason = BATCH_REFUSALS.has(response.status) ? await errorBodyReason(response) : null;
          if (reason === null) await response.body?.cancel().catch(() => {});
          const what =
            response.status === 401
              ? 'The audit endpoint refused our credentials (401) after renewing them'
              : response.status === 403
                ? 'The audit endpoint refused this user (403)'
                : response.status === 429
                  ? 'The audit endpoint is throttling (429)'
                  : `The audit endpoint answered ${response.status}`;
          throw new SyncHttpError(what, response.status, retryAfter, reason);
        }
        let answer: EndpointAnswer | null = null;
        try {
          answer = parseAnswer(await response.json());
        } catch (error) {
          if (controller.signal.aborted) throw error;
          answer = null;
        }
        if (!answer) throw new SyncHttpError('The audit endpoint answered with an unexpected body', response.status);
        return answer;
      } finally {
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', onStop);
      }
    }
    throw new SyncHttpError('unreachable', null);
  }

  status(): SyncStatus {
    let pending = this.#ledger.buffered;
    let rejected = 0;
    let rejectedRecords: RejectedRecord[] = [];
    if (!this.#ledger.closed) {
      pending += this.#ledger.pendingCount();
      rejected = this.#ledger.rejectedCount();
      if (rejected > 0) rejectedRecords = this.#ledger.rejected(STATUS_REJECTED_LIMIT);
    }
    return {
      enabled: true,
      endpoint: this.endpoint,
      state: this.#state,
      lastSuccessAt: this.#lastSuccessAt,
      lastAttemptAt: this.#lastAttemptAt,
      pending,
      rejected,
      rejectedRecords,
      lastError: this.#lastError,
      consecutiveFailures: this.#failures,
      nextAttemptAt: this.#nextAttemptAt,
      delivered: this.#delivered,
    };
  }

  /**
   * Stops timers; with `drainTimeoutMs` > 0 first makes one last bounded attempt (at quit).
   * In-flight requests are aborted when the bound passes.
   */
  async stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return;
    for (const timer of [this.#interval, this.#debounce, this.#retry]) if (timer !== null) clearTimeout(timer);
    this.#interval = this.#debounce = this.#retry = null;
    const drain = options.drainTimeoutMs ?? 0;
    if (drain > 0) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, drain).unref());
      // Forced: a run already going may have read its last batch before the final records came in,
      // so this runs once more after it rather than settling for it.
      const attempt = this.syncNow({ force: true }).then(() => {});
      await Promise.race([attempt, timeout]);
    }
    this.#stopped = true;
    this.#state = 'stopped';
    this.#abort.abort();
    if (this.#running) await this.#running.catch(() => {});
  }
}
