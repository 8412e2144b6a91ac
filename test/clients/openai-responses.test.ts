/**
 * The official `openai` npm SDK's Responses API (`responses.create`, `responses.stream`, `responses.parse`,
 * retrieve/delete/inputItems), unmodified, against the gateway in front of the Bedrock emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import type { FunctionTool, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { z } from 'zod';
import { startTestBridge } from '../support/bridge.ts';
import { CHAT_MODEL, WEATHER_ARGS, WEATHER_TOOL, callingText, echoOf, lastConverseRequest } from '../support/clients.ts';

type Bridge = Awaited<ReturnType<typeof startTestBridge>>;

let bridge: Bridge;
let client: OpenAI;

before(async () => {
  bridge = await startTestBridge();
  client = new OpenAI({ baseURL: bridge.baseURL, apiKey: bridge.apiKey, maxRetries: 0 });
});

after(async () => {
  await bridge?.close();
});

const weather: FunctionTool = { type: 'function', name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: { ...WEATHER_TOOL.parameters }, strict: false };

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('openai SDK: responses.create / responses.stream', () => {
  test('create: text in, output_text out, with usage, a resp_ id and a usage record under /v1/responses', async () => {
    const finished = bridge.nextEvent();
    const { data: response, request_id: requestId } = await client.responses
      .create({ model: CHAT_MODEL, instructions: 'You are terse.', input: 'Hello there, bridge', store: false })
      .withResponse();
    assert.match(response.id, /^resp_[0-9a-f]{32}$/);
    assert.equal(response.id, `resp_${requestId!.replaceAll('-', '')}`);
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.model, CHAT_MODEL);
    assert.equal(response.instructions, 'You are terse.');
    assert.equal(response.output_text, echoOf('Hello there, bridge'));
    assert.equal(response.output.length, 1);
    const message = response.output[0]!;
    assert.equal(message.type, 'message');
    assert.match(message.id, /^msg_/);
    assert.deepEqual(response.usage, {
      input_tokens: 6,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 10,
    });
    const event = await finished;
    assert.equal(event.route, '/v1/responses');
    assert.equal(event.status, 200);
    assert.deepEqual(event.usage, { inputTokens: 6, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0 });
    const converse = lastConverseRequest(bridge.emulator);
    assert.deepEqual(converse.system, [{ text: 'You are terse.' }]);
    // No max_output_tokens: the model's whole output limit (Sonnet 4.5: 64000), as Codex needs.
    assert.equal(converse.inferenceConfig?.maxTokens, 64000);
  });

  test('stream: OpenAI event order, sequence numbers from 0 without gaps, no [DONE], the final response', async () => {
    const stream = client.responses.stream({ model: CHAT_MODEL, input: 'stream these words', store: false });
    const events = await collect(stream);
    const final = await stream.finalResponse();
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => index),
    );
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.equal(final.output_text, 'echo: stream these words');
    assert.equal(final.status, 'completed');
    assert.equal(final.usage?.output_tokens, 4);
  });

  test('tools: a function call comes back as a function_call item (create and stream alike)', async () => {
    const created = await client.responses.create({ model: CHAT_MODEL, input: "[[tool]] What's the weather?", tools: [weather], store: false });
    const call = created.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), WEATHER_ARGS);
    assert.match(call.call_id, /^tooluse_/);
    assert.equal(created.output_text, callingText('get_weather'));

    const stream = client.responses.stream({ model: CHAT_MODEL, input: "[[tool]] What's the weather?", tools: [weather], store: false });
    const events = await collect(stream);
    const final = await stream.finalResponse();
    const streamedCall = final.output.find((item) => item.type === 'function_call');
    assert.ok(streamedCall && streamedCall.type === 'function_call');
    assert.deepEqual(JSON.parse(streamedCall.arguments), WEATHER_ARGS);
    const types = events.map((event) => event.type);
    assert.ok(types.includes('response.function_call_arguments.delta'));
    const done = events.find((event) => event.type === 'response.function_call_arguments.done');
    assert.ok(done && done.type === 'response.function_call_arguments.done');
    assert.deepEqual(JSON.parse(done.arguments), WEATHER_ARGS);
  });

  test('a full tool round trip: function_call_output goes back as a toolResult and the model answers', async () => {
    const first = await client.responses.create({ model: CHAT_MODEL, input: "[[tool]] What's the weather?", tools: [weather], store: false });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    const input: ResponseInputItem[] = [
      { role: 'user', content: "[[tool]] What's the weather?" },
      ...(first.output as ResponseInputItem[]),
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
    ];
    const second = await client.responses.create({ model: CHAT_MODEL, input, tools: [weather], store: false });
    assert.equal(second.output_text, 'tool result: {"temperature":21}');
    const converse = lastConverseRequest(bridge.emulator);
    assert.deepEqual(converse.messages[1], {
      role: 'assistant',
      content: [{ text: callingText('get_weather') }, { toolUse: { toolUseId: call.call_id, name: 'get_weather', input: WEATHER_ARGS } }],
    });
    assert.deepEqual(converse.messages[2], { role: 'user', content: [{ toolResult: { toolUseId: call.call_id, content: [{ text: '{"temperature":21}' }] } }] });
  });

  test('previous_response_id: the stored conversation continues; retrieve, inputItems.list and delete', async () => {
    const first = await client.responses.create({ model: CHAT_MODEL, input: 'My name is Ada', metadata: { case: 'memory' } });
    const second = await client.responses.create({ model: CHAT_MODEL, previous_response_id: first.id, input: 'What is my name?' });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(second.output_text, echoOf('What is my name?'));
    const converse = lastConverseRequest(bridge.emulator);
    assert.deepEqual(converse.messages, [
      { role: 'user', content: [{ text: 'My name is Ada' }] },
      { role: 'assistant', content: [{ text: echoOf('My name is Ada') }] },
      { role: 'user', content: [{ text: 'What is my name?' }] },
    ]);

    const retrieved = await client.responses.retrieve(first.id);
    assert.equal(retrieved.id, first.id);
    assert.equal(retrieved.output_text, echoOf('My name is Ada'));
    assert.deepEqual(retrieved.metadata, { case: 'memory' });
    const items = await client.responses.inputItems.list(second.id);
    assert.equal(items.data.length, 1);
    const [item] = items.data;
    assert.ok(item && item.type === 'message');
    assert.deepEqual(item.content, [{ type: 'input_text', text: 'What is my name?' }]);

    await client.responses.delete(first.id);
    await assert.rejects(client.responses.retrieve(first.id), NotFoundError);
    // A chain whose start was deleted still works: each stored response holds its whole conversation.
    const third = await client.responses.create({ model: CHAT_MODEL, previous_response_id: second.id, input: 'Thanks' });
    assert.equal(third.status, 'completed');
    assert.equal(lastConverseRequest(bridge.emulator).messages.length, 5);
  });

  test('an unknown previous_response_id is a 400 naming it, never a silently empty history', async () => {
    await assert.rejects(client.responses.create({ model: CHAT_MODEL, previous_response_id: 'resp_nope', input: 'Hi' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'previous_response_id');
      assert.equal(error.code, 'previous_response_not_found');
      return true;
    });
  });

  test('store: false keeps nothing', async () => {
    const response = await client.responses.create({ model: CHAT_MODEL, input: 'forget me', store: false });
    await assert.rejects(client.responses.retrieve(response.id), NotFoundError);
  });

  test('structured output: responses.parse with a zod schema, native on Claude 4.5 and by a forced tool elsewhere', async () => {
    const Person = z.object({ name: z.string(), age: z.number() });
    const native = await client.responses.parse({ model: CHAT_MODEL, input: 'Who?', text: { format: zodTextFormat(Person, 'person') }, store: false });
    assert.deepEqual(Object.keys(native.output_parsed ?? {}).sort(), ['age', 'name']);
    assert.ok(lastConverseRequest(bridge.emulator).outputConfig, 'outputConfig.textFormat on a model that has it');

    const fallback = await client.responses.parse({ model: 'us.amazon.nova-pro-v1:0', input: 'Who?', text: { format: zodTextFormat(Person, 'person') }, store: false });
    assert.deepEqual(Object.keys(fallback.output_parsed ?? {}).sort(), ['age', 'name']);
    const converse = lastConverseRequest(bridge.emulator);
    assert.equal(converse.outputConfig, undefined);
    assert.deepEqual(converse.toolConfig?.toolChoice, { any: {} });
    assert.equal(fallback.output.length, 1, 'the forced tool call is the message, not a function_call');
  });

  test('reasoning round trip: thinking comes back as a reasoning item whose encrypted_content restores it next turn', async () => {
    const request = { model: CHAT_MODEL, tools: [weather], reasoning: { effort: 'low' as const }, include: ['reasoning.encrypted_content' as const], store: false };
    const first = await client.responses.create({ ...request, input: "[[tool]] What's the weather?" });
    const reasoning = first.output[0];
    assert.ok(reasoning && reasoning.type === 'reasoning');
    assert.match(reasoning.id, /^rs_/);
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: "Thinking about: What's the weather?" }]);
    assert.ok(reasoning.encrypted_content);
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    const second = await client.responses.create({
      ...request,
      input: [
        { role: 'user', content: "[[tool]] What's the weather?" },
        ...(first.output as ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ],
    });
    assert.equal(second.output_text, 'tool result: sunny');
    const converse = lastConverseRequest(bridge.emulator);
    // The signed thinking block leads the assistant turn again (the emulator checks the signature), so
    // thinking stays on for the continuation.
    assert.deepEqual(converse.messages[1]!.content[0], {
      reasoningContent: { reasoningText: { text: "Thinking about: What's the weather?", signature: converse.messages[1]!.content[0]!.reasoningContent.reasoningText.signature } },
    });
    assert.equal(converse.additionalModelRequestFields?.thinking?.type, 'enabled');
  });

  test('errors: hosted tools and unknown fields are 400s naming them', async () => {
    await assert.rejects(client.responses.create({ model: CHAT_MODEL, input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'tools[0].type');
      assert.match(error.message, /file_search/);
      return true;
    });
    await assert.rejects(client.responses.create({ model: CHAT_MODEL, input: 'x', conversation: 'conv_1' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'conversation');
      return true;
    });
  });

  test('failures in a stream arrive as response.failed with OpenAI codes: context_length_exceeded, rate_limit_exceeded, mid-stream', async () => {
    const failedWith = async (input: string) => {
      const events = await collect(await client.responses.create({ model: CHAT_MODEL, input, stream: true, store: false }));
      assert.deepEqual(events.slice(0, 2).map((event) => event.type), ['response.created', 'response.in_progress']);
      const last = events[events.length - 1]!;
      assert.equal(last.type, 'response.failed');
      assert.equal(last.response.status, 'failed');
      return last.response.error!;
    };
    assert.equal((await failedWith('[[too-long]] a long story')).code, 'context_length_exceeded');
    const throttled = await failedWith('[[throttle]] [[retry-after:2]] busy');
    assert.equal(throttled.code, 'rate_limit_exceeded');
    assert.match(throttled.message, /try again in 2s/);
    assert.equal((await failedWith('[[fail-mid-stream]] one two three four')).code, 'model_stream_error');
  });
});
