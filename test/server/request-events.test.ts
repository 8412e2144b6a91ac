import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { RequestFinishedEvent } from '../../src/core/request-events.ts';
import { CLIENT_CLOSED } from '../../src/server/routes/chat.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { abandonAfterFirstBytes, rawRequest, type RawResponse } from '../support/http.ts';
import { parseSse } from '../support/sse.ts';

const MODEL = 'amazon.nova-micro-v1:0';
const USER_AGENT = 'request-events-test/1.0';
const BODY_LIMIT = 4096;

describe('one request-finished event per request', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge({ bodyLimitBytes: BODY_LIMIT });
  });
  after(async () => {
    await bridge.close();
  });

  /**
   * Runs `send` and returns the one event it caused. Guard rejections and plain answers emit before
   * the response is written, so once the client has it, any second event would be there too.
   */
  async function onlyEventOf(send: () => Promise<unknown>): Promise<RequestFinishedEvent> {
    const before = bridge.events.length;
    await send();
    const emitted = bridge.events.slice(before);
    assert.equal(emitted.length, 1, `one event, got ${JSON.stringify(emitted.map((e) => [e.route, e.status]))}`);
    return emitted[0]!;
  }

  const raw = (options: Partial<Parameters<typeof rawRequest>[0]> & { path: string }): Promise<RawResponse> =>
    rawRequest({ port: bridge.port, ...options, headers: { 'user-agent': USER_AGENT, ...options.headers } });
  const authorized = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${bridge.apiKey}`, ...extra });

  it('GET /v1/models and GET /v1/models/{id}', async () => {
    const list = await onlyEventOf(() => raw({ path: '/v1/models', headers: authorized() }).then((r) => assert.equal(r.status, 200)));
    assert.equal(list.route, '/v1/models');
    assert.equal(list.status, 200);
    assert.equal(list.errorType, null);
    assert.equal(list.requestedModel, null);
    assert.equal(list.userAgent, USER_AGENT);
    assert.deepEqual(list.usage, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

    const missing = await onlyEventOf(() => raw({ path: '/v1/models/no-such-model', headers: authorized() }).then((r) => assert.equal(r.status, 404)));
    assert.equal(missing.route, '/v1/models/no-such-model');
    assert.equal(missing.status, 404);
    assert.equal(missing.errorType, 'invalid_request_error');
  });

  it('401 for a missing and for a wrong API key, with the route that was asked for', async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const noKey = await onlyEventOf(() =>
      raw({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body }).then((r) => assert.equal(r.status, 401)),
    );
    assert.equal(noKey.route, '/v1/chat/completions');
    assert.equal(noKey.status, 401);
    assert.equal(noKey.errorType, 'invalid_request_error');
    assert.equal(noKey.modelId, null);
    assert.equal(noKey.userAgent, USER_AGENT);

    const wrongKey = await onlyEventOf(() =>
      raw({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer not-the-key', 'content-type': 'application/json' }, body }).then((r) =>
        assert.equal(r.status, 401),
      ),
    );
    assert.equal(wrongKey.status, 401);
    assert.notEqual(wrongKey.id, noKey.id);
    assert.ok(!JSON.stringify(wrongKey).includes('not-the-key'), 'the presented key is not in the event');
  });

  it('403 for a foreign Host and a foreign Origin', async () => {
    const host = await onlyEventOf(() => raw({ path: '/v1/models', headers: authorized({ host: `evil.example:${bridge.port}` }) }).then((r) => assert.equal(r.status, 403)));
    assert.equal(host.status, 403);
    assert.equal(host.errorType, 'invalid_request_error');
    const origin = await onlyEventOf(() => raw({ path: '/v1/models', headers: authorized({ origin: 'https://evil.example' }) }).then((r) => assert.equal(r.status, 403)));
    assert.equal(origin.status, 403);
  });

  it('413 for a body over the limit, declared or chunked', async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT) }] });
    for (const chunked of [false, true]) {
      const event = await onlyEventOf(() =>
        raw({ method: 'POST', path: '/v1/chat/completions', headers: authorized({ 'content-type': 'application/json' }), body, chunked }).then((r) =>
          assert.equal(r.status, 413, `chunked: ${chunked}`),
        ),
      );
      assert.equal(event.status, 413);
      assert.equal(event.errorType, 'invalid_request_error');
      assert.equal(event.route, '/v1/chat/completions');
    }
  });

  it('415 for a body that is not JSON, 400 for malformed JSON', async () => {
    const unsupported = await onlyEventOf(() =>
      raw({ method: 'POST', path: '/v1/embeddings', headers: authorized({ 'content-type': 'text/plain' }), body: 'hello' }).then((r) => assert.equal(r.status, 415)),
    );
    assert.equal(unsupported.status, 415);
    assert.equal(unsupported.route, '/v1/embeddings');
    assert.equal(unsupported.errorType, 'invalid_request_error');
    const malformed = await onlyEventOf(() =>
      raw({ method: 'POST', path: '/v1/chat/completions', headers: authorized({ 'content-type': 'application/json' }), body: '{"model":' }).then((r) =>
        assert.equal(r.status, 400),
      ),
    );
    assert.equal(malformed.status, 400);
    assert.equal(malformed.errorType, 'invalid_request_error');
  });

  it('404 for an unknown path', async () => {
    const event = await onlyEventOf(() => raw({ path: '/v1/completions?x=1', headers: authorized() }).then((r) => assert.equal(r.status, 404)));
    assert.equal(event.route, '/v1/completions');
    assert.equal(event.status, 404);
    assert.equal(event.errorType, 'invalid_request_error');
  });

  it('a streamed chat completion emits its event at the end of the stream, after [DONE], with the time to first token', async () => {
    const before = bridge.events.length;
    let eventsAtFirstChunk = -1;
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: bridge.port, method: 'POST', path: '/v1/chat/completions', headers: bridge.headers({ 'user-agent': USER_AGENT }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (eventsAtFirstChunk < 0) eventsAtFirstChunk = bridge.events.length - before;
          body += chunk;
        });
        res.on('end', () => resolve(body));
        res.on('error', reject);
      });
      req.on('error', reject);
      // 9 upstream events, 150 ms apart: the handler returns long before the stream ends.
      req.end(JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'count [[chunks:5]] [[slow:150ms]]' }] }));
    });
    assert.equal(parseSse(text).at(-1), '[DONE]');
    assert.equal(eventsAtFirstChunk, 0, 'no event while the stream was still running');
    const emitted = bridge.events.slice(before);
    assert.equal(emitted.length, 1);
    const event = emitted[0]!;
    assert.equal(event.route, '/v1/chat/completions');
    assert.equal(event.stream, true);
    assert.equal(event.status, 200);
    assert.equal(event.errorType, null);
    assert.equal(event.userAgent, USER_AGENT);
    assert.equal(event.usage.outputTokens, 5);
    assert.equal(typeof event.timeToFirstTokenMs, 'number');
    assert.ok(event.timeToFirstTokenMs! < event.latencyMs, `ttft ${event.timeToFirstTokenMs} < latency ${event.latencyMs}`);
    assert.ok(event.latencyMs >= 1000, `latency ${event.latencyMs} ms spans the stream (9 x 150 ms)`);
  });

  it('a client that walks away mid-stream: one event, status 200, client_closed_request', async () => {
    const before = bridge.events.length;
    const eventPromise = bridge.nextEvent();
    await abandonAfterFirstBytes(
      bridge.port,
      '/v1/chat/completions',
      bridge.headers(),
      JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'a long one [[chunks:200]] [[slow:50ms]]' }] }),
    );
    const event = await eventPromise;
    assert.equal(event.status, 200);
    assert.equal(event.errorType, CLIENT_CLOSED);
    assert.equal(event.stream, true);
    // Whatever else could still finish it (the upstream abort, the response's close) must not add one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(bridge.events.length - before, 1);
  });
});
