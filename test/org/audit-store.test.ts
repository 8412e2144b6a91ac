import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite, openPostgres, type Sql } from '../../src/org/database.ts';
import { AuditStore, type AuthenticatedCaller } from '../../src/org/audit-store.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { wireRecord } from './support.ts';

const caller = (user: string, groups: string[] = []): AuthenticatedCaller => ({ user, groups, method: 'oidc' });
const APP = { name: 'bedrock-bridge', version: 'test' };

/** The same behaviour on embedded PGlite and on a PostgreSQL server. */
function storeSuite(name: string, skip: string | null, open: () => Promise<{ connect: () => Promise<Sql>; close: () => Promise<void> }>) {
  describe(`audit store on ${name}`, { skip: skip ?? false }, () => {
    let backend: { connect: () => Promise<Sql>; close: () => Promise<void> };
    let store: AuditStore;
    before(async () => {
      backend = await open();
      store = await AuditStore.open(await backend.connect());
    });
    after(async () => {
      await store?.close();
      await backend?.close();
    });

    test('opening again (two at once) applies each migration once', async () => {
      const [a, b] = await Promise.all([backend.connect(), backend.connect()]);
      await Promise.all([AuditStore.open(a), AuditStore.open(b)]);
      const rows = await a.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(rows.map((row) => row.version), [1]);
    });

    test('a batch of 500 sent twice is accepted both times and stored once, under the caller', async () => {
      const records = Array.from({ length: 500 }, () => wireRecord());
      const first = await store.ingest(caller('ann', ['eng']), APP, records);
      const again = await store.ingest(caller('ann', ['eng']), APP, records);
      assert.equal(first.accepted.length, 500);
      assert.deepEqual(again, first);
      const [row] = await store.report({ by: ['user'], user: 'ann' });
      assert.equal(row?.requests, 500);
      assert.equal(row?.inputTokens, 500 * 100);
      assert.ok(Math.abs((row?.costUsd ?? 0) - 5) < 1e-9, String(row?.costUsd));
    });

    test('an id already filed under another user is rejected, not claimed', async () => {
      const mine = wireRecord();
      await store.ingest(caller('bob'), APP, [mine]);
      const result = await store.ingest(caller('eve'), APP, [mine, wireRecord({ id: mine.id.toUpperCase() })]);
      assert.deepEqual(result.accepted, []);
      assert.deepEqual(result.rejected.map((r) => r.reason), ['this id is already filed under another user', 'this id is already filed under another user']);
      assert.deepEqual((await store.report({ by: ['user'], user: 'eve' })), []);
      assert.equal((await store.report({ by: ['user'], user: 'bob' }))[0]?.requests, 1);
    });

    test('month spend per user and per group counts this calendar month only', async () => {
      const now = new Date();
      const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0, 12)).toISOString();
      await store.ingest(caller('cat', ['ops', 'eng-x']), APP, [wireRecord({ cost_usd: 1.25 }), wireRecord({ cost_usd: 2 }), wireRecord({ cost_usd: null }), wireRecord({ cost_usd: 9, started_at: lastMonth })]);
      await store.ingest(caller('dan', ['ops']), APP, [wireRecord({ cost_usd: 0.5 })]);
      assert.equal(await store.userMonthSpend('cat', now), 3.25);
      assert.equal(await store.userMonthSpend('nobody', now), 0);
      assert.deepEqual(Object.fromEntries(await store.groupMonthSpend(['ops', 'eng-x', 'empty'], now)), { ops: 3.75, 'eng-x': 3.25, empty: 0 });
    });

    test('report groups by user, group, model, client and day/week/month', async () => {
      const day = '2025-03-05T10:00:00.000Z';
      await store.ingest(caller('fay', ['research']), APP, [
        wireRecord({ started_at: day, model_id: 'model-a', client: 'claude-cli/1.0', cost_usd: 1 }),
        wireRecord({ started_at: day, model_id: 'model-b', client: 'codex/0.1', cost_usd: 2, status: 500, error_type: 'ServiceUnavailable' }),
        wireRecord({ started_at: '2025-03-20T10:00:00.000Z', model_id: 'model-a', client: 'claude-cli/1.0', cost_usd: 4 }),
      ]);
      const window = { since: new Date('2025-03-01T00:00:00Z'), until: new Date('2025-04-01T00:00:00Z') };
      const byModel = await store.report({ by: ['model'], ...window });
      assert.deepEqual(byModel.map((row) => [row.keys.model, row.requests, row.costUsd, row.errors]), [['model-a', 2, 5, 0], ['model-b', 1, 2, 1]]);
      const byDay = await store.report({ by: ['day', 'client'], ...window });
      assert.deepEqual(byDay.map((row) => [row.keys.day, row.keys.client, row.requests]), [['2025-03-20', 'claude-cli/1.0', 1], ['2025-03-05', 'codex/0.1', 1], ['2025-03-05', 'claude-cli/1.0', 1]]);
      const byWeekMonth = await store.report({ by: ['month', 'week', 'group', 'user'], ...window });
      assert.deepEqual(byWeekMonth.map((row) => Object.values(row.keys)), [['2025-03', '2025-W12', 'research', 'fay'], ['2025-03', '2025-W10', 'research', 'fay']]);
    });
  });
}

storeSuite('PGlite', null, async () => {
  const sql = await openPglite('memory://');
  return { connect: async () => sql, close: async () => {} };
});

const postgresSkip = postgresUnavailable();
storeSuite('PostgreSQL', postgresSkip, async () => {
  const server: TestPostgres = await startTestPostgres();
  const opened: Sql[] = [];
  return {
    connect: async () => {
      const sql = await openPostgres(server.url);
      opened.push(sql);
      return sql;
    },
    close: async () => {
      for (const sql of opened) await sql.close().catch(() => {});
      await server.close();
    },
  };
});

test('PGlite keeps its records on disk across restarts', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-pglite-'));
  try {
    const record = wireRecord();
    const first = await AuditStore.open(await openPglite(dir));
    await first.ingest(caller('gus'), APP, [record]);
    await first.close();
    const second = await AuditStore.open(await openPglite(dir));
    assert.equal((await second.report({ by: ['user'] }))[0]?.requests, 1);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
