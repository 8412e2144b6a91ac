import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuditCollector, type RunningAuditCollector, type StartAuditCollectorOptions } from '../../src/emulator/audit-collector.ts';
import { AuditSync, type AuditSyncOptions, type UsageCredentialSource } from '../../src/usage/audit-sync.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { toWireRecord, type UsageRecord } from '../../src/usage/usage-record.ts';
import prices from '../../src/usage/prices.json' with { type: 'json' };
import { makeRecord } from './fixtures/records.ts';

export interface SyncHarness {
  dir: string;
  ledger: UsageLedger;
  collector: RunningAuditCollector;
  sync: AuditSync;
  records: UsageRecord[];
  /** Ids of each POST the sync made, in order (captured from the request body). */
  posts: string[][];
  postTimes: number[];
  close(): Promise<void>;
}

export function bearerSource(token = 'tok-good'): UsageCredentialSource & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    kind: 'org-gateway',
    credentials: async () => {
      throw new Error('not used in org-gateway mode');
    },
    calls,
    async bearerToken(options?: { forceRefresh?: boolean }) {
      calls.push(options);
      return token;
    },
  };
}

export async function createSyncHarness(
  options: {
    count?: number;
    collector?: StartAuditCollectorOptions;
    sync?: Partial<AuditSyncOptions>;
    records?: (i: number) => Partial<UsageRecord>;
  } = {},
): Promise<SyncHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'bb-sync-'));
  const ledger = new UsageLedger({ dataDir: join(dir, 'app') });
  const base = Date.now() - 3 * 86_400_000; // offline for days
  const records = Array.from({ length: options.count ?? 1234 }, (_, i) => makeRecord(i, options.records?.(i) ?? {}, base + i * 1000));
  // Committed out of order: the sync must still deliver in id order.
  for (const record of [...records].reverse()) ledger.record(record);
  ledger.flushSync();
  const collector = await startAuditCollector({
    databasePath: join(dir, 'collector.sqlite'),
    bearerVerifier: (token) => (token === 'tok-good' ? 'alice@example.com' : null),
    ...options.collector,
  });
  const posts: string[][] = [];
  const postTimes: number[] = [];
  const sync = new AuditSync({
    ledger,
    endpoint: collector.usageUrl,
    source: bearerSource(),
    region: 'us-east-1',
    intervalMs: 0,
    debounceMs: 10,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    requestTimeoutMs: 2_000,
    client: () => ({ name: 'bedrock-bridge', version: 'test' }),
    fetch: (input, init) => {
      posts.push((JSON.parse(String(init?.body)) as { records: { id: string }[] }).records.map((r) => r.id));
      postTimes.push(Date.now());
      return fetch(input, init);
    },
    ...options.sync,
  });
  return {
    dir,
    ledger,
    collector,
    sync,
    records,
    posts,
    postTimes,
    async close() {
      await sync.stop();
      ledger.close();
      await collector.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(condition: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every expected record is stored at the collector exactly once by id, with the content the ledger holds. */
export function assertExactlyOnce(collector: { records(): { id: string; record: unknown }[] }, expected: UsageRecord[]): void {
  const stored = collector.records();
  const ids = stored.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique at the collector');
  assert.deepEqual(ids, expected.map((r) => r.id).sort(), 'the collector holds exactly the expected ids');
  const byId = new Map(stored.map((r) => [r.id, r.record]));
  for (const record of expected) assert.deepEqual(byId.get(record.id), toWireRecord(record));
}

/**
 * The expected cost of a request worked out from prices.json's raw numbers, not through PriceTable
 * (the code under test): USD per million tokens of the base model, times its geoPremium unless the
 * id is a global profile. Null when the model, or a cache rate the tokens need, is not listed.
 */
export function costFromPriceFile(modelId: string, tokens: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }): number | null {
  const prefix = /^(us|eu|apac|jp|au|ca|us-gov|global)\./.exec(modelId)?.[1] ?? null;
  const base = prefix ? modelId.slice(prefix.length + 1) : modelId;
  const entry = (prices.models as Record<string, { input: number; output: number; cacheRead?: number | null; cacheWrite?: number | null; geoPremium?: number }>)[base];
  if (!entry) return null;
  if ((tokens.cacheReadTokens > 0 && typeof entry.cacheRead !== 'number') || (tokens.cacheWriteTokens > 0 && typeof entry.cacheWrite !== 'number')) return null;
  const perMillion =
    tokens.inputTokens * entry.input + tokens.outputTokens * entry.output + tokens.cacheReadTokens * (entry.cacheRead ?? 0) + tokens.cacheWriteTokens * (entry.cacheWrite ?? 0);
  return (perMillion * (prefix !== 'global' && entry.geoPremium ? entry.geoPremium : 1)) / 1_000_000;
}

/** Costs agree to well below a cent's billionth (the ledger rounds to 1e-10 USD). */
export function assertCost(actual: number | null, expected: number | null, message?: string): void {
  if (expected === null || actual === null) return assert.equal(actual, expected, message);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? 'cost'}: ${actual} != ${expected}`);
}
