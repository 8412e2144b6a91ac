import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { LEDGER_SCHEMA_VERSION, UsageLedger } from '../../src/usage/ledger.ts';
import { makeRecord } from './fixtures/records.ts';

function withDir(run: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-ledger-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('record() buffers and commits in one batch shortly after; committed reports the ids', withDir(async (dir) => {
  const ledger = new UsageLedger({ dataDir: dir, flushDelayMs: 5 });
  const committed: string[][] = [];
  ledger.on('committed', (ids) => committed.push(ids));
  const records = Array.from({ length: 30 }, (_, i) => makeRecord(i));
  for (const record of records) ledger.record(record);
  assert.equal(ledger.buffered, 30);
  assert.equal(ledger.count(), 0, 'nothing written synchronously');
  const deadline = Date.now() + 5_000;
  while (committed.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(committed.length, 1, 'one batch');
  assert.deepEqual(committed[0], records.map((r) => r.id));
  assert.equal(ledger.count(), 30);
  assert.deepEqual(ledger.get(records[3]!.id), { ...records[3], syncState: 'pending' });
  ledger.close();
}));

for (const writer of ['worker', 'inline'] as const) {
  test(`writer=${writer}: flush() resolves when durable; flushSync() too; a second connection sees the rows`, withDir(async (dir) => {
    const ledger = new UsageLedger({ dataDir: dir, writer, flushDelayMs: 60_000 });
    const committed: string[] = [];
    ledger.on('committed', (ids) => committed.push(...ids));
    const first = Array.from({ length: 1200 }, (_, i) => makeRecord(i));
    for (const r of first) ledger.record(r);
    await ledger.flush();
    assert.equal(committed.length, 1200);
    assert.equal(ledger.buffered, 0);
    const second = Array.from({ length: 30 }, (_, i) => makeRecord(2000 + i));
    for (const r of second) ledger.record(r);
    assert.equal(ledger.flushSync(), 30);
    assert.equal(committed.length, 1230);
    const reader = new DatabaseSync(ledger.path, { readOnly: true });
    assert.equal((reader.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n, 1230);
    reader.close();
    ledger.close();
  }));
}

test('WAL, synchronous=NORMAL by default (FULL on request), schema version set, indexes present', withDir((dir) => {
  const ledger = new UsageLedger({ dataDir: dir });
  const db = ledger.database;
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 1);
  assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, LEDGER_SCHEMA_VERSION);
  const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((r) => r.name);
  assert.ok(indexes.includes('records_unsynced') && indexes.includes('records_started_at'));
  const plan = JSON.stringify(db.prepare("EXPLAIN QUERY PLAN SELECT id FROM records WHERE sync_state = 0 AND id > '' ORDER BY id LIMIT 500").all());
  assert.match(plan, /records_unsynced/);
  ledger.close();
  const full = new UsageLedger({ dataDir: dir, durability: 'full' });
  assert.equal((full.database.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2);
  full.close();
}));

test('a ledger from a newer app version is refused, not clobbered', withDir((dir) => {
  new UsageLedger({ dataDir: dir }).close();
  const db = new DatabaseSync(join(dir, 'usage.sqlite'));
  db.exec(`PRAGMA user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => new UsageLedger({ dataDir: dir }), /newer than this app understands/);
}));

test('pending queue is in id order and pages with a cursor; synced and rejected leave it', withDir((dir) => {
  const ledger = new UsageLedger({ dataDir: dir });
  const base = Date.now() - 10_000;
  const records = Array.from({ length: 25 }, (_, i) => makeRecord(i, {}, base + i));
  for (const record of [...records].reverse()) ledger.record(record);
  ledger.flushSync();
  const first = ledger.pendingBatch(10);
  assert.deepEqual(first.map((r) => r.id), records.slice(0, 10).map((r) => r.id));
  const second = ledger.pendingBatch(10, first.at(-1)!.id);
  assert.deepEqual(second.map((r) => r.id), records.slice(10, 20).map((r) => r.id));
  assert.equal(ledger.markSynced(first.map((r) => r.id)), 10);
  assert.equal(ledger.markRejected([{ id: records[10]!.id, reason: 'invalid record: region' }]), 1);
  assert.equal(ledger.pendingCount(), 14);
  assert.equal(ledger.rejectedCount(), 1);
  assert.deepEqual(ledger.rejected().map((r) => [r.id, r.reason]), [[records[10]!.id, 'invalid record: region']]);
  assert.equal(ledger.pendingBatch(100)[0]!.id, records[11]!.id);
  // Re-marking is harmless; re-recording an id is ignored.
  assert.equal(ledger.markSynced([records[0]!.id]), 0);
  ledger.record(records[0]!);
  ledger.flushSync();
  assert.equal(ledger.count(), 25);
  assert.equal(ledger.get(records[0]!.id)!.syncState, 'synced');
  assert.equal(ledger.requeueRejected(), 1);
  assert.equal(ledger.pendingCount(), 15);
  ledger.close();
}));

test('retention prunes only synced records older than the period; unsynced and rejected stay', withDir((dir) => {
  const ledger = new UsageLedger({ dataDir: dir, retentionDays: 30 });
  const now = Date.now();
  const old = now - 40 * 86_400_000;
  const oldSynced = makeRecord(1, {}, old);
  const oldPending = makeRecord(2, {}, old + 1);
  const oldRejected = makeRecord(3, {}, old + 2);
  const newSynced = makeRecord(4, {}, now - 86_400_000);
  for (const r of [oldSynced, oldPending, oldRejected, newSynced]) ledger.record(r);
  ledger.flushSync();
  ledger.markSynced([oldSynced.id, newSynced.id]);
  ledger.markRejected([{ id: oldRejected.id, reason: 'bad' }]);
  assert.equal(ledger.prune(now), 1);
  assert.equal(ledger.get(oldSynced.id), null);
  assert.notEqual(ledger.get(oldPending.id), null);
  assert.notEqual(ledger.get(oldRejected.id), null);
  assert.notEqual(ledger.get(newSynced.id), null);
  ledger.close();
}));

test('close() flushes what is buffered; reopening sees it', withDir((dir) => {
  const ledger = new UsageLedger({ dataDir: dir, flushDelayMs: 10_000 });
  const record = makeRecord(9);
  ledger.record(record);
  ledger.close();
  assert.throws(() => ledger.record(makeRecord(10)), /closed/);
  const reopened = new UsageLedger({ dataDir: dir });
  assert.equal(reopened.get(record.id)?.id, record.id);
  reopened.close();
}));
