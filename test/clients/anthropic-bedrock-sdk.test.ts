import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';

const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

describe('the Anthropic Bedrock SDK through the passthrough', () => {
  let bridge: TestBridge;
  let client: AnthropicBedrock;

  before(async () => {
    bridge = await startTestBridge();
    // As a user sets it up: the bridge as the base URL, the local key as the Bedrock API key.
    client = new AnthropicBedrock({ baseURL: bridge.origin, apiKey: bridge.apiKey, awsRegion: TEST_REGION, maxRetries: 0 });
  });
  after(async () => {
    await bridge.close();
  });

  it('creates a message with a tool call and records its usage', async () => {
    const finished = bridge.nextEvent();
    const message = await client.messages.create({
      model: PROFILE,
      max_tokens: 300,
      tools: [{ name: 'read_file', description: 'Reads a file', input_schema: { type: 'object', properties: { path: { type: 'string', examples: ['README.md'] } }, required: ['path'] } }],
      messages: [{ role: 'user', content: 'open it [[tool]]' }],
    });
    assert.equal(message.stop_reason, 'tool_use');
    const use = message.content.find((block) => block.type === 'tool_use');
    assert.deepEqual(use?.type === 'tool_use' ? use.input : null, { path: 'README.md' });
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/invoke');
    assert.equal(event.usage.outputTokens, message.usage.output_tokens);
    assert.equal(event.usage.inputTokens, message.usage.input_tokens);
  });

  it('streams a message with thinking, signature included, from the event stream the bridge relays', async () => {
    const finished = bridge.nextEvent();
    const stream = client.messages.stream({
      model: 'claude-sonnet',
      max_tokens: 2000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think then answer' }],
    });
    const message = await stream.finalMessage();
    const thinking = message.content.find((block) => block.type === 'thinking');
    assert.ok(thinking?.type === 'thinking' && thinking.signature.length > 0);
    const text = message.content.find((block) => block.type === 'text');
    assert.equal(text?.type === 'text' ? text.text : null, 'echo: think then answer');
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/invoke-with-response-stream');
    assert.equal(event.requestedModel, 'claude-sonnet');
    assert.equal(event.usage.outputTokens, message.usage.output_tokens);
  });

  it('gets an error the SDK understands for a wrong key', async () => {
    const wrong = new AnthropicBedrock({ baseURL: bridge.origin, apiKey: 'wrong', awsRegion: TEST_REGION, maxRetries: 0 });
    await assert.rejects(wrong.messages.create({ model: PROFILE, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), (error: any) => error.status === 401 && /Incorrect API key/.test(error.message));
  });
});
