/**
 * The official `@anthropic-ai/sdk`, unmodified, against the gateway's /v1/messages in front of the
 * Bedrock emulator: SDK -> gateway (HTTP/1.1, SSE) -> AWS SDK -> emulator (HTTP/2, InvokeModel).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic, { APIError, AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from '@anthropic-ai/sdk';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { echoOf } from '../support/clients.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const HAIKU_PROFILE = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const HAIKU_BASE = 'anthropic.claude-haiku-4-5-20251001-v1:0';

let bridge: TestBridge;
let client: Anthropic;

before(async () => {
  bridge = await startTestBridge({ gateway: { messagesPingIntervalMs: 300 } });
  client = new Anthropic({ baseURL: bridge.origin, apiKey: bridge.apiKey, maxRetries: 0 });
});

after(async () => {
  await bridge?.close();
});

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', examples: ['Paris'] } }, required: ['city'] },
};

function lastInvokeBody(): any {
  const entry = bridge.emulator.recorder.last();
  assert.ok(entry, 'the emulator saw a request');
  return entry.body;
}

describe('@anthropic-ai/sdk: messages', () => {
  test('non-streaming: Claude Code names resolve to the region profile; the native body reaches InvokeModel; usage recorded', async () => {
    const finished = bridge.nextEvent();
    const message = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 200, system: 'be brief', messages: [{ role: 'user', content: 'hello there' }] });
    assert.equal(message.type, 'message');
    assert.deepEqual(message.content, [{ type: 'text', text: echoOf('hello there') }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(message.usage, { input_tokens: 4, output_tokens: 3 });
    const entry = bridge.emulator.recorder.last()!;
    assert.equal(entry.operation, 'InvokeModel');
    assert.equal(entry.modelId, HAIKU_PROFILE);
    assert.equal(lastInvokeBody().anthropic_version, 'bedrock-2023-05-31');
    assert.equal(lastInvokeBody().model, undefined);
    const event = await finished;
    assert.equal(event.route, '/v1/messages');
    assert.equal(event.requestedModel, 'claude-haiku-4-5');
    assert.equal(event.modelId, HAIKU_PROFILE);
    assert.deepEqual(event.usage, { inputTokens: 4, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 });
    assert.equal(event.droppedFields, undefined, 'nothing to drop in a plain request');
  });

  test('dated names and aliases resolve too', async () => {
    await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(bridge.emulator.recorder.last()!.modelId, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    await client.messages.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(bridge.emulator.recorder.last()!.modelId, 'global.anthropic.claude-haiku-4-5-20251001-v1:0');
  });

  test('streaming: every Anthropic event in order, the final message, and the usage of message_start + message_delta + metrics', async () => {
    const finished = bridge.nextEvent();
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'stream these words' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    assert.equal((message.content[0] as Anthropic.TextBlock).text, echoOf('stream these words'));
    assert.deepEqual(types.slice(0, 2), ['message_start', 'content_block_start']);
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(bridge.emulator.recorder.last()!.operation, 'InvokeModelWithResponseStream');
    const event = await finished;
    assert.equal(event.stream, true);
    assert.equal(event.status, 200);
    assert.deepEqual(event.usage, { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0 });
    assert.ok(event.timeToFirstTokenMs !== null);
  });

  test('tools: a tool_use block, then the tool_result turn', async () => {
    const first = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 300, tools: [weather], messages: [{ role: 'user', content: 'weather? [[tool]]' }] });
    assert.equal(first.stop_reason, 'tool_use');
    const call = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
    assert.deepEqual(call.input, { city: 'Paris' });
    const second = client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 300,
      tools: [weather],
      messages: [
        { role: 'user', content: 'weather? [[tool]]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny 21C' }] },
      ],
    });
    const answer = await second.finalMessage();
    assert.deepEqual(answer.content, [{ type: 'text', text: 'tool result: sunny 21C' }]);
  });

  test('thinking: signed thinking blocks stream through and come back untouched on the next turn', async () => {
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'think' }] });
    const first = await stream.finalMessage();
    const thinking = first.content[0] as Anthropic.ThinkingBlock;
    assert.equal(thinking.type, 'thinking');
    assert.ok(thinking.signature.length > 10);
    const next = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think' }, { role: 'assistant', content: first.content }, { role: 'user', content: 'again' }],
    });
    assert.equal(next.type, 'message', 'the emulator checks the signature it gave');
  });

  test('count_tokens: Bedrock CountTokens on the foundation model id, free of usage records', async () => {
    const finished = bridge.nextEvent();
    const counted = await client.messages.countTokens({ model: 'claude-haiku-4-5', system: 'be nice', messages: [{ role: 'user', content: 'count these three' }] });
    assert.deepEqual(counted, { input_tokens: 5 });
    const entry = bridge.emulator.recorder.last()!;
    assert.equal(entry.operation, 'CountTokens');
    assert.equal(entry.modelId, HAIKU_BASE);
    assert.equal((await finished).route, '/v1/messages/count_tokens');
    await assert.rejects(client.messages.countTokens({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.match(error.message, /counts tokens \(CountTokens\) for Claude models only/);
      return true;
    });
  });
});

describe('@anthropic-ai/sdk: other Bedrock models through Converse', () => {
  const NOVA = 'us.amazon.nova-lite-v1:0';

  test('non-streaming and streaming answers, tool use, usage; Claude-only fields dropped by name', async () => {
    const finished = bridge.nextEvent();
    const message = await client.messages.create({ model: NOVA, max_tokens: 100, system: 'be brief', metadata: { user_id: 'u1' }, messages: [{ role: 'user', content: 'hello nova' }] });
    assert.deepEqual(message.content, [{ type: 'text', text: echoOf('hello nova') }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 4);
    const entry = bridge.emulator.recorder.last()!;
    assert.equal(entry.operation, 'Converse');
    assert.deepEqual((entry.body as any).system, [{ text: 'be brief' }]);
    const event = await finished;
    assert.deepEqual(event.droppedFields, ['metadata']);
    assert.deepEqual(event.usage, { inputTokens: 4, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 });

    const stream = client.messages.stream({ model: NOVA, max_tokens: 300, tools: [weather], messages: [{ role: 'user', content: 'weather? [[tool]]' }] });
    const streamed = await stream.finalMessage();
    assert.equal(streamed.stop_reason, 'tool_use');
    assert.deepEqual(streamed.content.map((block) => block.type), ['text', 'tool_use']);
    const call = streamed.content[1] as Anthropic.ToolUseBlock;
    assert.deepEqual(call.input, { city: 'Paris' });
    assert.equal(bridge.emulator.recorder.last()!.operation, 'ConverseStream');
    const answer = await client.messages.create({
      model: NOVA,
      max_tokens: 300,
      tools: [weather],
      messages: [
        { role: 'user', content: 'weather? [[tool]]' },
        { role: 'assistant', content: streamed.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: 'rain' }] }] },
      ],
    });
    assert.deepEqual(answer.content, [{ type: 'text', text: 'tool result: rain' }]);
  });
});

describe('@anthropic-ai/sdk: what Claude Code sends, made acceptable to Bedrock', () => {
  test('refused betas, a JSON-string user id, context_management, output_config.format, tools[].custom and server tools: dropped and named in the event', async () => {
    const finished = bridge.nextEvent();
    const message = await client.beta.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 1000,
      betas: ['claude-code-20250219', 'oauth-2025-04-20', 'interleaved-thinking-2025-05-14', 'context-management-2025-06-27'],
      metadata: { user_id: JSON.stringify({ device_id: 'd1', session_id: 's1' }) },
      context_management: { edits: [{ type: 'clear_thinking_20251015' }] } as any,
      output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } } } } } as any,
      tools: [{ ...weather, custom: { defer_loading: true } } as any, { type: 'web_search_20250305', name: 'web_search' } as any],
      messages: [{ role: 'user', content: 'hello [[no-tool]]' }],
    });
    assert.equal(message.type, 'message');
    const body = lastInvokeBody();
    assert.deepEqual(body.anthropic_beta, ['claude-code-20250219', 'interleaved-thinking-2025-05-14', 'context-management-2025-06-27']);
    assert.match(body.metadata.user_id, /^sha256:[0-9a-f]{40}$/);
    assert.equal(body.context_management, undefined);
    assert.equal(body.output_config, undefined);
    assert.deepEqual(body.tools.map((tool: any) => Object.keys(tool).sort()), [['description', 'input_schema', 'name']]);
    assert.match(body.system.at(-1).text, /JSON schema/);
    const event = await finished;
    assert.deepEqual([...event.droppedFields!].sort(), ['anthropic_beta:oauth-2025-04-20', 'context_management', 'metadata.user_id', 'output_config.format', 'tools:web_search_20250305', 'tools[].custom'].sort());
  });

  test('a beta the tables do not know is tried, and left out once Bedrock says "invalid beta flag"', async () => {
    const before = bridge.emulator.recorder.filter('InvokeModel').length;
    const finished = bridge.nextEvent();
    await client.beta.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, betas: ['thinking-token-count-2026-05-13', 'claude-code-20250219'], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(bridge.emulator.recorder.filter('InvokeModel').length - before, 2, 'refused once, then sent without it');
    assert.deepEqual(lastInvokeBody().anthropic_beta, ['claude-code-20250219']);
    assert.deepEqual((await finished).droppedFields, ['anthropic_beta:thinking-token-count-2026-05-13']);
    await client.beta.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, betas: ['thinking-token-count-2026-05-13'], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(bridge.emulator.recorder.filter('InvokeModel').length - before, 3, 'learnt: left out at once the next time');
  });

  test('mid-conversation system messages: joined to a user turn for a model without them', async () => {
    const finished = bridge.nextEvent();
    const message = await client.beta.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      betas: ['mid-conversation-system-2026-04-07'],
      messages: [{ role: 'system', content: 'be terse' } as any, { role: 'user', content: 'hello' }],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: echoOf('be terse hello') }]);
    assert.deepEqual(lastInvokeBody().messages, [{ role: 'user', content: [{ type: 'text', text: 'be terse' }, { type: 'text', text: 'hello' }] }]);
    assert.deepEqual((await finished).droppedFields, ['messages[].role:system', 'anthropic_beta:mid-conversation-system-2026-04-07']);
  });

  test('adaptive thinking: kept for Claude 4.6, a thinking budget for earlier models', async () => {
    await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8000, thinking: { type: 'adaptive' } as any, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(lastInvokeBody().thinking, { type: 'enabled', budget_tokens: 7999 }, 'as much as max_tokens leaves');
    await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8000, thinking: { type: 'adaptive' } as any, output_config: { effort: 'low' } as any, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(lastInvokeBody().thinking, { type: 'enabled', budget_tokens: 4000 }, 'low effort, a small budget');
    const message = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 8000, thinking: { type: 'adaptive' } as any, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(lastInvokeBody().thinking, { type: 'adaptive' });
    assert.equal(message.content[0]!.type, 'thinking');
  });
});

describe('@anthropic-ai/sdk: errors in Anthropic\'s envelope', () => {
  test('a bad key, an unknown model, a missing max_tokens', async () => {
    const wrong = new Anthropic({ baseURL: bridge.origin, apiKey: 'not-the-key', maxRetries: 0 });
    await assert.rejects(wrong.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), AuthenticationError);
    await assert.rejects(client.messages.create({ model: 'claude-nonexistent-9', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), NotFoundError);
    await assert.rejects(client.messages.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] } as any), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.deepEqual((error.error as any).error, { type: 'invalid_request_error', message: 'max_tokens: Field required' });
      return true;
    });
  });

  test('throttling: 429 rate_limit_error with retry-after', async () => {
    await assert.rejects(client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x [[throttle]] [[retry-after:7]]' }] }), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.headers?.get('retry-after'), '7');
      assert.equal((error.error as any).error.type, 'rate_limit_error');
      return true;
    });
  });

  test('Bedrock unavailable: 529 overloaded_error', async () => {
    await assert.rejects(client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x [[error:ServiceUnavailable]]' }] }), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 529);
      assert.equal((error.error as any).error.type, 'overloaded_error');
      return true;
    });
  });

  test('"Input is too long" becomes "prompt is too long: N tokens > M maximum" (Claude Code compacts on it)', async () => {
    const finished = bridge.nextEvent();
    await assert.rejects(client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'far too long [[too-long]]' }] }).finalMessage(), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal((error.error as any).error.message, 'prompt is too long: 4 tokens > 200000 maximum');
      return true;
    });
    assert.equal((await finished).errorType, 'invalid_request_error');
  });

  test('a failure mid-stream arrives as `event: error`', async () => {
    const finished = bridge.nextEvent();
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'one two three four [[fail-mid-stream:throttling]]' }] });
    await assert.rejects(stream.finalMessage(), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.match(error.message, /Too many requests/);
      return true;
    });
    const event = await finished;
    assert.equal(event.status, 200);
    assert.equal(event.errorType, 'ThrottlingException');
  });
});

describe('/v1/messages around the SDK', () => {
  test('pings keep a silent stream alive', async () => {
    const response = await fetch(`${bridge.origin}/v1/messages?beta=true`, {
      method: 'POST',
      headers: bridge.headers({ 'anthropic-version': '2023-06-01' }),
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 1, stream: true, messages: [{ role: 'user', content: 'slow one [[slow:1s]]' }] }),
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^event: message_start\n/, 'Bedrock\'s first event comes first');
    assert.ok((text.match(/event: ping\ndata: \{"type": "ping"\}/g) ?? []).length >= 2, 'pings in the 1 s gaps');
    assert.match(text, /event: message_stop\n/);
  });

  test('HEAD /api/hello answers without a key; GET /v1/models in Anthropic\'s shape with anthropic-version', async () => {
    for (const path of ['/api/hello', '/']) {
      const head = await fetch(`${bridge.origin}${path}`, { method: 'HEAD' });
      assert.equal(head.status, 200, path);
    }
    const response = await fetch(`${bridge.origin}/v1/models?limit=1000`, { headers: bridge.headers({ 'anthropic-version': '2023-06-01' }) });
    const list = (await response.json()) as any;
    assert.equal(list.has_more, false);
    const ids = list.data.map((model: any) => model.id);
    assert.ok(ids.includes('claude-haiku-4-5') && ids.includes('claude-sonnet-4-6'), 'Claude names the region has');
    assert.ok(!ids.includes('claude-opus-4-8'), 'not a Claude name the region lacks');
    assert.equal(list.data[0].type, 'model');
    const page = await client.models.list();
    assert.ok(page.data.some((model) => model.id === 'claude-haiku-4-5'));
    const one = await client.models.retrieve('claude-sonnet-4-5-20250929');
    assert.deepEqual(one, { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'claude-sonnet-4-5-20250929 (us.anthropic.claude-sonnet-4-5-20250929-v1:0)', created_at: '1970-01-01T00:00:00.000Z' });
    await assert.rejects(client.models.retrieve('claude-nonexistent-9'), NotFoundError);
  });
});
