import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newRequestId } from '../../src/core/ids.ts';
import { RequestEventBus, type RequestFinishedEvent } from '../../src/core/request-events.ts';
import { SignInRequiredSignal } from '../../src/credentials/credential-source.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { startAuditCollector, type StartAuditCollectorOptions } from '../../src/emulator/audit-collector.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { decodeIdentityProof, IDENTITY_HEADER } from '../../src/usage/identity-proof.ts';
import { followSignIn, startUsagePipeline, type UsagePipeline, type UsagePipelineOptions } from '../../src/usage/index.ts';
import { assertCost, costFromPriceFile, waitFor } from './support.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(n: number, overrides: Partial<RequestFinishedEvent> = {}): RequestFinishedEvent {
  const startedAt = Date.now();
  const modelId = overrides.modelId !== undefined ? overrides.modelId : 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
  return {
    id: newRequestId(startedAt),
    startedAt,
    endedAt: startedAt + 50,
    route: '/v1/chat/completions',
    requestedModel: 'gpt-4o',
    modelId,
    effectiveModelId: modelId,
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
    // Haiku 4.5 through a us. profile: (1001 x $1 + 200 x $5) per million, times the 1.1 geographic premium.
    assertCost(r1.costUsd, 0.0022011, 'pinned');
    assertCost(r1.costUsd, costFromPriceFile(e1.modelId!, e1.usage), 'from prices.json');
    assert.equal(pipeline.ledger.get(e2.id)!.costUsd, null);
    assert.equal(pipeline.ledger.get(e3.id)!.costUsd, (1003 + 200) / 1e6);
    const totals = pipeline.aggregates.totals();
    assert.equal(totals.requests, 3);
    assert.equal(totals.errors, 1);
    assert.equal(totals.unpricedRequests, 1);
    const status = pipeline.status();
    assert.equal(pipeline.sync, null);
    assert.deepEqual(status.sync, { enabled: false, reason: 'no audit endpoint is configured', pending: 3, rejected: 0, rejectedRecords: [] });
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

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bb-pipe-'));
}

/** A data dir, an audit collector (bearer `tok-<user>` is <user>) and a request bus; start() adds the pipeline, close() ends all. */
async function endpointFixture(collectorOptions: StartAuditCollectorOptions = {}) {
  const dir = tempDir();
  const collector = await startAuditCollector({ databasePath: join(dir, 'c.sqlite'), bearerVerifier: (t) => /^tok-(\w+)$/.exec(t)?.[1] ?? null, ...collectorOptions });
  const events = new RequestEventBus();
  let pipeline: UsagePipeline | null = null;
  return {
    collector,
    events,
    start(options: Omit<UsagePipelineOptions, 'dataDir' | 'events' | 'region' | 'usageEndpoint'>): UsagePipeline {
      pipeline = startUsagePipeline({ dataDir: join(dir, 'app'), events, region: 'us-east-1', usageEndpoint: collector.usageUrl, ...options });
      return pipeline;
    },
    async close() {
      await pipeline?.close({ syncTimeoutMs: 0 });
      await collector.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('the periodic timer delivers records that arrive while the "soon after new records" trigger is spent', async () => {
  const { collector, events, start, close } = await endpointFixture();
  try {
    const pipeline = start({
      source: { kind: 'org-gateway', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), identity: async () => ({ user: 'bob', source: 'org-gateway' }), bearerToken: async () => 'tok-bob' },
      // The first commit arms a debounce that will not fire for a minute; later commits find it armed.
      syncDebounceMs: 60_000,
      syncIntervalMs: 200,
    });
    for (let i = 0; i < 5; i++) events.emit('request-finished', event(i));
    await waitFor(() => collector.records().length === 5, 5_000, 'the timer to deliver the first records');
    for (let i = 5; i < 10; i++) events.emit('request-finished', event(i));
    await waitFor(() => collector.records().length === 10, 5_000, 'the timer to deliver the next records');
    // The collector stores a batch before it answers, and the sync marks it synced once the answer is in.
    await waitFor(() => pipeline.status().sync.pending === 0, 5_000, 'the answer to be booked');
  } finally {
    await close();
  }
});

test('records made before the identity is known carry it once the lookup finds it; records already sent are left alone', async () => {
  const dir = tempDir();
  const events = new RequestEventBus();
  let found!: () => void;
  const lookup = new Promise<void>((resolve) => (found = resolve));
  const pipeline = startUsagePipeline({
    dataDir: dir,
    events,
    region: 'us-east-1',
    source: {
      kind: 'identity-center',
      credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
      identity: async () => {
        await lookup;
        return { user: 'carol', source: 'identity-center' };
      },
    },
  });
  try {
    const early = [event(1), event(2), event(3)];
    for (const e of early) events.emit('request-finished', e);
    await pipeline.ledger.flush();
    assert.deepEqual(early.map((e) => pipeline.ledger.get(e.id)!.user), [null, null, null]);
    pipeline.ledger.markSynced([early[2]!.id]);
    found();
    await waitFor(() => pipeline.ledger.get(early[0]!.id)!.user !== null, 5_000, 'attribution');
    const stamped = early.map((e) => pipeline.ledger.get(e.id)!);
    assert.deepEqual(stamped.map((r) => [r.user, r.identitySource]), [['carol', 'identity-center'], ['carol', 'identity-center'], [null, 'identity-center']]);
    const later = event(4);
    events.emit('request-finished', later);
    await pipeline.ledger.flush();
    assert.equal(pipeline.ledger.get(later.id)!.user, 'carol');
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signed in again after the session ended (followSignIn): the identity is re-read and the records are synced at once', async () => {
  const { collector, events, start, close } = await endpointFixture();
  const ended = new SignInRequiredSignal();
  let session: { user: string } | null = { user: 'alice' };
  let credentialCalls = 0;
  const source = {
    kind: 'org-gateway' as const,
    credentials: async () => {
      credentialCalls++;
      if (!session) throw new SignInRequiredError();
      return { accessKeyId: 'a', secretAccessKey: 'b' };
    },
    identity: async () => (session ? { user: session.user, source: 'org-gateway' as const } : null),
    bearerToken: async () => {
      if (!session) throw new SignInRequiredError();
      return `tok-${session.user}`;
    },
    // As a device-flow source: signed out once the session ended, until the next sign-in.
    status: () => ({ signedIn: session !== null }),
    onSignInRequired: (listener: () => void) => ended.on(listener),
  };
  // No timer, and a debounce that stays spent: only the sign-in can trigger a sync.
  const pipeline = start({ source, syncDebounceMs: 60_000, syncIntervalMs: 0 });
  const unfollow = followSignIn(source, () => pipeline.signedIn(), { checkEveryMs: 100 });
  try {
    await waitFor(() => pipeline.status().identity.user === 'alice', 5_000, 'identity');
    session = null;
    ended.raise();
    const whileSignedOut = [event(1), event(2), event(3)];
    for (const e of whileSignedOut) events.emit('request-finished', e);
    await pipeline.ledger.flush();
    await sleep(500);
    assert.equal(credentialCalls, 0, 'a signed-out device-flow source is not asked for credentials');
    assert.equal(collector.records().length, 0);

    session = { user: 'bob' }; // the window's sign-in
    await waitFor(() => collector.records().length === 3, 5_000, 'the sync after sign-in');
    assert.equal(pipeline.status().identity.user, 'bob');
    assert.ok(collector.records().every((r) => r.authenticatedUser === 'bob'));
    const after = event(4);
    events.emit('request-finished', after);
    await pipeline.ledger.flush();
    assert.equal(pipeline.ledger.get(after.id)!.user, 'bob', 'new records carry the new sign-in');
  } finally {
    unfollow();
    await close();
  }
});

test('Identity Center: the identity proof goes to the STS endpoint the pipeline is given, in its region', async () => {
  const registry = new CredentialRegistry();
  const credentials = registry.issue('dana@example.com', 'arn:aws:sts::111122223333:assumed-role/Developer', 3_600_000);
  const sts = await startEmulator({ registry, services: [createStsEmulator(registry)] });
  const { collector, events, start, close } = await endpointFixture({ stsEndpoint: sts.url });
  const proofs: ReturnType<typeof decodeIdentityProof>[] = [];
  try {
    start({
      source: { kind: 'identity-center', credentials: async () => credentials, identity: async () => ({ user: 'dana@example.com', source: 'identity-center' }) },
      stsEndpoint: sts.url,
      stsRegion: 'eu-west-1',
      syncDebounceMs: 50,
      fetch: (input, init) => {
        proofs.push(decodeIdentityProof(new Headers(init?.headers).get(IDENTITY_HEADER) ?? ''));
        return fetch(input, init);
      },
    });
    for (let i = 0; i < 4; i++) events.emit('request-finished', event(i));
    await waitFor(() => collector.records().length === 4, 10_000, 'delivery');
    assert.ok(collector.records().every((r) => r.authenticatedUser === 'dana@example.com'));
    assert.equal(proofs[0]?.url, `${sts.url}/`);
    assert.match(proofs[0]?.headers.authorization ?? '', /\/eu-west-1\/sts\/aws4_request/);
  } finally {
    await close();
    await sts.close();
  }
});

// The credentials module's CredentialSource is accepted as the pipeline's source, and followSignIn's, as it is.
import type { CredentialSource } from '../../src/credentials/credential-source.ts';
import type { SignInFollowingSource, UsagePipelineSource } from '../../src/usage/index.ts';
export const sourceIsCompatible: (source: CredentialSource) => UsagePipelineSource = (source) => source;
export const followsCredentialSource: (source: CredentialSource) => SignInFollowingSource = (source) => source;
