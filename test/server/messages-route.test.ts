/**
 * /v1/messages at the HTTP level: live-log events (started, progress, one finished), a client that walks
 * away, application inference profiles, and the shared guards answering in Anthropic's envelope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestProgressEvent } from '../../src/core/request-events.ts';
import { APPLICATION_PROFILE_ID, EMULATOR_ACCOUNT_ID } from '../../src/emulator/catalog.ts';
import { CLIENT_CLOSED } from '../../src/server/routes/chat.ts';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';
import { abandonAfterFirstBytes, rawRequest } from '../support/http.ts';

const APP_ARN = `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${APPLICATION_PROFILE_ID}`;

describe('/v1/messages over HTTP', () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${bridge.origin}${path}`, { method: 'POST', headers: bridge.headers({ 'anthropic-version': '2023-06-01', ...headers }), body: JSON.stringify(body) });

  it('a stream: request-started, progress with the model and output so far, one request-finished', async () => {
    const started: string[] = [];
    const progress: RequestProgressEvent[] = [];
    const onStarted = (event: { route: string }) => started.push(event.route);
    const onProgress = (event: RequestProgressEvent) => progress.push(event);
    bridge.gateway.events.on('request-started', onStarted);
    bridge.gateway.events.on('request-progress', onProgress);
    try {
      const finished = bridge.nextEvent();
      const response = await post('/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'one two three [[slow:300ms]]' }] });
      await response.text();
      const event = await finished;
      assert.deepEqual(started, ['/v1/messages']);
      assert.ok(progress.length >= 2, `progress at resolution and while streaming: ${progress.length}`);
      assert.equal(progress[0]!.modelId, 'us.anthropic.claude-haiku-4-5-20251001-v1:0');
      assert.ok(progress.at(-1)!.outputTokens > 0);
      assert.equal(event.usage.outputTokens, 4);
    } finally {
      bridge.gateway.events.off('request-started', onStarted);
      bridge.gateway.events.off('request-progress', onProgress);
    }
  });

  it('a client that walks away mid-stream: one event, client_closed_request, the Bedrock stream cancelled', async () => {
    const before = bridge.events.length;
    const finished = bridge.nextEvent();
    await abandonAfterFirstBytes(
      bridge.port,
      '/v1/messages',
      bridge.headers(),
      JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'long [[chunks:200]] [[slow:50ms]]' }] }),
    );
    const event = await finished;
    assert.equal(event.errorType, CLIENT_CLOSED);
    assert.equal(event.status, 200);
    const deadline = Date.now() + 5000;
    while (bridge.emulator.recorder.last()?.errorType !== 'ClientDisconnected' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(bridge.emulator.recorder.last()?.errorType, 'ClientDisconnected', 'the emulator saw its stream closed');
    assert.equal(bridge.events.length - before, 1);
  });

  it('an application inference profile: invoked by its ARN, treated as the Claude model behind it, counted on that model', async () => {
    const response = await post('/v1/messages', { model: APP_ARN, max_tokens: 4000, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    const invoked = bridge.emulator.recorder.last()!;
    assert.equal(decodeURIComponent(invoked.modelId!), APP_ARN);
    assert.deepEqual((invoked.body as { thinking: unknown }).thinking, { type: 'enabled', budget_tokens: 3999 }, 'Sonnet 4.5 rules applied');
    const counted = await post('/v1/messages/count_tokens', { model: APP_ARN, messages: [{ role: 'user', content: 'a b c' }] });
    assert.deepEqual(await counted.json(), { input_tokens: 3 });
    assert.equal(bridge.emulator.recorder.last()!.modelId, 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  });

  it("the shared guards answer in Anthropic's envelope; HEAD probes need no key but a good Host", async () => {
    const noKey = await fetch(`${bridge.origin}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noKey.status, 401);
    const body = (await noKey.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'authentication_error');
    const notJson = await fetch(`${bridge.origin}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${bridge.apiKey}`, 'content-type': 'text/plain' }, body: 'hi' });
    assert.equal(((await notJson.json()) as { type: string }).type, 'error');
    const badJson = await fetch(`${bridge.origin}/v1/messages`, { method: 'POST', headers: bridge.headers(), body: '{"model":' });
    assert.equal(badJson.status, 400);
    assert.equal(((await badJson.json()) as { error: { type: string } }).error.type, 'invalid_request_error');

    const rebound = await rawRequest({ port: bridge.port, method: 'HEAD', path: '/api/hello', headers: { host: 'attacker.example:80' } });
    assert.equal(rebound.status, 403, 'DNS rebinding is refused before the probe answers');
    const openai = (await (await fetch(`${bridge.origin}/v1/models`, { headers: bridge.headers() })).json()) as { object: string };
    assert.equal(openai.object, 'list', "without anthropic-version: OpenAI's list");
  });
});
