import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { settingsFileIn } from '../../src/app/settings-store.ts';
import { runUsageCommand } from '../../src/cli/usage-command.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { makeRecord } from './fixtures/records.ts';

function io(env: NodeJS.ProcessEnv, now: number) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env, now: () => now } };
}

test('bedrock-bridge usage prints compact tables by day, model and client, and JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-usage-cli-'));
  try {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const empty = io({ BEDROCK_BRIDGE_HOME: dir }, now);
    assert.equal(await runUsageCommand([], empty.io), 0);
    assert.match(empty.out.join(''), /No usage recorded yet/);

    const ledger = new UsageLedger({ dataDir: dir });
    for (let i = 0; i < 60; i++) ledger.record(makeRecord(i, {}, now - i * 6 * 3_600_000));
    ledger.close();

    const text = io({ BEDROCK_BRIDGE_HOME: dir }, now);
    assert.equal(await runUsageCommand(['--utc'], text.io), 0);
    const output = text.out.join('');
    assert.match(output, /By day \(last 14 days\)/);
    assert.match(output, /^2026-11-22 +\d+ /m);
    assert.match(output, /By model \(last 30 days\)/);
    assert.match(output, /us\.anthropic\.claude-sonnet-4-5/);
    assert.match(output, /unknown\.model-v1:0 .* unknown/, 'an unpriced model shows unknown cost, not $0');
    assert.match(output, /By client/);
    assert.match(output, /OpenAI\/JS 5\.0\.0/);
    // No audit endpoint in the settings: nothing is waiting to go anywhere.
    assert.match(output, /\n\nNot synced: no audit endpoint configured\.\n/);
    assert.doesNotMatch(output, /Not yet sent/);

    const json = io({}, now);
    assert.equal(await runUsageCommand(['--data-dir', dir, '--by', 'week,month', '--json', '--utc'], json.io), 0);
    const parsed = JSON.parse(json.out.join('')) as { groups: Record<string, { requests: number }[]> };
    assert.deepEqual(Object.keys(parsed.groups), ['week', 'month']);
    assert.equal(parsed.groups.month!.reduce((n, r) => n + r.requests, 0), 60);

    const bad = io({}, now);
    assert.equal(await runUsageCommand(['--by', 'year'], bad.io), 2);
    assert.match(bad.err.join(''), /^bedrock-bridge usage: unknown --by "year"/);
    const unknownOption = io({}, now);
    assert.equal(await runUsageCommand(['--nonsense'], unknownOption.io), 2);
    assert.match(unknownOption.err.join(''), /^bedrock-bridge usage: .*'--nonsense'.*\nRun "bedrock-bridge usage --help" for its options\./s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bedrock-bridge usage lists the records the audit endpoint rejected: time, id, model, reason, newest first, bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-usage-cli-'));
  try {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const ledger = new UsageLedger({ dataDir: dir });
    const records = Array.from({ length: 20 }, (_, i) => makeRecord(i, {}, now - (20 - i) * 60_000));
    for (const r of records) ledger.record(r);
    ledger.flushSync();
    const rejected = records.slice(0, 13);
    ledger.markRejected(rejected.map((r, i) => ({ id: r.id, reason: `policy ${i}: model not allowed` })));
    ledger.markSynced(records.slice(13, 18).map((r) => r.id));
    ledger.close();
    // An audit endpoint in the settings (never called here): what is waiting for it is counted.
    writeFileSync(settingsFileIn(dir), JSON.stringify({ usage: { endpoint: 'http://127.0.0.1:9/usage' } }));

    const text = io({ BEDROCK_BRIDGE_HOME: dir }, now);
    assert.equal(await runUsageCommand(['--utc'], text.io), 0);
    const output = text.out.join('');
    assert.match(output, /Not yet sent to the audit endpoint: 2\n/);
    assert.match(output, /Rejected by the audit endpoint \(kept here, not sent again\): 13\n/);
    const listed = output.split('\n').filter((line) => / policy \d+: /.test(line));
    assert.equal(listed.length, 10, 'at most ten are listed');
    // Newest first: record 12 (11:52 UTC) down to record 3 (11:43 UTC).
    for (const [n, line] of listed.entries()) {
      const i = 12 - n;
      const r = rejected[i]!;
      const minute = String(40 + i).padStart(2, '0');
      assert.equal(line, `  2026-11-22 11:${minute}  ${r.id}  ${r.modelId}  policy ${i}: model not allowed`);
    }
    assert.match(output, /\n {2}and 3 more\n/);

    const json = io({ BEDROCK_BRIDGE_HOME: dir }, now);
    assert.equal(await runUsageCommand(['--json'], json.io), 0);
    const parsed = JSON.parse(json.out.join('')) as { sync: { pending: number; rejected: number; rejectedRecords: { id: string; reason: string; rejectedAt: number; modelId: string | null; startedAt: number }[] } };
    assert.equal(parsed.sync.rejected, 13);
    assert.equal(parsed.sync.rejectedRecords.length, 10);
    assert.deepEqual(parsed.sync.rejectedRecords[0], { id: rejected[12]!.id, reason: 'policy 12: model not allowed', rejectedAt: parsed.sync.rejectedRecords[0]!.rejectedAt, startedAt: rejected[12]!.startedAt, modelId: rejected[12]!.modelId });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
