import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatRequestLine } from '../../src/cli/serve.ts';
import { formatRejected, runUsageCommand } from '../../src/cli/usage-command.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { usageRecordFromEvent } from '../../src/usage/usage-record.ts';
import { startTestBridge } from '../support/bridge.ts';
import { makeRecord } from '../usage/fixtures/records.ts';

const FORGED_MODEL = 'gpt-4o\n2026-01-01T00:00:00Z 200 FAKE LINE';

describe('client-chosen strings', () => {
  it('cannot forge a --log-requests line, and are bounded in events and usage records', async () => {
    const bridge = await startTestBridge();
    try {
      const finished = bridge.nextEvent();
      const response = await fetch(`${bridge.baseURL}/chat/completions`, {
        method: 'POST',
        headers: bridge.headers({ 'user-agent': `evil ${'u'.repeat(5000)}` }),
        body: JSON.stringify({ model: FORGED_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 404, 'an unknown model');
      await response.body?.cancel();
      const event = await finished;
      assert.equal(event.requestedModel, FORGED_MODEL, 'the event keeps the text as sent (bounded only)');
      assert.equal(event.userAgent!.length, 256);

      const line = formatRequestLine(event);
      assert.equal(line.split('\n').length, 1, line);
      assert.match(line, /gpt-4o\\n2026-01-01T00:00:00Z 200 FAKE LINE/);

      const longModel = 'm'.repeat(10_000);
      const next = bridge.nextEvent();
      await (await fetch(`${bridge.baseURL}/chat/completions`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify({ model: longModel, messages: [{ role: 'user', content: 'hi' }] }) })).body?.cancel();
      const bounded = await next;
      assert.equal(bounded.requestedModel!.length, 2048);
      assert.equal(usageRecordFromEvent(bounded, { user: null, source: null }, null).requestedModel!.length, 2048);
      assert.ok(formatRequestLine(bounded).length < 400, 'the log line is short');

      const longPath = bridge.nextEvent();
      await (await fetch(`${bridge.origin}/${'p'.repeat(5000)}`, { headers: bridge.headers() })).body?.cancel();
      assert.equal((await longPath).route.length, 1024, 'paths are bounded too');
    } finally {
      await bridge.close();
    }
  });

  it('reach `bedrock-bridge usage` escaped, and its CSV defused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-client-strings-'));
    try {
      const now = Date.UTC(2026, 10, 22, 12, 0, 0);
      const ledger = new UsageLedger({ dataDir: dir });
      ledger.record(makeRecord(1, { client: '=HYPERLINK("http://x","click")', modelId: 'model\u001b[31m\nFAKE' }, now));
      ledger.close();
      const out: string[] = [];
      const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env: { BEDROCK_BRIDGE_HOME: dir }, now: () => now };

      assert.equal(await runUsageCommand(['--utc', '--by', 'model,client'], io), 0);
      const table = out.join('');
      assert.doesNotMatch(table, /\u001b/);
      assert.match(table, /model\\x1b\[31m\\nFAKE/);

      const rejected = formatRejected([{ id: 'r1', startedAt: now, modelId: 'm\u202eodel', reason: 'bad\nFAKE LINE\u001b[2J', rejectedAt: now }], 1, true);
      assert.equal(rejected.split('\n').length, 2, rejected);
      assert.match(rejected, /m\\u202eodel +bad\\nFAKE LINE\\x1b\[2J/);

      out.length = 0;
      assert.equal(await runUsageCommand(['--utc', '--by', 'model,client', '--csv'], io), 0);
      const csv = out.join('');
      assert.match(csv, /^"grouping","key",/);
      assert.match(csv, /\r\n"client","'=HYPERLINK\(""http:\/\/x"",""click""\)",1,/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
