/**
 * Bedrock ConverseStream events -> Responses stream events and the final response, event type by event
 * type (src/core/responses-stream.ts), and the non-streamed path through the same translator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConverseCommandOutput, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { OpenAIError } from '../../src/core/openai-errors.ts';
import { decodeReasoning } from '../../src/core/responses-reasoning.ts';
import type { ResponsesPlan, ToolBinding } from '../../src/core/responses-request.ts';
import type { ResponseContext } from '../../src/core/responses-output.ts';
import { parseResponsesRequest } from '../../src/core/responses-schemas.ts';
import { reasoningBlockOf, ResponsesStreamTranslator, toResponse } from '../../src/core/responses-stream.ts';

interface Event {
  type: string;
  sequence_number: number;
  [key: string]: unknown;
}

function planOf(options: { tools?: Record<string, ToolBinding>; structured?: string; single?: boolean } = {}): ResponsesPlan {
  return {
    input: { modelId: 'm', messages: [] },
    structuredOutputTool: options.structured ?? null,
    singleToolCall: options.single ?? false,
    thinking: false,
    tools: new Map(Object.entries(options.tools ?? {})),
  };
}

function contextOf(includeReasoning = false): ResponseContext {
  return { id: 'resp_1', createdAt: 1_700_000_000, model: 'gpt-4o', request: parseResponsesRequest({ input: 'x' }), includeReasoning };
}

function parse(text: string): Event[] {
  const events: Event[] = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const [eventLine, dataLine] = block.split('\n');
    const event = JSON.parse(dataLine!.slice('data: '.length)) as Event;
    assert.equal(eventLine, `event: ${event.type}`, 'the SSE event name is the type');
    events.push(event);
  }
  return events;
}

function run(bedrock: unknown[], plan = planOf(), context = contextOf()) {
  const translator = new ResponsesStreamTranslator(plan, context);
  let text = translator.start();
  for (const event of bedrock) text += translator.push(event as ConverseStreamOutput);
  text += translator.finish();
  const events = parse(text);
  assert.deepEqual(events.map((event) => event.sequence_number), events.map((_, i) => i), 'sequence numbers count from 0');
  return { events, types: events.map((event) => event.type), response: translator.response, translator };
}

const text = (index: number, value: string) => ({ contentBlockDelta: { contentBlockIndex: index, delta: { text: value } } });
const stop = (index: number) => ({ contentBlockStop: { contentBlockIndex: index } });
const toolStart = (index: number, id: string, name: string) => ({ contentBlockStart: { contentBlockIndex: index, start: { toolUse: { toolUseId: id, name } } } });
const toolDelta = (index: number, input: string) => ({ contentBlockDelta: { contentBlockIndex: index, delta: { toolUse: { input } } } });
const messageStop = (stopReason: string) => ({ messageStop: { stopReason } });
const metadata = { metadata: { usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20, totalTokens: 135 } } };

test('a text turn: OpenAI order, deltas with logprobs, the full item at done, usage with cached tokens', () => {
  const { events, types, response } = run([{ messageStart: { role: 'assistant' } }, text(0, 'Hello'), text(0, ' world'), stop(0), messageStop('end_turn'), metadata]);
  assert.deepEqual(types, [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  assert.equal((events[0]!.response as { status: string }).status, 'in_progress');
  assert.deepEqual(events[4], { type: 'response.output_text.delta', item_id: (events[2]!.item as { id: string }).id, output_index: 0, content_index: 0, delta: 'Hello', logprobs: [], sequence_number: 4 });
  const done = events[8]!.item as { status: string; content: unknown[] };
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.content, [{ type: 'output_text', text: 'Hello world', annotations: [], logprobs: [] }]);
  assert.equal(response.status, 'completed');
  assert.deepEqual(response.usage, { input_tokens: 130, input_tokens_details: { cached_tokens: 100 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 135 });
  assert.deepEqual((events[9]!.response as { output: unknown[] }).output, response.output);
});

test('a function call: added with empty arguments, argument deltas, done with the arguments; text before it is its own message', () => {
  const { types, events, response } = run([text(0, 'Calling.'), stop(0), toolStart(1, 'tu_1', 'get_weather'), toolDelta(1, '{"city":'), toolDelta(1, '"Paris"}'), stop(1), messageStop('tool_use'), metadata]);
  assert.deepEqual(types.slice(8), [
    'response.output_item.added',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.done',
    'response.output_item.done',
    'response.completed',
  ]);
  assert.deepEqual((events[8]!.item as { arguments: string; call_id: string }).arguments, '');
  assert.deepEqual(events[11]!.arguments, '{"city":"Paris"}');
  const call = response.output[1]!;
  assert.ok(call.type === 'function_call');
  assert.equal(call.call_id, 'tu_1');
  assert.match(call.id, /^fc_/);
  assert.equal(response.status, 'completed', 'tool_use is a completed response');
});

test('namespaced and custom tools: the namespace comes back; a custom tool call carries its free-form input', () => {
  const plan = planOf({
    tools: {
      mcp__files__read: { kind: 'function', name: 'read', namespace: 'mcp__files' },
      apply_patch: { kind: 'custom', name: 'apply_patch', namespace: null },
    },
  });
  const patch = '*** Begin Patch\n*** End Patch\n';
  const { types, response, events } = run(
    [toolStart(0, 'a', 'mcp__files__read'), toolDelta(0, '{}'), stop(0), toolStart(1, 'b', 'apply_patch'), toolDelta(1, JSON.stringify({ input: patch })), stop(1), messageStop('tool_use')],
    plan,
  );
  const [read, custom] = response.output;
  assert.ok(read?.type === 'function_call' && custom?.type === 'custom_tool_call');
  assert.equal(read.name, 'read');
  assert.equal(read.namespace, 'mcp__files');
  assert.equal(custom.name, 'apply_patch');
  assert.equal(custom.input, patch);
  assert.match(custom.id, /^ctc_/);
  assert.deepEqual(types.slice(-5), ['response.output_item.added', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done', 'response.output_item.done', 'response.completed']);
  assert.equal(events[events.length - 3]!.input, patch);
});

test('reasoning: a summary part with deltas; encrypted_content (only when included) restores the exact signed block', () => {
  const bedrock = [
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Let me ' } } } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'think' } } } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2ln' } } } },
    stop(0),
    text(1, 'Answer'),
    stop(1),
    messageStop('end_turn'),
  ];
  const { types, response } = run(bedrock, planOf(), contextOf(true));
  assert.deepEqual(types.slice(2, 9), [
    'response.output_item.added',
    'response.reasoning_summary_part.added',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.done',
    'response.reasoning_summary_part.done',
    'response.output_item.done',
  ]);
  const reasoning = response.output[0]!;
  assert.ok(reasoning.type === 'reasoning');
  assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: 'Let me think' }]);
  assert.deepEqual(decodeReasoning(reasoning.encrypted_content!), { reasoningContent: { reasoningText: { text: 'Let me think', signature: 'c2ln' } } });
  const hidden = run(bedrock).response.output[0]!;
  assert.ok(hidden.type === 'reasoning');
  assert.equal(hidden.encrypted_content, undefined, 'not asked for: not sent');
  assert.deepEqual(reasoningBlockOf(hidden), { text: 'Let me think', signature: 'c2ln' }, 'but kept for a stored response');
  const redacted = run([{ contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { redactedContent: new Uint8Array([7]) } } } }, stop(0), messageStop('end_turn')], planOf(), contextOf(true));
  const item = redacted.response.output[0]!;
  assert.ok(item.type === 'reasoning');
  assert.deepEqual(item.summary, []);
  assert.deepEqual(decodeReasoning(item.encrypted_content!), { reasoningContent: { redactedContent: Buffer.from([7]) } });
});

test('structured output by a forced tool: its input streams as the message text; text around it is dropped', () => {
  const { response, types } = run([text(0, 'Sure:'), stop(0), toolStart(1, 's', 'person'), toolDelta(1, '{"name":'), toolDelta(1, '"Ada"}'), stop(1), messageStop('tool_use')], planOf({ structured: 'person' }));
  assert.equal(response.output.length, 1);
  const message = response.output[0]!;
  assert.ok(message.type === 'message');
  assert.equal(message.content[0]!.text, '{"name":"Ada"}');
  assert.equal(types.filter((type) => type === 'response.output_text.delta').length, 2);
  const fallback = run([text(0, 'I cannot.'), stop(0), messageStop('end_turn')], planOf({ structured: 'person' }));
  assert.equal(fallback.response.output.length, 1, 'no answer tool came: the held text is the answer');
  assert.ok(fallback.response.output[0]!.type === 'message');
});

test('parallel_tool_calls false: only the first tool call is passed on', () => {
  const { response } = run([toolStart(0, 'a', 'f'), toolDelta(0, '{}'), stop(0), toolStart(1, 'b', 'f'), toolDelta(1, '{}'), stop(1), messageStop('tool_use')], planOf({ single: true }));
  assert.equal(response.output.length, 1);
});

test('stop reasons: max_tokens and filters are incomplete (open items closed as incomplete), a full context window fails', () => {
  const cut = run([text(0, 'Once upon'), messageStop('max_tokens')]);
  assert.equal(cut.types[cut.types.length - 1], 'response.incomplete');
  assert.deepEqual(cut.response.incomplete_details, { reason: 'max_output_tokens' });
  const message = cut.response.output[0]!;
  assert.ok(message.type === 'message');
  assert.equal(message.status, 'incomplete');
  for (const reason of ['content_filtered', 'guardrail_intervened']) {
    assert.deepEqual(run([text(0, 'x'), stop(0), messageStop(reason)]).response.incomplete_details, { reason: 'content_filter' });
  }
  const cutShort = run([text(0, 'x')]);
  assert.equal(cutShort.types[cutShort.types.length - 1], 'response.failed', 'a stream that ended without messageStop is not complete');
  assert.equal(cutShort.response.error?.code, 'server_error');
  const full = run([text(0, 'x'), stop(0), messageStop('model_context_window_exceeded')]);
  assert.equal(full.types[full.types.length - 1], 'response.failed');
  assert.equal(full.response.error?.code, 'context_length_exceeded');
});

test('failures: in-stream exceptions throw; fail() is response.failed with OpenAI codes (and Bedrock retry hints)', () => {
  const translator = new ResponsesStreamTranslator(planOf(), contextOf());
  translator.start();
  assert.throws(() => translator.push({ throttlingException: { message: 'slow down' } } as never), (error: unknown) => error instanceof OpenAIError && error.status === 429);
  const failed = parse(translator.fail(new OpenAIError(429, 'Too many requests.', { headers: { 'retry-after': '3' } })));
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.type, 'response.failed');
  assert.equal(failed[0]!.sequence_number, 2);
  assert.deepEqual((failed[0]!.response as { error: unknown }).error, { code: 'rate_limit_exceeded', message: 'Too many requests. Please try again in 3s.' });
  assert.equal(translator.finish(), '', 'one terminal event only');
  const tooLong = new ResponsesStreamTranslator(planOf(), contextOf());
  tooLong.fail({ name: 'ValidationException', message: 'Input is too long for requested model.' });
  assert.equal(tooLong.response.error?.code, 'context_length_exceeded');
  const internal = new ResponsesStreamTranslator(planOf(), contextOf());
  internal.fail({ name: 'InternalServerException', message: 'boom' });
  assert.equal(internal.response.error?.code, 'server_error');
});

test('the live log: content seen, and output tokens estimated until Bedrock counts them', () => {
  const translator = new ResponsesStreamTranslator(planOf(), contextOf());
  translator.start();
  assert.equal(translator.sentContent, false);
  translator.push(text(0, 'x'.repeat(40)) as ConverseStreamOutput);
  assert.equal(translator.sentContent, true);
  assert.equal(translator.outputTokens, 10);
  translator.push(metadata as ConverseStreamOutput);
  assert.equal(translator.outputTokens, 5);
});

test('a non-streamed answer gives the same items as the streamed one', () => {
  const output: ConverseCommandOutput = {
    output: {
      message: {
        role: 'assistant',
        content: [
          { reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } },
          { text: 'Calling.' },
          { toolUse: { toolUseId: 't', name: 'f', input: { a: 1 } } },
        ],
      },
    },
    stopReason: 'tool_use',
    usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
    metrics: { latencyMs: 1 },
    $metadata: {},
  };
  const { response, usage } = toResponse(output, planOf(), contextOf(true));
  assert.deepEqual(response.output.map((item) => item.type), ['reasoning', 'message', 'function_call']);
  const call = response.output[2]!;
  assert.ok(call.type === 'function_call');
  assert.equal(call.arguments, '{"a":1}');
  assert.deepEqual(usage, { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0 });
  assert.equal(response.status, 'completed');
});
