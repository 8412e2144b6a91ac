import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APPLICATION_PROFILE_ID, EMULATOR_ACCOUNT_ID } from '../../src/emulator/catalog.ts';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';
import { readSse } from '../support/sse.ts';

const MODEL = 'amazon.nova-micro-v1:0';
const USER_AGENT = 'routes-test/1.0';

describe('routes', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge({ models: { fast: MODEL, embed: 'amazon.titan-embed-text-v2:0' }, defaultModel: MODEL });
  });
  after(async () => {
    await bridge.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${bridge.baseURL}${path}`, { method: 'POST', headers: bridge.headers({ 'user-agent': USER_AGENT }), body: JSON.stringify(body) });
  const get = (path: string) => fetch(`${bridge.baseURL}${path}`, { headers: bridge.headers({ 'user-agent': USER_AGENT }) });

  it('answers a chat completion (non-streaming) and emits one request-finished event', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await post('/chat/completions', { model: 'fast', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const body = await response.json();
    assert.equal(body.object, 'chat.completion');
    assert.match(body.id, /^chatcmpl-[0-9a-f-]{36}$/);
    assert.equal(response.headers.get('x-request-id'), body.id.slice('chatcmpl-'.length));
    assert.equal(body.model, 'fast');
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(typeof body.choices[0].message.content, 'string');
    assert.ok(body.choices[0].message.content.length > 0);
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.ok(body.usage.prompt_tokens > 0);
    assert.ok(body.usage.completion_tokens > 0);

    const event = await eventPromise;
    assert.equal(`chatcmpl-${event.id}`, body.id);
    assert.equal(event.route, '/v1/chat/completions');
    assert.equal(event.requestedModel, 'fast');
    assert.equal(event.modelId, MODEL);
    assert.equal(event.region, TEST_REGION);
    assert.equal(event.stream, false);
    assert.equal(event.status, 200);
    assert.equal(event.errorType, null);
    assert.equal(event.usage.inputTokens, body.usage.prompt_tokens - event.usage.cacheReadTokens - event.usage.cacheWriteTokens);
    assert.equal(event.usage.outputTokens, body.usage.completion_tokens);
    assert.equal(event.userAgent, USER_AGENT);
    assert.ok(event.endedAt >= event.startedAt);
    assert.equal(event.latencyMs, event.endedAt - event.startedAt);
    assert.equal(event.timeToFirstTokenMs, null);
    // Never prompt or completion text.
    const serialized = JSON.stringify(event);
    assert.ok(!serialized.includes('Hello there'));
    assert.ok(!serialized.includes('Be brief'));
    assert.ok(!serialized.includes(body.choices[0].message.content));
  });

  it('streams a chat completion as SSE ending in [DONE], with usage when asked', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await post('/chat/completions', {
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Stream me something [[chunks:5]]' }],
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = await readSse(response);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
    const ids = new Set(chunks.map((chunk) => chunk.id));
    assert.equal(ids.size, 1);
    assert.match([...ids][0], /^chatcmpl-/);
    for (const chunk of chunks) assert.equal(chunk.object, 'chat.completion.chunk');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    assert.ok(text.length > 0);
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    assert.equal(finish.choices[0].finish_reason, 'stop');
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage.completion_tokens > 0);

    const event = await eventPromise;
    assert.equal(event.stream, true);
    assert.equal(event.status, 200);
    assert.equal(event.errorType, null);
    assert.equal(event.requestedModel, MODEL);
    assert.equal(event.modelId, MODEL);
    assert.equal(event.usage.outputTokens, usageChunk.usage.completion_tokens);
    assert.equal(typeof event.timeToFirstTokenMs, 'number');
    assert.ok(event.timeToFirstTokenMs! <= event.latencyMs);
    assert.equal(`chatcmpl-${event.id}`, usageChunk.id);
  });

  it('uses the default model when the request names none', async () => {
    const response = await post('/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    const event = bridge.events.at(-1)!;
    assert.equal(event.requestedModel, null);
    assert.equal(event.modelId, MODEL);
  });

  it('answers an unknown model with 404 model_not_found naming /v1/models', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await post('/chat/completions', { model: 'gpt-9000-ultra', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.error.code, 'model_not_found');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /\/v1\/models/);
    const event = await eventPromise;
    assert.equal(event.status, 404);
    assert.equal(event.errorType, 'invalid_request_error');
    assert.equal(event.requestedModel, 'gpt-9000-ultra');
    assert.equal(event.modelId, null);
  });

  it('answers an invalid request with 400 and an event', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await post('/chat/completions', { model: MODEL, messages: 'not a list' });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.type, 'invalid_request_error');
    const event = await eventPromise;
    assert.equal(event.status, 400);
    assert.equal(event.requestedModel, MODEL);
  });

  it('lists aliases, foundation models and inference profiles (system and application)', async () => {
    const response = await get('/models');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-bedrock-bridge-models-degraded'), null);
    const body = await response.json();
    assert.equal(body.object, 'list');
    const ids = new Set<string>(body.data.map((model: { id: string }) => model.id));
    for (const model of body.data) {
      assert.equal(model.object, 'model');
      assert.equal(typeof model.created, 'number');
      assert.equal(typeof model.owned_by, 'string');
    }
    assert.ok(ids.has('gpt-4o'), 'built-in alias');
    assert.ok(ids.has('fast'), 'configured alias');
    assert.ok(ids.has(MODEL), 'foundation model');
    assert.ok(ids.has('us.amazon.nova-micro-v1:0'), 'system-defined inference profile');
    const appArn = `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${APPLICATION_PROFILE_ID}`;
    assert.ok(ids.has(appArn), 'application inference profile');
    const fast = body.data.find((model: { id: string }) => model.id === 'fast');
    assert.equal(fast.bedrock_model_id, MODEL);
  });

  it('retrieves one model by alias, id, and ARN (raw or %2F-encoded slash)', async () => {
    const alias = await get('/models/gpt-4o');
    assert.equal(alias.status, 200);
    assert.equal((await alias.json()).id, 'gpt-4o');
    const id = await get(`/models/${MODEL}`);
    assert.equal(id.status, 200);
    assert.equal((await id.json()).id, MODEL);
    const appArn = `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${APPLICATION_PROFILE_ID}`;
    const raw = await get(`/models/${appArn}`);
    assert.equal(raw.status, 200);
    assert.equal((await raw.json()).id, appArn);
    const encoded = await get(`/models/${encodeURIComponent(appArn)}`);
    assert.equal(encoded.status, 200);
    assert.equal((await encoded.json()).id, appArn);
    const missing = await get('/models/no-such-model');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'model_not_found');
  });

  it('creates embeddings (Titan, array input, float and base64)', async () => {
    const eventPromise = bridge.nextEvent();
    const response = await post('/embeddings', { model: 'embed', input: ['first text', 'second text', 'third'], dimensions: 256 });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.object, 'list');
    assert.equal(body.data.length, 3);
    body.data.forEach((item: { object: string; index: number; embedding: number[] }, index: number) => {
      assert.equal(item.object, 'embedding');
      assert.equal(item.index, index);
      assert.equal(item.embedding.length, 256);
    });
    assert.ok(body.usage.prompt_tokens > 0);
    const event = await eventPromise;
    assert.equal(event.route, '/v1/embeddings');
    assert.equal(event.modelId, 'amazon.titan-embed-text-v2:0');
    assert.equal(event.usage.inputTokens, body.usage.prompt_tokens);

    const base64 = await post('/embeddings', { model: 'cohere.embed-english-v3', input: 'one text', encoding_format: 'base64' });
    assert.equal(base64.status, 200);
    const encoded = await base64.json();
    assert.equal(typeof encoded.data[0].embedding, 'string');
    assert.ok(Buffer.from(encoded.data[0].embedding, 'base64').length % 4 === 0);
  });

  it('switches the default model and aliases at runtime with setModels()', async () => {
    const saved = { aliases: { ...bridge.gateway.models.aliases }, defaultModel: bridge.gateway.models.defaultModel };
    try {
      bridge.gateway.setModels({ aliases: { ...saved.aliases, swapped: 'amazon.nova-lite-v1:0' }, defaultModel: 'amazon.nova-pro-v1:0' });
      const eventPromise = bridge.nextEvent();
      const response = await post('/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(response.status, 200);
      assert.equal((await eventPromise).modelId, 'amazon.nova-pro-v1:0');
      const list = await (await get('/models')).json();
      assert.ok(list.data.some((model: { id: string; bedrock_model_id?: string }) => model.id === 'swapped' && model.bedrock_model_id === 'amazon.nova-lite-v1:0'));
      assert.equal((await get('/models/swapped')).status, 200);
    } finally {
      bridge.gateway.setModels(saved);
    }
  });

  it('refuses embeddings from a chat model with a clear 400', async () => {
    const response = await post('/embeddings', { model: MODEL, input: 'x' });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.param, 'model');
  });
});
