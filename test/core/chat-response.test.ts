import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { toChatCompletion, finishReasonOf } from '../../src/core/chat-response.ts';
import type { ConversePlan } from '../../src/core/chat-request.ts';

const plan: ConversePlan = { input: { modelId: 'm', messages: [] }, structuredOutputTool: null, singleToolCall: false, thinking: false };
const context = { id: 'chatcmpl-123', created: 1_700_000_000, model: 'gpt-4o' };

function output(content: unknown[], stopReason: string, usage: Record<string, number> = { inputTokens: 10, outputTokens: 5, totalTokens: 15 }): ConverseCommandOutput {
  return {
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage,
    metrics: { latencyMs: 1 },
    $metadata: {},
  } as unknown as ConverseCommandOutput;
}

test('a text answer', () => {
  assert.deepEqual(toChatCompletion(output([{ text: 'Hello' }, { text: ' world' }], 'end_turn'), plan, context), {
    id: 'chatcmpl-123',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
  });
});

test('tool calls only: content is null, arguments are JSON strings, finish_reason tool_calls', () => {
  const result = toChatCompletion(
    output(
      [
        { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'tooluse_2', name: 'get_weather', input: { city: 'Rome' } } },
      ],
      'tool_use',
    ),
    plan,
    context,
  );
  assert.deepEqual(result.choices[0].message, {
    role: 'assistant',
    content: null,
    refusal: null,
    tool_calls: [
      { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'tooluse_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ],
  });
  assert.equal(result.choices[0].finish_reason, 'tool_calls');
});

test('text before a tool call is kept; parallel_tool_calls false keeps only the first call', () => {
  const result = toChatCompletion(
    output([{ text: 'Checking.' }, { toolUse: { toolUseId: 'a', name: 'f', input: {} } }, { toolUse: { toolUseId: 'b', name: 'f', input: {} } }], 'tool_use'),
    { ...plan, singleToolCall: true },
    context,
  );
  assert.equal(result.choices[0].message.content, 'Checking.');
  assert.deepEqual(result.choices[0].message.tool_calls?.map((c) => c.id), ['a']);
});

test('reasoning goes to reasoning_content, not content', () => {
  const result = toChatCompletion(
    output([{ reasoningContent: { reasoningText: { text: 'Let me think.', signature: 'sig' } } }, { text: '42' }], 'end_turn'),
    { ...plan, thinking: true },
    context,
  );
  assert.deepEqual(result.choices[0].message, { role: 'assistant', content: '42', refusal: null, reasoning_content: 'Let me think.' });
});

test('the structured-output tool becomes the JSON content with finish_reason stop', () => {
  const result = toChatCompletion(
    output([{ text: 'Here you go' }, { toolUse: { toolUseId: 'x', name: 'json_response', input: { a: 1, b: ['c'] } } }], 'tool_use'),
    { ...plan, structuredOutputTool: 'json_response' },
    context,
  );
  assert.deepEqual(result.choices[0].message, { role: 'assistant', content: '{"a":1,"b":["c"]}', refusal: null });
  assert.equal(result.choices[0].finish_reason, 'stop');
});

test('cache usage: prompt_tokens includes cache reads and writes', () => {
  const result = toChatCompletion(output([{ text: 'x' }], 'end_turn', { inputTokens: 5, outputTokens: 2, totalTokens: 1007, cacheReadInputTokens: 1000, cacheWriteInputTokens: 0 }), plan, context);
  assert.deepEqual(result.usage, { prompt_tokens: 1005, completion_tokens: 2, total_tokens: 1007, prompt_tokens_details: { cached_tokens: 1000 } });
});

test('finish reasons', () => {
  const reasons: [Parameters<typeof finishReasonOf>[0], string][] = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['tool_use', 'tool_calls'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
    [undefined, 'stop'],
  ];
  for (const [stopReason, finishReason] of reasons) assert.equal(finishReasonOf(stopReason), finishReason, String(stopReason));
  const filtered = toChatCompletion(output([], 'guardrail_intervened'), plan, context);
  assert.equal(filtered.choices[0].finish_reason, 'content_filter');
  assert.equal(filtered.choices[0].message.content, '');
  assert.equal(toChatCompletion(output([{ text: 'cut' }], 'max_tokens'), plan, context).choices[0].finish_reason, 'length');
});
