import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageAggregates, type UsageGrouping, type UsageRow } from '../../src/usage/aggregates.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { isErrorRecord, type UsageRecord } from '../../src/usage/usage-record.ts';
import { makeRecord } from './fixtures/records.ts';

function keyOf(record: UsageRecord, grouping: UsageGrouping): string {
  const d = new Date(record.startedAt);
  const iso = d.toISOString();
  switch (grouping) {
    case 'day':
      return iso.slice(0, 10);
    case 'month':
      return iso.slice(0, 7);
    case 'week': {
      const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)));
      return monday.toISOString().slice(0, 10);
    }
    case 'model':
      return record.modelId ?? record.requestedModel ?? '(none)';
    case 'client':
      return record.client ?? '(unknown)';
  }
}

function expected(records: UsageRecord[], grouping: UsageGrouping): Map<string, Omit<UsageRow, 'key'>> {
  const groups = new Map<string, Omit<UsageRow, 'key'>>();
  for (const r of records) {
    const key = keyOf(r, grouping);
    const g = groups.get(key) ?? { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, totalTokens: 0, costUsd: 0, unpricedRequests: 0, errors: 0 };
    g.requests++;
    g.inputTokens += r.inputTokens;
    g.outputTokens += r.outputTokens;
    g.cacheReadTokens += r.cacheReadTokens;
    g.cacheWriteTokens += r.cacheWriteTokens;
    g.totalTokens += r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheWriteTokens;
    if (r.costUsd === null) g.unpricedRequests++;
    else g.costUsd += r.costUsd;
    if (isErrorRecord(r)) g.errors++;
    groups.set(key, g);
  }
  return groups;
}

test('aggregates by day, week, month, model and client match the records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-agg-'));
  const ledger = new UsageLedger({ dataDir: dir });
  try {
    const start = Date.UTC(2026, 8, 20, 22, 0, 0); // spans month and week boundaries
    const records: UsageRecord[] = [];
    for (let i = 0; i < 400; i++) {
      // A mid-stream failure: status 200 with an error type still counts as an error.
      const overrides = i % 11 === 0 ? { status: 200, errorType: 'throttlingException' } : {};
      records.push(makeRecord(i, overrides, start + i * 3 * 3_600_000 + (i % 13) * 60_000));
    }
    for (const r of records) ledger.record(r);
    ledger.flushSync();
    const aggregates = new UsageAggregates(ledger);
    for (const grouping of ['day', 'week', 'month', 'model', 'client'] as const) {
      const rows = aggregates.by(grouping, { timeZone: 'utc' });
      const want = expected(records, grouping);
      assert.equal(rows.length, want.size, grouping);
      for (const row of rows) {
        const w = want.get(row.key);
        assert.ok(w, `${grouping}: unexpected key ${row.key}`);
        assert.deepEqual({ ...row, costUsd: Math.round(row.costUsd * 1e9) }, { key: row.key, ...w, costUsd: Math.round(w.costUsd * 1e9) }, `${grouping} ${row.key}`);
      }
    }
    assert.ok(aggregates.byMonth({ timeZone: 'utc' }).map((r) => r.key).join() === '2026-11,2026-10,2026-09');
    assert.equal(aggregates.byWeek({ timeZone: 'utc' }).at(-1)!.key, '2026-09-14', 'weeks start on Monday');

    // Windows: [from, to)
    const from = start + 24 * 3_600_000;
    const to = start + 5 * 24 * 3_600_000;
    const inWindow = records.filter((r) => r.startedAt >= from && r.startedAt < to);
    const totals = aggregates.totals({ from, to });
    assert.equal(totals.requests, inWindow.length);
    assert.equal(totals.inputTokens, inWindow.reduce((n, r) => n + r.inputTokens, 0));
    assert.equal(totals.unpricedRequests, inWindow.filter((r) => r.costUsd === null).length);
    assert.equal(totals.errors, inWindow.filter(isErrorRecord).length);
    assert.ok(Math.abs(totals.costUsd - inWindow.reduce((n, r) => n + (r.costUsd ?? 0), 0)) < 1e-9);
    assert.equal(aggregates.byDay({ from, to, timeZone: 'utc' }).reduce((n, r) => n + r.requests, 0), inWindow.length);
    // Local time works too (whatever the machine's zone): same totals.
    assert.equal(aggregates.byDay().reduce((n, r) => n + r.requests, 0), 400);
  } finally {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
