import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { lastConverseRequest } from '../support/clients.ts';

// Issue 2: a request field is honoured or answered with a 400 naming it, never silently ignored.
const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const OPUS_4_1 = 'us.anthropic.claude-opus-4-1-20250805-v1:0';
const NOVA = 'amazon.nova-micro-v1:0';

describe('request fields: honoured or a 400 naming them', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  const post = (path: string, body: unknown) => fetch(`${bridge.baseURL}${path}`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify(body) });
  const chat = (extra: Record<string, unknown>, model = CLAUDE) => post('/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra });

  async function assertUnsupported(response: Response, param: string): Promise<void> {
    assert.equal(response.status, 400, param);
    const { error } = await response.json();
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'unsupported_parameter');
    assert.equal(error.param, param);
    assert.match(error.message, new RegExp(`\\b${param}\\b`));
  }

  it('top_k reaches Claude as additionalModelRequestFields.top_k, next to nothing else', async () => {
    const response = await chat({ top_k: 5 });
    assert.equal(response.status, 200);
    assert.deepEqual(lastConverseRequest(bridge.emulator).additionalModelRequestFields, { top_k: 5 });
  });

  it('unknown fields, seed, prediction, verbosity and top_k off Claude: 400 naming the field, nothing sent to Bedrock', async () => {
    const recorded = bridge.emulator.recorder.all().length;
    await assertUnsupported(await chat({ foo: 'bar' }), 'foo');
    await assertUnsupported(await chat({ frobnicate: true, stream: true }), 'frobnicate');
    await assertUnsupported(await chat({ seed: 42 }), 'seed');
    await assertUnsupported(await chat({ prediction: { type: 'content', content: 'x' } }), 'prediction');
    await assertUnsupported(await chat({ verbosity: 'low' }), 'verbosity');
    await assertUnsupported(await chat({ top_k: 5 }, NOVA), 'top_k');
    await assertUnsupported(await post('/embeddings', { model: 'text-embedding-3-small', input: 'x', truncate: 'END' }), 'truncate');
    assert.equal(bridge.emulator.recorder.all().length, recorded, 'nothing reached Bedrock');
  });

  it('labels of the request and null values of known fields are accepted', async () => {
    const response = await chat({ user: 'me', metadata: { team: 'a' }, store: false, service_tier: 'auto', safety_identifier: 'u1', seed: null, prediction: null, verbosity: null });
    assert.equal(response.status, 200);
    assert.equal(lastConverseRequest(bridge.emulator).additionalModelRequestFields, undefined);
  });

  it('reasoning_effort xhigh on Claude Opus 4.1 stays within its 32000 output tokens (Bedrock answers 400 above)', async () => {
    const response = await chat({ reasoning_effort: 'xhigh' }, OPUS_4_1);
    assert.equal(response.status, 200);
    const sent = lastConverseRequest(bridge.emulator);
    assert.equal(sent.inferenceConfig?.maxTokens, 32000);
    assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 32000 - 8192 } });
  });
});
