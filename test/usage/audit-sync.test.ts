import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter } from '../../src/usage/audit-sync.ts';
import { assertExactlyOnce, createSyncHarness, waitFor, type SyncHarness } from './support.ts';

async function drain(h: SyncHarness, timeoutMs = 20_000): Promise<void> {
  h.sync.start();
  await waitFor(() => h.sync.status().pending === 0 && h.sync.status().state !== 'syncing', timeoutMs, `drain (${JSON.stringify(h.sync.status())})`);
}

function assertIdOrder(posts: string[][]): void {
  for (const batch of posts) {
    assert.ok(batch.length <= 500, `batch of ${batch.length}`);
    for (let i = 1; i < batch.length; i++) assert.ok(batch[i - 1]! < batch[i]!, 'a batch is in id order');
  }
}

test('parseRetryAfter: seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('soon'), null);
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(parseRetryAfter(new Date(now - 5000).toUTCString(), now), 0);
});

test('offline for days: catches up in id order, batches of at most 500, marks synced, status reports', async () => {
  const h = await createSyncHarness({ count: 1234 });
  try {
    const before = h.sync.status();
    assert.equal(before.pending, 1234);
    assert.equal(before.lastSuccessAt, null);
    await drain(h);
    assert.deepEqual(h.posts.map((b) => b.length), [500, 500, 234]);
    assertIdOrder(h.posts);
    assert.deepEqual(h.posts.flat(), h.records.map((r) => r.id).sort(), 'whole run in id order');
    assertExactlyOnce(h.collector, h.records);
    const status = h.sync.status();
    assert.equal(status.pending, 0);
    assert.equal(status.rejected, 0);
    assert.equal(status.lastError, null);
    assert.ok(status.lastSuccessAt !== null);
    assert.equal(h.collector.records()[0]!.authenticatedUser, 'alice@example.com');
    // Nothing left: another run sends nothing.
    await h.sync.syncNow();
    assert.equal(h.posts.length, 3);
  } finally {
    await h.close();
  }
});

test('endpoint down (connection refused), then back: backs off, then delivers exactly once', async () => {
  const h = await createSyncHarness({ count: 700 });
  try {
    await h.collector.stop();
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 3, 10_000, 'failures');
    const status = h.sync.status();
    assert.match(status.lastError ?? '', /ECONNREFUSED|reach/);
    assert.equal(status.state, 'waiting');
    assert.ok(status.nextAttemptAt !== null);
    assert.equal(status.pending, 700);
    await h.collector.start();
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
  } finally {
    await h.close();
  }
});

test('connections dropped unanswered, and a slow endpoint past the timeout: retried, exactly once', async () => {
  const h = await createSyncHarness({ count: 900, sync: { requestTimeoutMs: 700 } });
  try {
    h.collector.faults.down = true;
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 2, 10_000, 'failures');
    h.collector.faults.down = false;
    h.collector.faults.queue.push({ kind: 'slow', ms: 1500 });
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    assert.ok(h.collector.stats().injected >= 3);
    assert.match(h.sync.status().lastError ?? 'none', /none/);
  } finally {
    await h.close();
  }
});

test('429 and 503 with Retry-After (seconds and HTTP date) are honoured', async () => {
  const h = await createSyncHarness({ count: 600 });
  try {
    h.collector.faults.queue.push({ kind: 'status', status: 429, retryAfter: '1' });
    h.collector.faults.queue.push({ kind: 'status', status: 503, retryAfter: new Date(Date.now() + 3500).toUTCString() });
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    // posts: 429, then (>= 1 s later) 503, then (>= ~1 s later, HTTP dates have 1 s resolution) the two batches.
    assert.ok(h.postTimes.length >= 4);
    assert.ok(h.postTimes[1]! - h.postTimes[0]! >= 950, `429 retry after ${h.postTimes[1]! - h.postTimes[0]!} ms`);
    assert.ok(h.postTimes[2]! - h.postTimes[1]! >= 900, `503 retry after ${h.postTimes[2]! - h.postTimes[1]!} ms`);
    const stats = h.collector.stats();
    assert.equal(stats.byStatus['429'], 1);
    assert.equal(stats.byStatus['503'], 1);
  } finally {
    await h.close();
  }
});

test('401: renews the bearer token once (forceRefresh), then retries', async () => {
  let token = 'tok-stale';
  const calls: unknown[] = [];
  const h = await createSyncHarness({
    count: 50,
    sync: {
      source: {
        kind: 'org-gateway',
        credentials: async () => {
          throw new Error('unused');
        },
        async bearerToken(options) {
          calls.push(options ?? null);
          if (options?.forceRefresh) token = 'tok-good';
          return token;
        },
      },
    },
  });
  try {
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    assert.deepEqual(calls, [null, { forceRefresh: true }]);
    assert.equal(h.collector.stats().byStatus['401'], 1);
  } finally {
    await h.close();
  }
});

test('401 even after renewal: reported (without the token), retried later, not a hot loop', async () => {
  const h = await createSyncHarness({ count: 10, sync: { backoffBaseMs: 200, backoffCapMs: 400 } });
  try {
    h.collector.faults.queue.push(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 401 })));
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 1, 5_000, 'failure');
    const status = h.sync.status();
    assert.match(status.lastError ?? '', /401/);
    assert.doesNotMatch(JSON.stringify(status), /tok-good/);
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
  } finally {
    await h.close();
  }
});

test('partial rejections: rejected ids are set aside with the reason, shown in status, never resent', async () => {
  const h = await createSyncHarness({ count: 120, records: (i) => (i === 7 ? { region: '' } : {}) });
  try {
    const forced = h.records.filter((_, i) => i % 25 === 3).map((r) => r.id);
    for (const id of forced) h.collector.faults.rejectIds.set(id, 'policy: model not allowed');
    await drain(h);
    const rejectedIds = new Set([...forced, h.records[7]!.id]);
    assertExactlyOnce(h.collector, h.records.filter((r) => !rejectedIds.has(r.id)));
    const status = h.sync.status();
    assert.equal(status.rejected, rejectedIds.size);
    assert.equal(status.pending, 0);
    const reasons = new Map(h.ledger.rejected().map((r) => [r.id, r.reason]));
    assert.equal(reasons.get(forced[0]!), 'policy: model not allowed');
    assert.match(reasons.get(h.records[7]!.id) ?? '', /invalid record: region/);
    const posts = h.posts.length;
    await h.sync.syncNow({ force: true });
    assert.equal(h.posts.length, posts, 'rejected records are not sent again');
  } finally {
    await h.close();
  }
});

test('duplicates: lost answers and partial acknowledgements lead to re-sends the endpoint absorbs; exactly once by id', async () => {
  const h = await createSyncHarness({ count: 1100 });
  try {
    h.collector.faults.queue.push({ kind: 'drop-response' }, { kind: 'partial-ack', count: 100 }, { kind: 'drop-response' });
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    const stats = h.collector.stats();
    assert.ok(stats.duplicates >= 500, `duplicates ${stats.duplicates}`);
    const deliveries = h.collector.deliveriesById();
    assert.ok([...deliveries.values()].some((n) => n > 1));
    assert.equal(h.ledger.pendingCount(), 0);
  } finally {
    await h.close();
  }
});

test('random faults of every kind under chaos: still exactly once', async () => {
  const h = await createSyncHarness({ count: 2000, sync: { batchSize: 200, requestTimeoutMs: 600 } });
  try {
    h.collector.faults.chaos = {
      rate: 0.5,
      faults: [
        { kind: 'status', status: 503, retryAfter: '0' },
        { kind: 'status', status: 429, retryAfter: '0' },
        { kind: 'status', status: 500 },
        { kind: 'destroy' },
        { kind: 'drop-response' },
        { kind: 'partial-ack', count: 10 },
        { kind: 'slow', ms: 900 },
      ],
    };
    await drain(h, 40_000);
    assertExactlyOnce(h.collector, h.records);
    assertIdOrder(h.posts);
  } finally {
    await h.close();
  }
});

test('stop() at quit makes one bounded attempt', async () => {
  const h = await createSyncHarness({ count: 30 });
  try {
    h.collector.faults.delayMs = 5_000;
    const started = Date.now();
    await h.sync.stop({ drainTimeoutMs: 300 });
    assert.ok(Date.now() - started < 2_000, 'bounded');
    assert.equal(h.sync.status().state, 'stopped');
    h.collector.faults.delayMs = 0;
  } finally {
    await h.close();
  }
});
