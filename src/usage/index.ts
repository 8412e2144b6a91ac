import { arch, platform } from 'node:os';
import type { RequestEventBus, RequestFinishedEvent } from '../core/request-events.ts';
import { UsageAggregates } from './aggregates.ts';
import { AuditSync, type AuditClientInfo, type SyncStatus, type UsageCredentialSource } from './audit-sync.ts';
import { UsageLedger, type LedgerDurability } from './ledger.ts';
import { loadPriceTable, type PriceOverrides, type PriceTable } from './pricing.ts';
import { usageRecordFromEvent, type IdentitySourceKind, type RecordIdentity } from './usage-record.ts';

export { UsageAggregates, type UsageRow, type UsageTotals, type UsageGrouping, type UsagePeriod, type UsageQuery } from './aggregates.ts';
export { AuditSync, parseRetryAfter, type SyncStatus, type SyncRunResult, type UsageCredentialSource, type AuditClientInfo } from './audit-sync.ts';
export { UsageLedger, openLedger, LEDGER_FILE_NAME, LEDGER_SCHEMA_VERSION, type LedgerOptions, type RejectedRecord } from './ledger.ts';
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
  /** Records one event (the bus subscription calls this; exposed for tests). */
  handle(event: RequestFinishedEvent): void;
  /** Unsubscribes, flushes the ledger, makes one last bounded sync attempt (default 3 s), closes. */
  close(options?: { syncTimeoutMs?: number }): Promise<void>;
}

const PRUNE_INTERVAL_MS = 6 * 60 * 60_000;

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

  const refreshIdentity = (): Promise<void> => {
    if (!source) return Promise.resolve();
    lastIdentityLookupAt = Date.now();
    identityLookup ??= source
      .identity()
      .then((found) => {
        identity = { user: found?.user ?? null, source: found?.source ?? source.kind };
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
    // Identity is looked up off the hot path; a record made before the first lookup ends carries the source only.
    if (identity.user === null && source && identityLookup === null && Date.now() - lastIdentityLookupAt > 30_000) void refreshIdentity();
    const cost = prices.cost(event.modelId, event.region, event.usage);
    ledger.record(usageRecordFromEvent(event, identity, cost));
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
            reason: !options.usageEndpoint ? 'No audit endpoint is configured' : 'Not signed in',
            pending: ledger.closed ? 0 : ledger.pendingCount() + ledger.buffered,
            rejected: ledger.closed ? 0 : ledger.rejectedCount(),
          };
      return { ledgerPath: ledger.path, identity: { ...identity }, droppedRecords: ledger.dropped, lastLedgerError, sync: syncStatus };
    },
    async signedIn() {
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
