import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { constants as h2, type ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { CLIENT_CLOSED } from '../../src/server/routes/chat.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { parseSse, readSse } from '../support/sse.ts';

const MODEL = 'amazon.nova-micro-v1:0';

describe('failures', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  const chat = (content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${bridge.baseURL}/chat/completions`, {
      method: 'POST',
      headers: bridge.headers(),
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], ...extra }),
    });

  it('passes throttling through as 429 rate_limit_error with retry-after', async () => {
    for (const stream of [false, true]) {
      const eventPromise = bridge.nextEvent();
      const response = await chat('please [[throttle]] [[retry-after:2]]', { stream });
      assert.equal(response.status, 429, `stream: ${stream}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(response.headers.get('retry-after'), '2', 'retry-after passed on');
      const body = await response.json();
      assert.equal(body.error.type, 'rate_limit_error');
      assert.equal(typeof body.error.message, 'string');
      const event = await eventPromise;
      assert.equal(event.status, 429);
      assert.equal(event.errorType, 'rate_limit_error');
      assert.equal(event.stream, stream);
    }
  });

  it('sends a mid-stream exception as one OpenAI error event, then ends the stream', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await chat('tell me a story [[chunks:6]] [[fail-mid-stream]]', { stream: true });
    assert.equal(response.status, 200);
    const events = await readSse(response);
    assert.ok(events.length >= 2, 'some content before the failure');
    assert.ok(!events.includes('[DONE]'), 'no [DONE] after an error');
    const last = JSON.parse(events.at(-1)!);
    assert.equal(typeof last.error.message, 'string');
    assert.equal(typeof last.error.type, 'string');
    assert.ok('code' in last.error && 'param' in last.error);
    // Everything before it was ordinary chunks.
    for (const data of events.slice(0, -1)) assert.equal(JSON.parse(data).object, 'chat.completion.chunk');
    const event = await eventPromise;
    assert.equal(event.status, 200);
    assert.equal(event.stream, true);
    assert.notEqual(event.errorType, null);
  });

  it('aborts the upstream Bedrock stream when the client disconnects', async (t) => {
    const eventPromise = bridge.nextEvent();
    const startedAt = Date.now();
    // Watch the HTTP/2 stream the SDK opens to Bedrock for this request.
    const upstreamStreams: ClientHttp2Stream[] = [];
    const handler = bridge.clients.runtime.config.requestHandler as unknown as {
      handle: (request: unknown, options?: unknown) => Promise<{ response: { body: unknown } }>;
    };
    const originalHandle = handler.handle;
    handler.handle = async function (this: unknown, request, options) {
      const result = await originalHandle.call(this, request, options);
      const body = result.response.body as Partial<ClientHttp2Stream>;
      if (typeof body.rstCode !== 'undefined' || typeof body.close === 'function') upstreamStreams.push(body as ClientHttp2Stream);
      return result;
    };
    t.after(() => {
      handler.handle = originalHandle;
    });
    const firstChunk = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: bridge.port,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: bridge.headers(),
        },
        (res) => {
          assert.equal(res.statusCode, 200);
          res.once('data', (chunk: Buffer) => {
            // Walk away mid-stream.
            req.destroy();
            resolve(chunk.toString('utf8'));
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error);
      });
      req.end(JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'a long one [[chunks:200]] [[slow:50ms]]' }] }));
    });
    assert.ok(parseSse(firstChunk).length >= 1);
    const event = await eventPromise;
    assert.equal(event.errorType, CLIENT_CLOSED);
    assert.equal(event.status, 200);
    assert.ok(event.latencyMs < 200 * 50, 'did not wait for the whole upstream stream');
    // The SDK's HTTP/2 stream to Bedrock was reset, not left to run its
    // 200 x 50 ms = 10 s script.
    assert.equal(upstreamStreams.length, 1, 'one upstream ConverseStream');
    const upstream = upstreamStreams[0]!;
    const deadline = Date.now() + 3000;
    while (!upstream.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(upstream.closed, 'the upstream HTTP/2 stream was closed');
    // Reset by us (RST_STREAM; the SDK closes with NO_ERROR or CANCEL), before Bedrock's end of stream.
    assert.ok(upstream.rstCode === h2.NGHTTP2_NO_ERROR || upstream.rstCode === h2.NGHTTP2_CANCEL, `rstCode ${upstream.rstCode}`);
    assert.equal(upstream.readableEnded, false, 'closed before Bedrock finished sending');
    assert.ok(Date.now() - startedAt < 8000, 'closed long before the upstream script would have ended');
    // The emulator saw it too.
    const recorded = bridge.emulator.recorder.last('ConverseStream');
    assert.ok(recorded, 'the emulator saw the stream');
  });

  it('answers access denied with 403 permission_error', async () => {
    const response = await chat('[[deny]]');
    assert.equal(response.status, 403);
    const body = await response.json();
    assert.equal(body.error.type, 'permission_error');
  });
});
