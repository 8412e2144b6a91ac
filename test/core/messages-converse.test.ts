import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { anthropicStopReason, converseToMessage, messagesToConverse, MessagesStreamTranslator } from '../../src/core/messages-converse.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const NOVA = 'us.amazon.nova-lite-v1:0';

test('Messages -> Converse: system (mid-conversation ones joined), blocks, tools, choice; Claude-only parts dropped by name', () => {
  const { input, dropped } = messagesToConverse(
    {
      model: 'nova',
      max_tokens: 50,
      temperature: 0.2,
      stop_sequences: ['END'],
      system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search' }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 's' }, { type: 'tool_use', id: 'tu1', name: 'f', input: { a: 1 } }] },
        { role: 'system', content: 'later rule' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'ok', is_error: true }] },
      ],
    },
    NOVA,
    NOVA,
  );
  assert.deepEqual(input.system, [{ text: 'sys' }, { cachePoint: { type: 'default' } }, { text: 'later rule' }]);
  assert.deepEqual(input.inferenceConfig, { maxTokens: 50, temperature: 0.2, stopSequences: ['END'] });
  assert.equal(input.messages!.length, 3);
  assert.deepEqual(input.messages![0]!.content![1], { image: { format: 'png', source: { bytes: Buffer.from('AAAA', 'base64') } } });
  assert.deepEqual(input.messages![1]!.content, [{ toolUse: { toolUseId: 'tu1', name: 'f', input: { a: 1 } } }]);
  assert.deepEqual(input.messages![2]!.content, [{ toolResult: { toolUseId: 'tu1', content: [{ text: 'ok' }], status: 'error' } }]);
  assert.deepEqual(input.toolConfig, { tools: [{ toolSpec: { name: 'f', description: 'd', inputSchema: { json: { type: 'object' } } } }], toolChoice: { any: {} } });
  assert.deepEqual(dropped, ['thinking', 'messages[].content[]:thinking', 'tools:web_search_20250305']);
  assert.throws(
    () => messagesToConverse({ max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] }, NOVA, NOVA),
    (error: unknown) => error instanceof OpenAIError && error.status === 400 && /base64 images/.test(error.message),
  );
});

test('Converse -> Anthropic message and stop reasons', () => {
  const message = converseToMessage(
    { output: { message: { role: 'assistant', content: [{ text: 'hi' }, { toolUse: { toolUseId: 't', name: 'f', input: {} } }] } }, stopReason: 'tool_use', usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } } as any,
    { id: 'msg_1', model: 'nova' },
  );
  assert.deepEqual(message.content, [{ type: 'text', text: 'hi' }, { type: 'tool_use', id: 't', name: 'f', input: {} }]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.usage, { input_tokens: 3, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  assert.equal(anthropicStopReason('guardrail_intervened'), 'refusal');
  assert.equal(anthropicStopReason('malformed_model_output'), 'end_turn');
});

test('ConverseStream -> Anthropic events: blocks numbered from 0 in order, text blocks opened on their first delta', () => {
  const translator = new MessagesStreamTranslator({ id: 'msg_1', model: 'nova' });
  const events: ConverseStreamOutput[] = [
    { messageStart: { role: 'assistant' } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Calling' } } },
    { contentBlockStop: { contentBlockIndex: 0 } },
    { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't', name: 'f' } } } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":' } } } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '1}' } } } },
    { contentBlockStop: { contentBlockIndex: 1 } },
    { messageStop: { stopReason: 'tool_use' } },
    { metadata: { usage: { inputTokens: 4, outputTokens: 6, totalTokens: 10 }, metrics: { latencyMs: 1 } } },
  ] as ConverseStreamOutput[];
  const out = events.flatMap((event) => translator.push(event));
  assert.deepEqual(
    out.map((event) => `${event.type}${event.index !== undefined ? `:${event.index}` : ''}`),
    ['message_start', 'content_block_start:0', 'content_block_delta:0', 'content_block_stop:0', 'content_block_start:1', 'content_block_delta:1', 'content_block_delta:1', 'content_block_stop:1', 'message_delta', 'message_stop'],
  );
  assert.deepEqual(out.at(-2).delta, { stop_reason: 'tool_use', stop_sequence: null });
  assert.equal(out.at(-2).usage.output_tokens, 6);
  assert.deepEqual(translator.usage, { inputTokens: 4, outputTokens: 6, cacheReadTokens: 0, cacheWriteTokens: 0 });
});
