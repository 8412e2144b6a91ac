/** Stored responses: on disk next to the ledger, owner-only, bounded by age and count, across restarts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { responseShell } from '../../src/core/responses-output.ts';
import { parseResponsesRequest } from '../../src/core/responses-schemas.ts';
import { ResponseStore } from '../../src/server/response-store.ts';

const DAY = 24 * 60 * 60 * 1000;

function stored(id: string) {
  const response = responseShell({ id, createdAt: 1, model: 'gpt-4o', request: parseResponsesRequest({ input: 'hi' }), includeReasoning: false });
  const item = { id: `msg_${id}`, type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text: 'hi' }] };
  return { response, inputItems: [item], conversation: [item] };
}

test('a stored response survives a restart, in an owner-only file; delete removes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-store-'));
  try {
    const store = new ResponseStore({ dataDir: dir });
    store.save(stored('resp_a'));
    store.close();
    assert.equal(statSync(join(dir, 'responses.sqlite')).mode & 0o777, 0o600);
    const again = new ResponseStore({ dataDir: dir });
    assert.equal(again.get('resp_a')?.inputItems[0]?.id, 'msg_resp_a');
    assert.equal(again.delete('resp_a'), true);
    assert.equal(again.delete('resp_a'), false);
    assert.equal(again.get('resp_a'), null);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retention: older than retentionDays goes at the next prune (and at open), and only the newest maxStored stay', () => {
  let now = 1_000 * DAY;
  const store = new ResponseStore({ retentionDays: 2, maxStored: 3, now: () => now });
  store.save(stored('resp_old'));
  now += 3 * DAY;
  for (const id of ['resp_1', 'resp_2', 'resp_3', 'resp_4']) {
    store.save(stored(id));
    now += 1000;
  }
  store.prune();
  assert.equal(store.get('resp_old'), null, 'past retention');
  assert.equal(store.get('resp_1'), null, 'beyond the newest 3');
  for (const id of ['resp_2', 'resp_3', 'resp_4']) assert.ok(store.get(id), id);
  store.close();
});
