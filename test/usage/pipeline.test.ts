import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newRequestId } from '../../src/core/ids.ts';
import { RequestEventBus, type RequestFinishedEvent } from '../../src/core/request-events.ts';
import { startAuditCollector } from '../../src/emulator/audit-collector.ts';
import { startUsagePipeline } from '../../src/usage/index.ts';
import { waitFor } from './support.ts';

function event(n: number, overrides: Partial<RequestFinishedEvent> = {}): RequestFinishedEvent {
  const startedAt = Date.now();
  return {
    id: newRequestId(startedAt),
    startedAt,
    endedAt: startedAt + 50,
    route: '/v1/chat/completions',
    requestedModel: 'gpt-4o',
    modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    region: 'us-east-1',
    stream: false,
    status: 200,
    errorType: null,
    usage: { inputTokens: 1000 + n, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0 },
    latencyMs: 50,
    timeToFirstTokenMs: null,
    userAgent: 'OpenAI/JS 5.0.0',
    ...overrides,
  };
}

test('pipeline without an endpoint: records with identity and cost, status says why sync is off, close flushes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-pipe-'));
  const events = new RequestEventBus();
  const pipeline = startUsagePipeline({
    dataDir: dir,
    events,
    region: 'us-east-1',
    source: { kind: 'identity-center', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), identity: async () => ({ user: 'alice', source: 'identity-center' }) },
    prices: { 'mystery.model': { input: 1, output: 1 } },
  });
  try {
    await waitFor(() => pipeline.status().identity.user === 'alice', 5_000, 'identity');
    const e1 = event(1);
    const e2 = event(2, { modelId: 'unknown.model', status: 500, errorType: 'api_error' });
    const e3 = event(3, { modelId: 'mystery.model' });
    for (const e of [e1, e2, e3]) events.emit('request-finished', e);
    await pipeline.ledger.flush();
    const r1 = pipeline.ledger.get(e1.id)!;
    assert.equal(r1.user, 'alice');
    assert.equal(r1.identitySource, 'identity-center');
    assert.equal(r1.costUsd, pipeline.prices.cost(e1.modelId, 'us-east-1', e1.usage));
    assert.ok(r1.costUsd! > 0);
    assert.equal(pipeline.ledger.get(e2.id)!.costUsd, null);
    assert.equal(pipeline.ledger.get(e3.id)!.costUsd, (1003 + 200) / 1e6);
    const totals = pipeline.aggregates.totals();
    assert.equal(totals.requests, 3);
    assert.equal(totals.errors, 1);
    assert.equal(totals.unpricedRequests, 1);
    const status = pipeline.status();
    assert.equal(pipeline.sync, null);
    assert.deepEqual(status.sync, { enabled: false, reason: 'No audit endpoint is configured', pending: 3, rejected: 0 });
    assert.equal(status.identity.user, 'alice');
    events.emit('request-finished', event(4));
  } finally {
    await pipeline.close();
  }
  assert.equal(events.listenerCount('request-finished'), 0, 'unsubscribed');
  rmSync(dir, { recursive: true, force: true });
});

test('pipeline with an endpoint: syncs soon after new records; signedIn() syncs at once; close drains', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-pipe-'));
  const collector = await startAuditCollector({ databasePath: join(dir, 'c.sqlite'), bearerVerifier: (t) => (t === 'tok' ? 'bob' : null) });
  const events = new RequestEventBus();
  const pipeline = startUsagePipeline({
    dataDir: join(dir, 'app'),
    events,
    region: 'us-east-1',
    usageEndpoint: collector.usageUrl,
    source: { kind: 'org-gateway', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), identity: async () => ({ user: 'bob', source: 'org-gateway' }), bearerToken: async () => 'tok' },
    syncDebounceMs: 50,
  });
  try {
    await waitFor(() => pipeline.status().identity.user === 'bob', 5_000, 'identity');
    for (let i = 0; i < 10; i++) events.emit('request-finished', event(i));
    await waitFor(() => collector.records().length === 10, 10_000, 'debounced sync');
    const status = pipeline.status().sync;
    assert.ok(status.enabled);
    await waitFor(() => pipeline.status().sync.pending === 0, 5_000, 'pending 0');
    collector.faults.queue.push({ kind: 'status', status: 503 });
    for (let i = 0; i < 5; i++) events.emit('request-finished', event(100 + i));
    await waitFor(() => collector.stats().byStatus['503'] === 1, 10_000, 'a failed attempt');
    await pipeline.signedIn();
    assert.equal(collector.records().length, 15);
    assert.equal(collector.records()[0]!.record.user, 'bob');
    for (let i = 0; i < 3; i++) events.emit('request-finished', event(200 + i));
    await pipeline.close({ syncTimeoutMs: 3_000 });
    assert.equal(collector.records().length, 18, 'close() flushed and made a last sync');
  } finally {
    await pipeline.close();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// The credentials module's CredentialSource is accepted as the pipeline's source as it is.
import type { CredentialSource } from '../../src/credentials/credential-source.ts';
import type { UsagePipelineSource } from '../../src/usage/index.ts';
export const sourceIsCompatible: (source: CredentialSource) => UsagePipelineSource = (source) => source;
