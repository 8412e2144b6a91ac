import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, parseRetryAfter, STATUS_REJECTED_LIMIT } from '../../src/usage/audit-sync.ts';
import { assertExactlyOnce, createSyncHarness, waitFor, type SyncHarness } from './support.ts';
import { makeRecord } from './fixtures/records.ts';

async function drain(h: SyncHarness, timeoutMs = 20_000): Promise<void> {
  h.sync.start();
  await waitFor(() => h.sync.status().pending === 0 && h.sync.status().state !== 'syncing', timeoutMs, `drain (${JSON.stringify(h.sync.status())})`);
}

/** The gaps between consecutive attempts, in ms. */
/** A forced sync after everything has been delivered or set aside posts nothing. */
async function assertNothingSentAgain(h: SyncHarness, what: string): Promise<void> {
  const posts = h.posts.length;
  await h.sync.syncNow({ force: true });
  assert.equal(h.posts.length, posts, `${what} are not sent again`);
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

/** Timers may fire a little early (ms rounding): a gap this much under its delay still counts as waiting it out. */
const TIMER_SLACK_MS = 15;

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

test('backoffDelay: full jitter in [0, min(cap, base * 2^(failures-1))), doubling per failure, capped', () => {
  const top = () => 1 - Number.EPSILON;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => backoffDelay(n, 1_000, 300_000, top)), [999, 1_999, 3_999, 7_999, 15_999, 31_999, 63_999, 127_999, 255_999, 299_999]);
  assert.equal(backoffDelay(50, 1_000, 300_000, top), 299_999, 'capped however many failures');
  assert.equal(backoffDelay(4, 1_000, 300_000, () => 0), 0, 'the jitter reaches down to 0');
  assert.equal(backoffDelay(4, 1_000, 300_000, () => 0.5), 4_000, 'a draw scales the ceiling');
  for (let failures = 1; failures <= 12; failures++) {
    const ceiling = Math.min(300_000, 1_000 * 2 ** (failures - 1));
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(failures, 1_000, 300_000, Math.random);
      assert.ok(delay >= 0 && delay < ceiling && Number.isInteger(delay), `${delay} after ${failures} failures`);
    }
  }
});

test('backoff schedule in the sync: with the jitter draw pinned, failed attempts are spaced by growing delays up to the cap', async () => {
  const draws: number[] = [];
  // base 200, cap 400, draw ~1: delays 199, 399, 399, 399 (uncapped they would be 199, 399, 799, 1599).
  const h = await createSyncHarness({ count: 5, sync: { backoffBaseMs: 200, backoffCapMs: 400, random: () => (draws.push(1), 0.999) } });
  try {
    await h.collector.stop();
    h.sync.start();
    await waitFor(() => h.postTimes.length >= 5, 10_000, 'five attempts');
    const spacing = gaps(h.postTimes.slice(0, 5));
    for (const [i, delay] of [199, 399, 399, 399].entries()) assert.ok(spacing[i]! >= delay - TIMER_SLACK_MS, `attempt ${i + 2} came ${spacing[i]} ms after the previous one, before its ${delay} ms backoff`);
    assert.ok(spacing[3]! < 1_599 + 1_000, `attempt 5 came ${spacing[3]} ms later: the 400 ms cap did not hold`);
    assert.ok(draws.length >= 4, 'every delay is drawn from the injected random');
    let waiting = h.sync.status();
    await waitFor(() => (waiting = h.sync.status()).state === 'waiting', 5_000, 'a backoff');
    assert.ok(waiting.nextAttemptAt !== null && waiting.nextAttemptAt - Date.now() <= 400, 'the next attempt is due within the cap');
  } finally {
    await h.close();
  }
});

test('endpoint down (connection refused), then back: backs off, then delivers exactly once', async () => {
  // Draw 0.5: delays 10, 20, 40, 80, then 100 (half the 200 ms cap) for good.
  const h = await createSyncHarness({ count: 700, sync: { random: () => 0.5 } });
  try {
    await h.collector.stop();
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 3, 10_000, 'failures');
    const status = h.sync.status();
    assert.match(status.lastError ?? '', /ECONNREFUSED|reach/);
    assert.equal(status.state, 'waiting');
    assert.ok(status.nextAttemptAt !== null);
    assert.equal(status.pending, 700);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // A hot loop would make thousands of attempts in that window; backing off makes about 1.5 s / 100 ms.
    const attempts = h.postTimes.length;
    assert.ok(attempts <= 30, `${attempts} attempts while down`);
    const spacing = gaps(h.postTimes);
    for (let i = 4; i < spacing.length; i++) assert.ok(spacing[i]! >= 100 - TIMER_SLACK_MS, `attempt ${i + 2} came ${spacing[i]} ms after the previous one`);
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
  let token = 'tok-revoked';
  const renewals: unknown[] = [];
  const h = await createSyncHarness({
    count: 10,
    sync: {
      backoffBaseMs: 200,
      backoffCapMs: 400,
      random: () => 0.5,
      source: {
        kind: 'org-gateway',
        credentials: async () => {
          throw new Error('unused');
        },
        async bearerToken(options) {
          renewals.push(options ?? null);
          return token;
        },
      },
    },
  });
  try {
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 1, 5_000, 'failure');
    const status = h.sync.status();
    assert.match(status.lastError ?? '', /401/);
    assert.doesNotMatch(JSON.stringify(status), /tok-revoked/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Each round is a 401, one renewal and a second 401; rounds are 100, 200, then 200 ms apart.
    const refused = h.collector.stats().byStatus['401'] ?? 0;
    assert.ok(refused >= 4 && refused <= 30, `${refused} refused attempts in the window`);
    const forced = renewals.filter((r) => r !== null).length;
    assert.ok(Math.abs(forced * 2 - refused) <= 1, `${forced} renewals for ${refused} refusals: one renewal per round, then the backoff`);
    const rounds = h.postTimes.filter((_, i) => i % 2 === 0);
    for (const [i, gap] of gaps(rounds).entries()) assert.ok(gap >= 100 - TIMER_SLACK_MS, `round ${i + 2} came ${gap} ms after the previous one`);
    token = 'tok-good';
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
    // The status carries the newest few with their reasons, for the window.
    const newest = [...rejectedIds].sort().reverse();
    assert.deepEqual(status.rejectedRecords.map((r) => r.id), newest.slice(0, STATUS_REJECTED_LIMIT));
    const shown = status.rejectedRecords.find((r) => r.id === forced[forced.length - 1]);
    assert.equal(shown?.reason, 'policy: model not allowed');
    assert.equal(shown?.modelId, h.records.find((r) => r.id === shown?.id)?.modelId);
    assert.match(reasons.get(h.records[7]!.id) ?? '', /invalid record: region/);
    await assertNothingSentAgain(h, 'rejected records');
  } finally {
    await h.close();
  }
});

test('a whole batch refused (400, 422) for one record in it: bisected, that record set aside with the reason, the rest delivered once', async () => {
  const h = await createSyncHarness({ count: 1234 });
  try {
    const poison400 = h.records[77]!.id;
    const poison422 = h.records[900]!.id;
    h.collector.faults.refuseBatchesWith.set(poison400, { status: 400, reason: 'record 77 breaks the schema' });
    h.collector.faults.refuseBatchesWith.set(poison422, { status: 422, reason: 'unprocessable: cost_usd' });
    await drain(h);
    assertExactlyOnce(h.collector, h.records.filter((r) => r.id !== poison400 && r.id !== poison422));
    const status = h.sync.status();
    assert.equal(status.pending, 0, 'the queue did not stall behind them');
    assert.equal(status.rejected, 2);
    assert.equal(status.lastError, null);
    assert.equal(status.consecutiveFailures, 0, 'a refused record is not an endpoint failure');
    const reasons = new Map(h.ledger.rejected().map((r) => [r.id, r.reason]));
    assert.equal(reasons.get(poison400), 'record 77 breaks the schema (HTTP 400)');
    assert.equal(reasons.get(poison422), 'unprocessable: cost_usd (HTTP 422)');
    // Bisecting 500 down to one is about 2 * log2(500) requests per poison record, not one per record.
    assert.ok(h.posts.length <= 60, `${h.posts.length} posts`);
    await assertNothingSentAgain(h, 'set-aside records');
  } finally {
    await h.close();
  }
});

test('413 (the body is too large): halves the batch until the endpoint takes it, then keeps that size', async () => {
  const h = await createSyncHarness({ count: 1000 });
  try {
    h.collector.faults.maxRecordsPerPost = 150;
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    assert.equal(h.sync.status().rejected, 0);
    const tooLarge = h.collector.stats().byStatus['413'] ?? 0;
    assert.ok(tooLarge >= 1 && tooLarge <= 3, `${tooLarge} answers 413: 500 -> 250 -> 125 once, not again for every batch`);
    assert.ok(h.posts.slice(tooLarge).every((ids) => ids.length <= 150));
    assertIdOrder(h.posts);
  } finally {
    await h.close();
  }
});

test('a 400 for every request, records or not: nothing is set aside, the sync backs off and delivers once the endpoint is fixed', async () => {
  const h = await createSyncHarness({ count: 300, sync: { random: () => 0.5 } });
  try {
    h.collector.faults.queue.push(...Array.from({ length: 6 }, () => ({ kind: 'status' as const, status: 400 })));
    h.sync.start();
    await waitFor(() => h.sync.status().consecutiveFailures >= 3, 10_000, 'failures');
    assert.equal(h.sync.status().rejected, 0, 'a refusal of the request itself blames no record');
    assert.match(h.sync.status().lastError ?? '', /400/);
    await drain(h);
    assertExactlyOnce(h.collector, h.records);
    assert.equal(h.sync.status().rejected, 0);
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
    await waitFor(() => h.collector.stats().posts >= 1, 2_000, 'the attempt to reach the collector');
    assert.equal(h.collector.stats().posts, 1, 'one attempt, not retried after the bound');
    assert.deepEqual(h.posts, [h.records.map((r) => r.id).sort()], 'the attempt carried the pending records');
    h.collector.faults.delayMs = 0;
  } finally {
    await h.close();
  }
});

test('stop() at quit while a sync is running: records that arrived during that run go out too, after it', async () => {
  const h = await createSyncHarness({ count: 3 });
  try {
    h.collector.faults.delayMs = 300;
    const running = h.sync.syncNow();
    await waitFor(() => h.posts.length === 1, 2_000, 'the first batch to be on its way');
    // The last requests before quitting: recorded while that batch is still unanswered.
    const late = [makeRecord(1000), makeRecord(1001)];
    for (const record of late) h.ledger.record(record);
    h.ledger.flushSync();
    await h.sync.stop({ drainTimeoutMs: 3_000 });
    await running;
    assertExactlyOnce(h.collector, [...h.records, ...late]);
    assert.equal(h.sync.status().pending, 0);
  } finally {
    h.collector.faults.delayMs = 0;
    await h.close();
  }
});
