import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AwsCredentialIdentity } from '@smithy/types';
import { createRefreshingProvider } from '../../src/credentials/refreshing-provider.ts';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const HOUR = 3600_000;

test('single flight: many concurrent callers, one fetch', async () => {
  const clock = fakeClock();
  let fetches = 0;
  const gate = deferred<void>();
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async () => {
      fetches += 1;
      await gate.promise;
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  const waiting = Promise.all(Array.from({ length: 100 }, () => p.provider()));
  gate.resolve();
  const results = await waiting;
  assert.equal(fetches, 1);
  assert.ok(results.every((c) => c.accessKeyId === 'k1'));
});

test('refreshes 5 minutes ahead in the background; a failed early refresh never fails a caller', async () => {
  const clock = fakeClock();
  let fetches = 0;
  let failNext = false;
  const backgroundErrors: unknown[] = [];
  const p = createRefreshingProvider({
    now: clock.now,
    onBackgroundError: (e) => backgroundErrors.push(e),
    fetch: async () => {
      fetches += 1;
      if (failNext) throw new Error('IdP down');
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  assert.equal((await p.provider()).accessKeyId, 'k1');
  clock.advance(HOUR - 6 * 60_000); // 6 min left: no refresh yet
  assert.equal((await p.provider()).accessKeyId, 'k1');
  assert.equal(fetches, 1);

  clock.advance(2 * 60_000); // 4 min left: refresh starts in the background, callers get k1 at once
  failNext = true;
  const during = await Promise.all(Array.from({ length: 20 }, () => p.provider()));
  assert.ok(during.every((c) => c.accessKeyId === 'k1'));
  await new Promise((r) => setImmediate(r));
  assert.equal(fetches, 2, 'one background refresh');
  assert.equal(backgroundErrors.length, 1);

  clock.advance(60_000); // 3 min left; retry after backoff succeeds
  failNext = false;
  assert.equal((await p.provider()).accessKeyId, 'k1');
  await new Promise((r) => setImmediate(r));
  assert.equal((await p.provider()).accessKeyId, 'k3');
  assert.equal(p.refreshCount, 2);
});

test('when the credentials are no longer usable, callers wait for the fetch and see its error', async () => {
  const clock = fakeClock();
  let fail = false;
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async () => {
      if (fail) throw new Error('session over');
      return { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  await p.provider();
  fail = true;
  clock.advance(HOUR - 10_000); // inside the last 30 s: not handed out any more
  await assert.rejects(p.provider(), /session over/);
});

test('short-lived credentials refresh at half their lifetime; credentials always carry expiration', async () => {
  const clock = fakeClock();
  let fetches = 0;
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async (): Promise<AwsCredentialIdentity> => {
      fetches += 1;
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + 4 * 60_000) };
    },
  });
  const first = await p.provider();
  assert.ok(first.expiration);
  clock.advance(60_000);
  await p.provider();
  assert.equal(fetches, 1);
  clock.advance(61_000); // past half of 4 min
  await p.provider();
  await new Promise((r) => setImmediate(r));
  assert.equal(fetches, 2);
});

test('invalidate drops the cache and ignores a fetch already in flight', async () => {
  const clock = fakeClock();
  const gate = deferred<void>();
  let n = 0;
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async () => {
      n += 1;
      const mine = n;
      if (mine === 1) await gate.promise;
      return { accessKeyId: `k${mine}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  const stale = p.provider();
  p.invalidate();
  assert.equal((await p.provider()).accessKeyId, 'k2');
  gate.resolve();
  await stale;
  assert.equal(p.current()?.accessKeyId, 'k2');
});

test('forceRefresh fetches new credentials while the cached ones are still fresh (a 401 said they were refused)', async () => {
  const clock = fakeClock();
  let fetches = 0;
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async () => {
      fetches += 1;
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  assert.equal((await p.provider()).accessKeyId, 'k1');
  assert.equal((await p.provider()).accessKeyId, 'k1', 'fresh credentials are served from memory');
  assert.equal((await p.provider({ forceRefresh: true })).accessKeyId, 'k2');
  assert.equal((await p.provider()).accessKeyId, 'k2', 'the forced fetch replaces the cached credentials');
  assert.equal(fetches, 2);
  assert.equal(p.refreshCount, 2);
});

test('concurrent forced refreshes share one fetch; plain callers meanwhile keep the current credentials', async () => {
  const clock = fakeClock();
  let fetches = 0;
  let gate = deferred<void>();
  const p = createRefreshingProvider({
    now: clock.now,
    fetch: async () => {
      fetches += 1;
      if (fetches > 1) await gate.promise;
      return { accessKeyId: `k${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + HOUR) };
    },
  });
  await p.provider();
  const forced = Array.from({ length: 50 }, () => p.provider({ forceRefresh: true }));
  assert.equal((await p.provider()).accessKeyId, 'k1', 'a plain caller does not wait for the forced fetch');
  gate.resolve();
  const results = await Promise.all(forced);
  assert.equal(fetches, 2, 'one fetch for all the forced callers');
  assert.ok(results.every((c) => c.accessKeyId === 'k2'));

  // A failed forced fetch fails only the forced callers; the credentials in hand are kept.
  gate = deferred<void>();
  const failing = Promise.all(Array.from({ length: 5 }, () => p.provider({ forceRefresh: true })));
  gate.reject(new Error('IdP down'));
  await assert.rejects(failing, /IdP down/);
  assert.equal(fetches, 3);
  assert.equal((await p.provider()).accessKeyId, 'k2');
});
