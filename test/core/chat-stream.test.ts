import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { ChatStreamTranslator, type ChatCompletionChunk } from '../../src/core/chat-stream.ts';
import type { ConversePlan } from '../../src/core/chat-request.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

const plan: ConversePlan = { input: { modelId: 'm', messages: [] }, structuredOutputTool: null, singleToolCall: false, thinking: false };
const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'gpt-4o' };

function run(events: unknown[], options: { plan?: ConversePlan; includeUsage?: boolean } = {}) {
  const translator = new ChatStreamTranslator(options.plan ?? plan, { ...base, includeUsage: options.includeUsage ?? false });
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) chunks.push(...translator.push(event as ConverseStreamOutput));
  chunks.push(...translator.finish());
  return { translator, chunks, deltas: chunks.map((c) => c.choices[0] ? { ...c.choices[0].delta, finish: c.choices[0].finish_reason } : { usage: c.usage }) };
}

const usageEvent = { metadata: { usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19, cacheReadInputTokens: 3 }, metrics: { latencyMs: 5 } } };

test('a text stream: role first, content deltas, finish_reason, exact chunk shape', () => {
  const { chunks, translator } = run([
    { messageStart: { role: 'assistant' } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'lo' } } },
    { contentBlockStop: { contentBlockIndex: 0 } },
    { messageStop: { stopReason: 'end_turn' } },
    usageEvent,
  ]);
  const shape = (delta: object, finish: string | null) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  assert.deepEqual(chunks, [
    shape({ role: 'assistant', content: '' }, null),
    shape({ content: 'Hel' }, null),
    shape({ content: 'lo' }, null),
    shape({}, 'stop'),
  ]);
  assert.equal(translator.finishReason, 'stop');
  assert.deepEqual(translator.usage, { inputTokens: 12, outputTokens: 7, cacheReadTokens: 3, cacheWriteTokens: 0 });
});

test('include_usage: every chunk has usage null, then a final chunk with choices [] and the totals', () => {
  const { chunks } = run([{ messageStart: { role: 'assistant' } }, { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'x' } } }, { messageStop: { stopReason: 'max_tokens' } }, usageEvent], {
    includeUsage: true,
  });
  assert.equal(chunks.length, 4);
  for (const chunk of chunks.slice(0, 3)) assert.equal(chunk.usage, null);
  assert.equal(chunks[2]!.choices[0]!.finish_reason, 'length');
  assert.deepEqual(chunks[3], {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [],
    usage: { prompt_tokens: 15, completion_tokens: 7, total_tokens: 22, prompt_tokens_details: { cached_tokens: 3 } },
  });
});

test('parallel tool calls after text: tool_calls index counts tool calls from 0, not contentBlockIndex', () => {
  const { deltas, translator } = run([
    { messageStart: { role: 'assistant' } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking both.' } } },
    { contentBlockStop: { contentBlockIndex: 0 } },
    { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_1', name: 'get_weather' } } } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '"Paris"}' } } } },
    { contentBlockStop: { contentBlockIndex: 1 } },
    { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tu_2', name: 'get_time' } } } },
    { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{}' } } } },
    { contentBlockStop: { contentBlockIndex: 2 } },
    { messageStop: { stopReason: 'tool_use' } },
    usageEvent,
  ]);
  assert.deepEqual(deltas, [
    { role: 'assistant', content: '', finish: null },
    { content: 'Checking both.', finish: null },
    { tool_calls: [{ index: 0, id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '' } }], finish: null },
    { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }], finish: null },
    { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }], finish: null },
    { tool_calls: [{ index: 1, id: 'tu_2', type: 'function', function: { name: 'get_time', arguments: '' } }], finish: null },
    { tool_calls: [{ index: 1, function: { arguments: '{}' } }], finish: null },
    { finish: 'tool_calls' },
  ]);
  assert.equal(translator.finishReason, 'tool_calls');
  assert.equal(translator.toolCallCount, 2);
});

test('parallel_tool_calls false: later tool calls are not passed on', () => {
  const { deltas } = run(
    [
      { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'a', name: 'f' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{}' } } } },
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'b', name: 'f' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{}' } } } },
      { messageStop: { stopReason: 'tool_use' } },
    ],
    { plan: { ...plan, singleToolCall: true } },
  );
  assert.deepEqual(deltas, [
    { role: 'assistant', tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }], finish: null },
    { tool_calls: [{ index: 0, function: { arguments: '{}' } }], finish: null },
    { finish: 'tool_calls' },
  ]);
});

test('reasoning streams as reasoning_content; signatures are not shown', () => {
  const { deltas } = run([
    { messageStart: { role: 'assistant' } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Hmm, ' } } } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'six times seven.' } } } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'abc' } } } },
    { contentBlockStop: { contentBlockIndex: 0 } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { text: '42' } } },
    { messageStop: { stopReason: 'end_turn' } },
  ]);
  assert.deepEqual(deltas, [
    { role: 'assistant', content: '', finish: null },
    { reasoning_content: 'Hmm, ', finish: null },
    { reasoning_content: 'six times seven.', finish: null },
    { content: '42', finish: null },
    { finish: 'stop' },
  ]);
});

test('structured-output tool input streams as content with finish_reason stop', () => {
  const { deltas } = run(
    [
      { messageStart: { role: 'assistant' } },
      { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'x', name: 'json_response' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"a":' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '1}' } } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'tool_use' } },
    ],
    { plan: { ...plan, structuredOutputTool: 'json_response' } },
  );
  assert.deepEqual(deltas, [{ role: 'assistant', content: '', finish: null }, { content: '{"a":', finish: null }, { content: '1}', finish: null }, { finish: 'stop' }]);
});

test('finish reasons in streams: content filter', () => {
  assert.deepEqual(run([{ messageStop: { stopReason: 'guardrail_intervened' } }]).deltas, [{ role: 'assistant', finish: 'content_filter' }]);
  assert.deepEqual(run([{ messageStop: { stopReason: 'content_filtered' } }]).deltas, [{ role: 'assistant', finish: 'content_filter' }]);
  assert.deepEqual(run([{ messageStop: { stopReason: 'stop_sequence' } }]).deltas, [{ role: 'assistant', finish: 'stop' }]);
});

test('a stream without messageStart still puts role on the first chunk; finish() without include_usage is empty', () => {
  const translator = new ChatStreamTranslator(plan, { ...base, includeUsage: false });
  assert.deepEqual(translator.push({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'hi' } } } as ConverseStreamOutput)[0]!.choices[0]!.delta, { role: 'assistant', content: 'hi' });
  assert.deepEqual(translator.finish(), []);
  assert.equal(translator.finishReason, null);
});

test('in-stream exception events throw the mapped OpenAIError', () => {
  const translator = new ChatStreamTranslator(plan, { ...base, includeUsage: false });
  assert.throws(
    () => translator.push({ throttlingException: { message: 'slow down' } } as unknown as ConverseStreamOutput),
    (e: unknown) => e instanceof OpenAIError && e.status === 429 && e.message === 'slow down',
  );
  assert.throws(
    () => translator.push({ modelStreamErrorException: { message: 'model broke' } } as unknown as ConverseStreamOutput),
    (e: unknown) => e instanceof OpenAIError && e.status === 424,
  );
});

test('with a structured-output tool, stray text is dropped when the answer tool comes, and released when it does not', () => {
  const structuredPlan = { ...plan, structuredOutputTool: 'json_response' };
  const dropped = run(
    [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Here is JSON:' } } },
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'x', name: 'json_response' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{}' } } } },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { text: 'bye' } } },
      { messageStop: { stopReason: 'tool_use' } },
    ],
    { plan: structuredPlan },
  );
  assert.deepEqual(dropped.deltas, [{ role: 'assistant', content: '', finish: null }, { content: '{}', finish: null }, { finish: 'stop' }]);
  const released = run(
    [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Calling ' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'f.' } } },
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't', name: 'f' } } } },
      { messageStop: { stopReason: 'tool_use' } },
    ],
    { plan: structuredPlan },
  );
  assert.deepEqual(released.deltas, [
    { role: 'assistant', content: '', finish: null },
    { content: 'Calling f.', finish: null },
    { tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '' } }], finish: null },
    { finish: 'tool_calls' },
  ]);
});
