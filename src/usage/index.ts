import { arch, platform } from 'node:os';
import { isInferenceRoute, type RequestEventBus, type RequestFinishedEvent } from '../core/request-events.ts';
import { UsageAggregates } from './aggregates.ts';
import { AuditSync, STATUS_REJECTED_LIMIT, type AuditClientInfo, type SyncStatus, type UsageCredentialSource } from './audit-sync.ts';
import { UsageLedger, type LedgerDurability, type RejectedRecord } from './ledger.ts';
import { loadPriceTable, type PriceOverrides, type PriceTable } from './pricing.ts';
import { usageRecordFromEvent, type IdentitySourceKind, type RecordIdentity } from './usage-record.ts';

export { UsageAggregates, type UsageRow, type UsageTotals, type UsageGrouping, type UsagePeriod, type UsageQuery } from './aggregates.ts';
export { AuditSync, parseRetryAfter, backoffDelay, STATUS_REJECTED_LIMIT, type SyncStatus, type SyncRunResult, type UsageCredentialSource, type AuditClientInfo } from './audit-sync.ts';
export { followSignIn, type SignInFollowingSource } from './follow-sign-in.ts';
export { UsageLedger, openLedger, readRejected, LEDGER_FILE_NAME, LEDGER_SCHEMA_VERSION, type LedgerOptions, type RejectedRecord } from './ledger.ts';
export { PriceTable, loadPriceTable, parseModelId, type PriceOverrides, type ModelPrice, type PriceEntry } from './pricing.ts';
export { usageRecordFromEvent, toWireRecord, isErrorRecord, type UsageRecord, type WireUsageRecord } from './usage-record.ts';
export { createIdentityProofHeader, resolveStsEndpoint, IDENTITY_HEADER, AUDIENCE_HEADER } from './identity-proof.ts';
export { usageSettingsSchema, type UsageSettings } from './settings.ts';

/** The part of src/credentials' CredentialSource the pipeline uses. */
export interface UsagePipelineSource extends UsageCredentialSource {
  identity(): Promise<{ user: string; source: IdentitySourceKind } | null>;
}

export interface UsagePipelineOptions {
  dataDir: string;
  events: RequestEventBus;
  /** The active credential source; null/undefined records usage without an identity and does not sync. */
  source?: UsagePipelineSource | null;
  /** The org's audit endpoint (org-gateway well-known `usage_endpoint`, or settings). No endpoint: no sync. */
  usageEndpoint?: string | null;
  /** The Bedrock region (also the identity proof's STS region unless stsRegion is given). */
  region: string;
  stsRegion?: string;
  stsEndpoint?: string;
  /** Settings overrides of the bundled price table. */
  prices?: PriceOverrides;
  /** Synced records older than this are pruned. Default 90. */
  retentionDays?: number;
  syncIntervalMs?: number;
  syncDebounceMs?: number;
  syncBackoffBaseMs?: number;
  syncBackoffCapMs?: number;
  syncRequestTimeoutMs?: number;
  durability?: LedgerDurability;
  flushDelayMs?: number;
  /** App name/version sent as the POST's `client` object. */
  clientName?: string;
  clientVersion?: string;
  fetch?: typeof fetch;
}

export interface DisabledSyncStatus {
  enabled: false;
  reason: string;
  pending: number;
  rejected: number;
  rejectedRecords: RejectedRecord[];
}

export interface UsagePipelineStatus {
  ledgerPath: string;
  identity: RecordIdentity;
  /** Records dropped because the disk refused writes (0 normally). */
  droppedRecords: number;
  lastLedgerError: string | null;
  sync: SyncStatus | DisabledSyncStatus;
}

export interface UsagePipeline {
  ledger: UsageLedger;
  aggregates: UsageAggregates;
  prices: PriceTable;
  /** Null when there is no usage endpoint or no credential source. */
  sync: AuditSync | null;
  status(): UsagePipelineStatus;
  /** Call after a sign-in (or account switch): re-reads the identity and syncs at once. */
  signedIn(): Promise<void>;
  /** Records one event of an inference route, ignores the rest (the bus subscription calls this; exposed for tests). */
  handle(event: RequestFinishedEvent): void;
  /** Unsubscribes, flushes the ledger, makes one last bounded sync attempt (default 3 s), closes. */
  close(options?: { syncTimeoutMs?: number }): Promise<void>;
}

const PRUNE_INTERVAL_MS = 6 * 60 * 60_000;
/** Records made before the identity is known that are remembered for attribution; beyond it they keep user null. */
const MAX_UNATTRIBUTED = 10_000;

/**
 * Subscribes the ledger to the gateway's request events, stamps identity and cost, and runs the
 * audit sync. This is what `serve` and the Electron main call once at start.
 */
export function startUsagePipeline(options: UsagePipelineOptions): UsagePipeline {
  const ledger = new UsageLedger({
    dataDir: options.dataDir,
    retentionDays: options.retentionDays ?? 90,
    ...(options.durability ? { durability: options.durability } : {}),
    ...(options.flushDelayMs !== undefined ? { flushDelayMs: options.flushDelayMs } : {}),
  });
  const aggregates = new UsageAggregates(ledger);
  const prices = loadPriceTable(options.prices ?? {});
  const source = options.source ?? null;
  let identity: RecordIdentity = { user: null, source: source?.kind ?? null };
  let identityLookup: Promise<void> | null = null;
  let lastIdentityLookupAt = 0;
  let lastLedgerError: string | null = null;
  /** This run's records made while the identity was unknown: they carry it once the lookup finds it. */
  let unattributed: string[] = [];

  const attribute = async (ids: string[], known: { user: string; source: IdentitySourceKind | null }): Promise<void> => {
    try {
      await ledger.flush();
      ledger.attribute(ids, known);
    } catch {
      // a ledger that cannot be written keeps them unattributed; the audit endpoint still knows the sender
    }
  };

  const refreshIdentity = (): Promise<void> => {
    if (!source) return Promise.resolve();
    lastIdentityLookupAt = Date.now();
    identityLookup ??= source
      .identity()
      .then((found) => {
        identity = { user: found?.user ?? null, source: found?.source ?? source.kind };
        if (identity.user !== null && unattributed.length > 0) {
          const ids = unattributed;
          unattributed = [];
          void attribute(ids, { user: identity.user, source: identity.source });
        }
      })
      .catch(() => {})
      .finally(() => {
        identityLookup = null;
      });
    return identityLookup;
  };

  const sync =
    source && options.usageEndpoint
      ? new AuditSync({
          ledger,
          endpoint: options.usageEndpoint,
          source,
          region: options.stsRegion ?? options.region,
          ...(options.stsEndpoint ? { stsEndpoint: options.stsEndpoint } : {}),
          ...(options.syncIntervalMs !== undefined ? { intervalMs: options.syncIntervalMs } : {}),
          ...(options.syncDebounceMs !== undefined ? { debounceMs: options.syncDebounceMs } : {}),
          ...(options.syncBackoffBaseMs !== undefined ? { backoffBaseMs: options.syncBackoffBaseMs } : {}),
          ...(options.syncBackoffCapMs !== undefined ? { backoffCapMs: options.syncBackoffCapMs } : {}),
          ...(options.syncRequestTimeoutMs !== undefined ? { requestTimeoutMs: options.syncRequestTimeoutMs } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
          client: (): AuditClientInfo => ({
            name: options.clientName ?? 'bedrock-bridge',
            version: options.clientVersion ?? '0.0.0',
            platform: `${platform()}-${arch()}`,
            source: source.kind,
            user: identity.user,
          }),
        })
      : null;

  ledger.on('committed', () => sync?.notify());
  ledger.on('flush-error', (error) => {
    lastLedgerError = `Could not write the usage ledger: ${error.message}`;
  });

  const handle = (event: RequestFinishedEvent): void => {
    // Records answer "who spent what": editors poll /v1/models, and zero-token rows for it (or for
    // unknown paths) would flood the ledger and the audit endpoint. Inference routes are recorded
    // whatever their status, guard rejections included.
    if (!isInferenceRoute(event.route)) return;
    // Identity is looked up off the hot path; a record made before the first lookup ends carries the source only.
    if (identity.user === null && source && identityLookup === null && Date.now() - lastIdentityLookupAt > 30_000) void refreshIdentity();
    // No resolved model means Bedrock was never called (a guard rejection, an unknown model): that
    // cost is known to be 0, not an unpriced request.
    const cost = event.modelId === null ? 0 : prices.cost(event.modelId, event.region, event.usage, event.effectiveModelId);
    const record = usageRecordFromEvent(event, identity, cost);
    ledger.record(record);
    if (record.user === null && source && unattributed.length < MAX_UNATTRIBUTED) unattributed.push(record.id);
  };
  options.events.on('request-finished', handle);

  void refreshIdentity();
  try {
    ledger.prune();
  } catch {
    // pruning is housekeeping; a busy database can wait for the next round
  }
  const pruneTimer = setInterval(() => {
    try {
      ledger.prune();
    } catch {
      // as above
    }
  }, PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  sync?.start();

  let closing: Promise<void> | null = null;
  return {
    ledger,
    aggregates,
    prices,
    sync,
    handle,
    status() {
      const syncStatus: SyncStatus | DisabledSyncStatus = sync
        ? sync.status()
        : {
            enabled: false,
            reason: !options.usageEndpoint ? 'no audit endpoint is configured' : 'not signed in',
            pending: ledger.closed ? 0 : ledger.pendingCount() + ledger.buffered,
            rejected: ledger.closed ? 0 : ledger.rejectedCount(),
            rejectedRecords: ledger.closed ? [] : ledger.rejected(STATUS_REJECTED_LIMIT),
          };
      return { ledgerPath: ledger.path, identity: { ...identity }, droppedRecords: ledger.dropped, lastLedgerError, sync: syncStatus };
    },
    async signedIn() {
      // Records from before this sign-in may be another session's: only the new identity's lookup
      // (not one already under way with the old credentials) decides who signed in.
      unattributed = [];
      await identityLookup;
      lastIdentityLookupAt = 0;
      await refreshIdentity();
      if (sync) await sync.syncNow({ force: true });
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        options.events.off('request-finished', handle);
        clearInterval(pruneTimer);
        try {
          ledger.flushSync();
        } catch (error) {
          lastLedgerError = `Could not write the usage ledger: ${(error as Error).message}`;
        }
        if (sync) await sync.stop({ drainTimeoutMs: closeOptions.syncTimeoutMs ?? 3_000 });
        ledger.close();
      })();
      return closing;
    },
  };
}
