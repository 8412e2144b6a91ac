/** The Responses routes over HTTP: stored-response endpoints, live-log progress, the ledger's route filter. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isInferenceRoute, type RequestProgressEvent } from '../../src/core/request-events.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { parseSse } from '../support/sse.ts';

let bridge: TestBridge;

before(async () => {
  bridge = await startTestBridge();
});

after(async () => {
  await bridge?.close();
});

async function post(body: unknown): Promise<Response> {
  return fetch(`${bridge.baseURL}/responses`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify(body) });
}

test('unknown stored responses are 404s in OpenAI shape; GET/DELETE are not inference routes', async () => {
  for (const [method, path] of [['GET', '/responses/resp_missing'], ['DELETE', '/responses/resp_missing'], ['GET', '/responses/resp_missing/input_items']] as const) {
    const response = await fetch(`${bridge.baseURL}${path}`, { method, headers: bridge.headers() });
    assert.equal(response.status, 404, `${method} ${path}`);
    const body = (await response.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /resp_missing/);
  }
  assert.equal(isInferenceRoute('/v1/responses'), true);
  assert.equal(isInferenceRoute('/v1/responses/resp_1'), false);
  assert.equal(isInferenceRoute('/v1/responses/resp_1/input_items'), false);
});

test('input_items: newest first by default, order, limit and after page through them', async () => {
  const created = await post({ model: 'gpt-4o', input: [{ role: 'user', content: 'one' }, { role: 'assistant', content: 'two' }, { role: 'user', content: 'three' }] });
  const { id } = (await created.json()) as { id: string };
  const list = async (query: string) => {
    const response = await fetch(`${bridge.baseURL}/responses/${id}/input_items${query}`, { headers: bridge.headers() });
    assert.equal(response.status, 200);
    return (await response.json()) as { data: { id: string; content: string }[]; has_more: boolean; first_id: string; last_id: string };
  };
  const all = await list('');
  assert.deepEqual(all.data.map((item) => item.content), ['three', 'two', 'one']);
  assert.ok(all.data.every((item) => item.id.startsWith('msg_')));
  const page = await list('?order=asc&limit=2');
  assert.deepEqual(page.data.map((item) => item.content), ['one', 'two']);
  assert.equal(page.has_more, true);
  const rest = await list(`?order=asc&limit=2&after=${page.last_id}`);
  assert.deepEqual(rest.data.map((item) => item.content), ['three']);
  assert.equal(rest.has_more, false);
  const bad = await fetch(`${bridge.baseURL}/responses/${id}/input_items?limit=0`, { headers: bridge.headers() });
  assert.equal(bad.status, 400);
});

test('a stream tells the live log its model at once and its output tokens as they come; one request-finished with usage', async () => {
  const progress: RequestProgressEvent[] = [];
  const listener = (event: RequestProgressEvent) => progress.push(event);
  bridge.gateway.events.on('request-progress', listener);
  try {
    const finished = bridge.nextEvent();
    const response = await post({ model: 'gpt-4o', input: '[[chunks:20]] [[slow:50ms]] count', stream: true, store: false });
    const events = parseSse(await response.text()).map((data) => JSON.parse(data) as { type: string });
    assert.equal(events[events.length - 1]!.type, 'response.completed');
    const event = await finished;
    assert.equal(event.route, '/v1/responses');
    assert.equal(event.usage.outputTokens, 20);
    assert.ok(event.timeToFirstTokenMs !== null);
    const mine = progress.filter((p) => p.id === event.id);
    assert.equal(mine[0]!.modelId, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    assert.equal(mine[0]!.outputTokens, 0);
    assert.ok(mine.length >= 3, `the model, the first token, then every 250 ms (${mine.length} events)`);
    assert.ok(mine.some((p) => p.outputTokens > 0 && p.outputTokens < 20), 'an estimate before the end');
  } finally {
    bridge.gateway.events.off('request-progress', listener);
  }
});
