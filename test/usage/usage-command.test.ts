import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
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
    assert.match(output, /Not yet sent to the audit endpoint: 60/);

    const json = io({}, now);
    assert.equal(await runUsageCommand(['--data-dir', dir, '--by', 'week,month', '--json', '--utc'], json.io), 0);
    const parsed = JSON.parse(json.out.join('')) as { groups: Record<string, { requests: number }[]> };
    assert.deepEqual(Object.keys(parsed.groups), ['week', 'month']);
    assert.equal(parsed.groups.month!.reduce((n, r) => n + r.requests, 0), 60);

    const bad = io({}, now);
    assert.equal(await runUsageCommand(['--by', 'year'], bad.io), 2);
    assert.match(bad.err.join(''), /Unknown --by/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
