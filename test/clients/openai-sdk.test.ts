/**
 * The official `openai` npm SDK, unmodified, against the gateway in front of the Bedrock emulator.
 * Everything goes over real sockets: SDK -> gateway (HTTP/1.1, SSE) -> AWS SDK -> emulator (HTTP/2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError } from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startTestBridge } from '../support/bridge.ts';
import { CHAT_MODEL, EMBEDDING_MODEL, TIME_ARGS, TIME_TOOL, WEATHER_ARGS, WEATHER_TOOL, callingText, echoOf, lastConverseRequest } from '../support/clients.ts';

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

const tools: ChatCompletionTool[] = [
  { type: 'function', function: WEATHER_TOOL },
  { type: 'function', function: TIME_TOOL },
];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('openai SDK: chat completions', () => {
  test('non-streaming: echoes deterministically, with usage and finish_reason stop', async () => {
    const { data: completion, request_id: requestId } = await client.chat.completions
      .create({
        model: CHAT_MODEL,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Hello there, bridge' },
        ],
      })
      .withResponse();
    assert.ok(requestId, 'x-request-id is sent');
    assert.equal(completion.id, `chatcmpl-${requestId}`);
    assert.ok(
      bridge.events.some((event) => event.id === requestId && event.status === 200),
      'the request-finished event carries the same id',
    );
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, CHAT_MODEL);
    assert.equal(completion.choices.length, 1);
    const choice = completion.choices[0]!;
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, echoOf('Hello there, bridge'));
    assert.equal(choice.finish_reason, 'stop');
    assert.ok(completion.usage, 'usage present');
    assert.ok(completion.usage.prompt_tokens > 0);
    assert.ok(completion.usage.completion_tokens > 0);
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);

    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(sent.system, [{ text: 'You are terse.' }]);
  });

  test('streaming: deltas concatenate to the echo, one finish_reason stop, no usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'Stream me a reply please' }],
    });
    const chunks = await collect(stream);
    assert.ok(chunks.length >= 2, `several chunks, got ${chunks.length}`);
    const ids = new Set(chunks.map((chunk) => chunk.id));
    assert.equal(ids.size, 1, 'every chunk carries the same id');
    for (const chunk of chunks) assert.equal(chunk.object, 'chat.completion.chunk');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, echoOf('Stream me a reply please'));
    const finishReasons = chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter((reason) => reason != null);
    assert.deepEqual(finishReasons, ['stop']);
    assert.ok(chunks.every((chunk) => chunk.choices.length === 1), 'no usage-only chunk without include_usage');
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  });

  test('streaming with stream_options.include_usage: a final chunk with choices [] and usage', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Count my tokens' }],
    });
    const chunks = await collect(stream);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage, 'the last chunk carries usage');
    assert.ok(last.usage.prompt_tokens > 0);
    assert.ok(last.usage.completion_tokens > 0);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
    for (const chunk of chunks.slice(0, -1)) assert.ok(chunk.usage == null, 'only the last chunk has usage');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, echoOf('Count my tokens'));
  });

  test('tools, non-streaming: parallel tool calls with ids, names and JSON arguments', async () => {
    const completion = await client.chat.completions.create({
      model: CHAT_MODEL,
      tools,
      messages: [{ role: 'user', content: 'Weather and time in Paris? [[tools:2]]' }],
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, callingText('get_weather', 'get_time'));
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, 2);
    const functions = calls.map((call) => {
      assert.equal(call.type, 'function');
      assert.ok(call.type === 'function' && call.id.length > 0);
      return { id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) as unknown };
    });
    assert.deepEqual(
      functions.map(({ name, args }) => ({ name, args })),
      [
        { name: 'get_weather', args: WEATHER_ARGS },
        { name: 'get_time', args: TIME_ARGS },
      ],
    );
    assert.notEqual(functions[0]!.id, functions[1]!.id, 'distinct tool call ids');

    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(
      sent.toolConfig?.tools.map((tool) => tool.toolSpec?.name),
      ['get_weather', 'get_time'],
    );
    assert.deepEqual(sent.toolConfig?.tools[0]!.toolSpec?.inputSchema.json, WEATHER_TOOL.parameters);
  });

  test('tools, streamed: tool_calls[].index counts 0,1 (not contentBlockIndex), arguments assemble to JSON', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      tools,
      messages: [{ role: 'user', content: 'Weather and time in Paris? [[tools:2]]' }],
    });
    const chunks = await collect(stream);
    const byIndex = new Map<number, { id: string; name: string; args: string }>();
    const indexOrder: number[] = [];
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (indexOrder.at(-1) !== delta.index) indexOrder.push(delta.index);
        let entry = byIndex.get(delta.index);
        if (!entry) {
          assert.ok(delta.id, `the first delta of tool call ${delta.index} carries its id`);
          assert.ok(delta.function?.name, `the first delta of tool call ${delta.index} carries its name`);
          assert.equal(delta.type, 'function');
          entry = { id: delta.id, name: delta.function.name, args: '' };
          byIndex.set(delta.index, entry);
        } else {
          assert.ok(!delta.id || delta.id === entry.id, 'later deltas do not change the id');
        }
        entry.args += delta.function?.arguments ?? '';
      }
    }
    assert.deepEqual(indexOrder, [0, 1], 'indices 0 then 1, in order (Bedrock content blocks 1 and 2: a text block came first)');
    const first = byIndex.get(0)!;
    const second = byIndex.get(1)!;
    assert.notEqual(first.id, second.id);
    assert.equal(first.name, 'get_weather');
    assert.equal(second.name, 'get_time');
    assert.deepEqual(JSON.parse(first.args), WEATHER_ARGS);
    assert.deepEqual(JSON.parse(second.args), TIME_ARGS);
    const argumentDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).filter((delta) => delta.function?.arguments);
    assert.ok(argumentDeltas.length > 2, 'arguments arrive in several pieces');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, callingText('get_weather', 'get_time'));
    const finishReasons = chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter((reason) => reason != null);
    assert.deepEqual(finishReasons, ['tool_calls']);

    // The same ids and arguments as the SDK's own stream accumulator sees them.
    const runner = client.chat.completions.stream({
      model: CHAT_MODEL,
      tools,
      messages: [{ role: 'user', content: 'Weather and time in Paris? [[tools:2]]' }],
    });
    const final = await runner.finalChatCompletion();
    const finalCalls = final.choices[0]!.message.tool_calls ?? [];
    assert.deepEqual(
      finalCalls.map((call) => (call.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : null)),
      [
        ['get_weather', WEATHER_ARGS],
        ['get_time', TIME_ARGS],
      ],
    );
  });

  test('reasoning, text and two tool calls in one stream: indices still 0,1; usage chunk last', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'low',
      tools,
      messages: [{ role: 'user', content: 'think and call [[tools:2]]' }],
    });
    const chunks = await collect(stream);
    let reasoning = '';
    let text = '';
    const calls: Array<{ index: number; id: string; name: string; args: string }> = [];
    for (const chunk of chunks) {
      const delta = chunk.choices[0]?.delta as (ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }) | undefined;
      reasoning += delta?.reasoning_content ?? '';
      text += delta?.content ?? '';
      for (const call of delta?.tool_calls ?? []) {
        if (call.id) calls.push({ index: call.index, id: call.id, name: call.function?.name ?? '', args: '' });
        calls.find((entry) => entry.index === call.index)!.args += call.function?.arguments ?? '';
      }
    }
    assert.equal(reasoning, 'Thinking about: think and call');
    assert.equal(text, callingText('get_weather', 'get_time'));
    assert.deepEqual(
      calls.map(({ index, name, args }) => [index, name, JSON.parse(args)]),
      [
        [0, 'get_weather', WEATHER_ARGS],
        [1, 'get_time', TIME_ARGS],
      ],
    );
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.ok((chunks.at(-1)!.usage?.completion_tokens ?? 0) > 0);
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter((reason) => reason != null),
      ['tool_calls'],
    );
  });

  test('a full tool round trip: tool_calls -> tool messages -> final answer; Converse saw toolUse/toolResult', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris? [[tool]]' }];
    const first = await client.chat.completions.create({ model: CHAT_MODEL, tools, messages });
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    const assistant = first.choices[0]!.message;
    const calls = assistant.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.type, 'function');
    if (call.type !== 'function') return;
    assert.equal(call.function.name, 'get_weather');
    const callArgs = JSON.parse(call.function.arguments) as Record<string, unknown>;
    assert.deepEqual(callArgs, WEATHER_ARGS);

    messages.push(assistant);
    messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature_c: 21, sky: 'clear' }) });
    const second = await client.chat.completions.create({ model: CHAT_MODEL, tools, messages });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    // The emulated model answers a turn of tool results with what the tools returned.
    assert.equal(second.choices[0]!.message.content, 'tool result: {"temperature_c":21,"sky":"clear"}');
    assert.equal(second.choices[0]!.message.tool_calls ?? undefined, undefined);

    const sent = lastConverseRequest(bridge.emulator);
    const converseMessages = sent.messages as Array<{ role: string; content: Array<Record<string, any>> }>;
    assert.deepEqual(
      converseMessages.map((message) => message.role),
      ['user', 'assistant', 'user'],
    );
    const toolUse = converseMessages[1]!.content.find((block) => block.toolUse)?.toolUse;
    assert.ok(toolUse, 'the assistant turn carries a toolUse block');
    assert.equal(toolUse.toolUseId, call.id);
    assert.equal(toolUse.name, call.function.name);
    assert.deepEqual(toolUse.input, callArgs);
    const toolResult = converseMessages[2]!.content.find((block) => block.toolResult)?.toolResult;
    assert.ok(toolResult, 'the next user turn carries a toolResult block');
    assert.equal(toolResult.toolUseId, call.id);
    const resultContent = toolResult.content as Array<Record<string, unknown>>;
    const asJson = resultContent.find((part) => 'json' in part)?.json;
    const asText = resultContent.find((part) => 'text' in part)?.text;
    if (asJson !== undefined) assert.deepEqual(asJson, { temperature_c: 21, sky: 'clear' });
    else assert.deepEqual(JSON.parse(String(asText)), { temperature_c: 21, sky: 'clear' });
  });

  test('reasoning_effort: reasoning_content on the message and in deltas, apart from content', async () => {
    const completion = await client.chat.completions.create({
      model: CHAT_MODEL,
      reasoning_effort: 'low',
      max_completion_tokens: 4000,
      messages: [{ role: 'user', content: 'Think first [[reasoning]]' }],
    });
    const message = completion.choices[0]!.message as typeof completion.choices[0]['message'] & { reasoning_content?: string };
    assert.equal(message.reasoning_content, 'Thinking about: Think first');
    assert.equal(message.content, echoOf('Think first'), 'reasoning is not mixed into content');

    const sent = lastConverseRequest(bridge.emulator);
    const thinking = sent.additionalModelRequestFields?.thinking as { type?: string; budget_tokens?: number } | undefined;
    assert.equal(thinking?.type, 'enabled');
    assert.ok((thinking?.budget_tokens ?? 0) > 0 && thinking!.budget_tokens! < (sent.inferenceConfig?.maxTokens ?? 0));

    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      reasoning_effort: 'low',
      max_completion_tokens: 4000,
      messages: [{ role: 'user', content: 'Think first [[reasoning]]' }],
    });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as ({ reasoning_content?: string | null } & ChatCompletionChunk.Choice.Delta) | undefined;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
    }
    assert.equal(reasoning, message.reasoning_content);
    assert.equal(content, message.content);
  });

  const citySchema = {
    type: 'object',
    properties: { city: { type: 'string', examples: ['Lyon'] }, country: { type: 'string', examples: ['France'] } },
    required: ['city', 'country'],
    additionalProperties: false,
  };

  test('response_format json_schema (strict): native structured output; content parses as JSON', async () => {
    const completion = await client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'Give me a city and its country' }],
      response_format: { type: 'json_schema', json_schema: { name: 'city', strict: true, schema: citySchema } },
    });
    const content = completion.choices[0]!.message.content;
    assert.deepEqual(JSON.parse(content ?? 'null'), { city: 'Lyon', country: 'France' });
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(completion.choices[0]!.message.tool_calls ?? undefined, undefined);

    const sent = lastConverseRequest(bridge.emulator);
    const schema = sent.outputConfig?.textFormat?.structure?.jsonSchema?.schema;
    assert.equal(typeof schema, 'string', 'the schema went to outputConfig.textFormat');
    assert.deepEqual(JSON.parse(schema), citySchema);
  });

  test('response_format json_schema (not strict), streamed: the forced-tool fallback arrives as content', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'Give me a city and its country' }],
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema: citySchema } },
    });
    const chunks = await collect(stream);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.deepEqual(JSON.parse(content), { city: 'Lyon', country: 'France' });
    assert.ok(chunks.every((chunk) => chunk.choices[0]?.delta.tool_calls === undefined), 'no tool call leaks to the client');
    const finishReasons = chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter((reason) => reason != null);
    assert.deepEqual(finishReasons, ['stop']);
  });

  test('response_format json_object: content parses as JSON', async () => {
    const completion = await client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'Answer in JSON please' }],
      response_format: { type: 'json_object' },
    });
    const content = completion.choices[0]!.message.content;
    assert.equal(typeof JSON.parse(content ?? 'null'), 'object');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
  });
});

describe('openai SDK: more of the chat surface', () => {
  test('parallel tool results: two tool messages become one user turn of two toolResults; streamed answer', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather and time in Paris? [[tools:2]]' }];
    const first = await client.chat.completions.create({ model: CHAT_MODEL, tools, messages });
    const assistant = first.choices[0]!.message;
    const calls = (assistant.tool_calls ?? []).filter((call) => call.type === 'function');
    assert.equal(calls.length, 2);
    messages.push(assistant);
    messages.push({ role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny' });
    messages.push({ role: 'tool', tool_call_id: calls[1]!.id, content: [{ type: 'text', text: '14:05' }] });
    const stream = await client.chat.completions.create({ model: CHAT_MODEL, tools, messages, stream: true });
    const chunks = await collect(stream);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, 'tool result: sunny; 14:05');

    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(
      sent.messages.map((message) => message.role),
      ['user', 'assistant', 'user'],
    );
    assert.deepEqual(
      sent.messages[1]!.content.filter((block) => block.toolUse).map((block) => [block.toolUse.toolUseId, block.toolUse.name, block.toolUse.input]),
      [
        [calls[0]!.id, 'get_weather', WEATHER_ARGS],
        [calls[1]!.id, 'get_time', TIME_ARGS],
      ],
    );
    const results = sent.messages[2]!.content.map((block) => block.toolResult);
    assert.deepEqual(
      results.map((result) => result?.toolUseId),
      [calls[0]!.id, calls[1]!.id],
    );
    assert.deepEqual(results[0].content, [{ text: 'sunny' }]);
    assert.deepEqual(results[1].content, [{ text: '14:05' }]);
  });

  test('tool_choice required -> toolChoice any; a named function -> toolChoice tool', async () => {
    const required = await client.chat.completions.create({
      model: CHAT_MODEL,
      tools,
      tool_choice: 'required',
      messages: [{ role: 'user', content: 'Do something' }],
    });
    assert.equal(required.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(lastConverseRequest(bridge.emulator).toolConfig?.toolChoice, { any: {} });

    const named = await client.chat.completions.create({
      model: CHAT_MODEL,
      tools,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      messages: [{ role: 'user', content: 'What time is it?' }],
    });
    const call = named.choices[0]!.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'get_time');
    assert.deepEqual(JSON.parse(call.function.arguments), TIME_ARGS);
    assert.deepEqual(lastConverseRequest(bridge.emulator).toolConfig?.toolChoice, { tool: { name: 'get_time' } });
  });

  test('an inference profile id and an application inference profile ARN work as model names', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    const arn = ids.find((id) => id.startsWith('arn:aws:bedrock:') && id.includes(':application-inference-profile/'))!;
    for (const model of ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', arn]) {
      const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello profile' }] });
      assert.equal(completion.model, model, 'the response echoes the model asked for');
      assert.equal(completion.choices[0]!.message.content, echoOf('Hello profile'));
      assert.equal(bridge.emulator.recorder.last('Converse')?.modelId, model, 'the emulator was called with that exact id');
    }
  });

  test('max_tokens -> finish_reason length; stop -> the text is cut', async () => {
    const short = await client.chat.completions.create({
      model: CHAT_MODEL,
      max_tokens: 3,
      messages: [{ role: 'user', content: 'one two three four five' }],
    });
    assert.equal(short.choices[0]!.finish_reason, 'length');
    assert.equal(short.choices[0]!.message.content, 'echo: one two');
    assert.equal(short.usage?.completion_tokens, 3);

    const stopped = await client.chat.completions.create({
      model: CHAT_MODEL,
      stop: ['four'],
      messages: [{ role: 'user', content: 'one two three four five' }],
    });
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.equal(stopped.choices[0]!.message.content, 'echo: one two three');
    assert.deepEqual(lastConverseRequest(bridge.emulator).inferenceConfig?.stopSequences, ['four']);
  });

  test('an image_url data URI reaches Bedrock as image bytes', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const completion = await client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
          ],
        },
      ],
    });
    assert.equal(completion.choices[0]!.message.content, echoOf('What is in this picture?'));
    const content = lastConverseRequest(bridge.emulator).messages[0]!.content;
    const image = content.find((block) => block.image)?.image;
    assert.equal(image?.format, 'png');
    assert.equal(image?.source?.bytes, png.toString('base64'), 'the recorded body carries the bytes base64-encoded');
  });

  test('the request-finished event: usage as the client saw it, time to first token, no prompt text', async () => {
    const prompt = 'secret words never logged';
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: prompt }],
    });
    const chunks = await collect(stream);
    const usage = chunks.at(-1)!.usage!;
    const event = await waitForEvent((candidate) => candidate.stream && candidate.usage.outputTokens === usage.completion_tokens && candidate.status === 200);
    assert.equal(event.route, '/v1/chat/completions');
    assert.equal(event.requestedModel, CHAT_MODEL);
    assert.equal(event.modelId, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    assert.equal(event.usage.inputTokens + event.usage.cacheReadTokens + event.usage.cacheWriteTokens, usage.prompt_tokens);
    assert.equal(event.errorType, null);
    assert.ok(event.timeToFirstTokenMs !== null && event.timeToFirstTokenMs <= event.latencyMs);
    assert.match(event.userAgent ?? '', /OpenAI\/JS/);
    assert.ok(!JSON.stringify(bridge.events).includes('secret words'), 'prompt text is in no event');
  });

  test('a client that stops reading mid-stream aborts the upstream Bedrock stream', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'a b c d e f g h i j k l m n o p [[slow:100ms]]' }],
    });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received += 1;
      if (received === 2) break; // leaving the loop aborts the SDK's request
    }
    const recorded = bridge.emulator.recorder.last('ConverseStream')!;
    await within(recorded.done, 5000, 'the emulator to see the upstream stream end');
    assert.equal(recorded.errorType, 'ClientDisconnected', 'the emulator saw the stream cancelled before its end');
    const event = await waitForEvent((candidate) => candidate.stream && candidate.errorType === 'client_closed_request');
    assert.equal(event.status, 200);
  });
});

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForEvent(match: (event: Bridge['events'][number]) => boolean, timeoutMs = 5000): Promise<Bridge['events'][number]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = bridge.events.findLast(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching request-finished event among ${JSON.stringify(bridge.events.slice(-3))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('openai SDK: load and encoding', () => {
  test('concurrent streams from one client do not cross: each gets its own echo', async () => {
    const prompts = Array.from({ length: 8 }, (_, index) => `stream ${index} says ${'word '.repeat(index + 1).trim()} [[slow:10ms]]`);
    const texts = await Promise.all(
      prompts.map(async (prompt) => {
        const stream = await client.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        return text;
      }),
    );
    assert.deepEqual(texts, prompts.map(echoOf));
  });

  test('a long stream (2,000 deltas) arrives whole and in order', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'alpha beta gamma [[chunks:2000]]' }],
    });
    let text = '';
    let deltas = 0;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) {
        deltas += 1;
        text += content;
      }
    }
    const source = ['echo:', 'alpha', 'beta', 'gamma'];
    const expected = Array.from({ length: 2000 }, (_, index) => source[index % source.length]).join(' ');
    assert.equal(text, expected);
    assert.ok(deltas >= 2000 / 50, `many deltas (${deltas})`);
  });

  test('non-ASCII text survives both ways, streamed and not', async () => {
    const prompt = 'héllo wörld 😀 世界 مرحبا';
    const completion = await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: prompt }] });
    assert.equal(completion.choices[0]!.message.content, echoOf(prompt));
    const stream = await client.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, echoOf(prompt));
  });
});

describe('openai SDK: helpers', () => {
  test('chat.completions.parse with zodResponseFormat: message.parsed is the typed object', async () => {
    const City = z.object({ city: z.enum(['Lyon', 'Nice']), country: z.literal('France') });
    const completion = await client.chat.completions.parse({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'A French city, please' }],
      response_format: zodResponseFormat(City, 'city'),
    });
    assert.deepEqual(completion.choices[0]!.message.parsed, { city: 'Lyon', country: 'France' });
  });

  test('chat.completions.runTools (streaming) with zodFunction: the SDK runs the tool loop to the answer', async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'How warm is it in Paris? [[tool]]' }],
      tools: [
        zodFunction({
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
          function: (args) => {
            seen.push(args);
            return { temperature: 19, unit: args.unit };
          },
        }),
      ],
    });
    const content = await runner.finalContent();
    assert.deepEqual(seen, [{ city: 'example', unit: 'celsius' }]);
    assert.equal(content, 'tool result: {"temperature":19,"unit":"celsius"}');
    const roles = runner.messages.map((message) => message.role);
    assert.deepEqual(roles, ['user', 'assistant', 'tool', 'assistant']);
  });
});

describe('openai SDK: embeddings', () => {
  const input = ['the quick brown fox', 'jumps over the lazy dog'];

  test('float, SDK default (base64 on the wire, decoded by the SDK) and explicit base64 agree', async () => {
    const floats = await client.embeddings.create({ model: EMBEDDING_MODEL, input, encoding_format: 'float' });
    assert.equal(floats.object, 'list');
    assert.equal(floats.data.length, 2);
    assert.deepEqual(
      floats.data.map((item) => item.index),
      [0, 1],
    );
    for (const item of floats.data) {
      assert.equal(item.object, 'embedding');
      assert.ok(Array.isArray(item.embedding) && item.embedding.length > 0);
      assert.ok(item.embedding.every((value) => typeof value === 'number' && Number.isFinite(value)));
    }
    assert.notDeepEqual(floats.data[0]!.embedding, floats.data[1]!.embedding);
    assert.ok(floats.usage.prompt_tokens > 0);
    assert.equal(floats.usage.total_tokens, floats.usage.prompt_tokens);

    // No encoding_format: the SDK asks for base64 and decodes it to numbers itself.
    const decoded = await client.embeddings.create({ model: EMBEDDING_MODEL, input });
    assert.equal(decoded.data.length, 2);
    decoded.data.forEach((item, index) => {
      const expected = floats.data[index]!.embedding.map((value) => Math.fround(value));
      assert.deepEqual(Array.from(item.embedding), expected);
    });

    // Explicit base64: the SDK hands back the string; it is little-endian float32.
    const base64 = await client.embeddings.create({ model: EMBEDDING_MODEL, input, encoding_format: 'base64' });
    base64.data.forEach((item, index) => {
      assert.equal(typeof item.embedding, 'string');
      const bytes = Buffer.from(item.embedding, 'base64');
      const vector = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
      assert.deepEqual(
        vector,
        floats.data[index]!.embedding.map((value) => Math.fround(value)),
      );
    });
  });

  test('dimensions is honoured', async () => {
    const result = await client.embeddings.create({ model: EMBEDDING_MODEL, input: 'short', dimensions: 256, encoding_format: 'float' });
    assert.equal(result.data[0]!.embedding.length, 256);
  });
});

describe('openai SDK: more embeddings', () => {
  test('many texts to Titan (one Bedrock call each, bounded concurrency): order and vectors preserved', async () => {
    const texts = Array.from({ length: 20 }, (_, index) => `sentence number ${index}`);
    const before = bridge.emulator.recorder.filter('InvokeModel').length;
    const batch = await client.embeddings.create({ model: EMBEDDING_MODEL, input: texts, encoding_format: 'float', dimensions: 256 });
    assert.equal(bridge.emulator.recorder.filter('InvokeModel').length - before, 20, 'one InvokeModel per text');
    assert.deepEqual(
      batch.data.map((item) => item.index),
      texts.map((_, index) => index),
    );
    for (const index of [0, 7, 19]) {
      const single = await client.embeddings.create({ model: EMBEDDING_MODEL, input: texts[index]!, encoding_format: 'float', dimensions: 256 });
      assert.deepEqual(batch.data[index]!.embedding, single.data[0]!.embedding, `vector ${index} belongs to text ${index}`);
    }
  });

  test('Cohere Embed v3 (text-embedding-3-large): one batched call; float and base64 agree', async () => {
    const input = ['alpha beta', 'gamma delta', 'epsilon'];
    const before = bridge.emulator.recorder.filter('InvokeModel').length;
    const floats = await client.embeddings.create({ model: 'text-embedding-3-large', input, encoding_format: 'float' });
    const calls = bridge.emulator.recorder.filter('InvokeModel').slice(before);
    assert.equal(calls.length, 1, 'Cohere takes the texts in one call');
    assert.equal(calls[0]!.modelId, 'cohere.embed-english-v3');
    assert.deepEqual((calls[0]!.body as { texts: string[] }).texts, input);
    assert.equal(floats.data.length, 3);
    assert.equal(floats.data[0]!.embedding.length, 1024);
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-large', input });
    decoded.data.forEach((item, index) => {
      assert.deepEqual(
        Array.from(item.embedding),
        floats.data[index]!.embedding.map((value) => Math.fround(value)),
      );
    });
  });
});

describe('openai SDK: models', () => {
  test('list includes aliases, foundation models and inference profiles', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      assert.equal(model.object, 'model');
      ids.push(model.id);
    }
    assert.ok(ids.includes(CHAT_MODEL), 'the alias is listed');
    assert.ok(ids.includes(EMBEDDING_MODEL), 'the embedding alias is listed');
    assert.ok(
      ids.some((id) => /^(?:us|eu|apac|global)\.anthropic\./.test(id)),
      'a system-defined inference profile is listed',
    );
    assert.ok(
      ids.some((id) => /^anthropic\./.test(id)),
      'a foundation model is listed',
    );
  });

  test('retrieve an alias, an inference profile id and an ARN', async () => {
    const alias = await client.models.retrieve(CHAT_MODEL);
    assert.equal(alias.id, CHAT_MODEL);
    assert.equal(alias.object, 'model');

    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    const profile = ids.find((id) => /^(?:us|eu|apac|global)\.anthropic\./.test(id))!;
    const retrievedProfile = await client.models.retrieve(profile);
    assert.equal(retrievedProfile.id, profile);

    const arn = ids.find((id) => id.startsWith('arn:aws:bedrock:'));
    assert.ok(arn, 'an ARN (application inference profile) is listed');
    const retrievedArn = await client.models.retrieve(arn);
    assert.equal(retrievedArn.id, arn);
  });

  test('retrieve an unknown model: NotFoundError', async () => {
    await assert.rejects(client.models.retrieve('no-such-model-anywhere'), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      return true;
    });
  });
});

describe('openai SDK: errors', () => {
  test('unknown model -> NotFoundError with code model_not_found', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model-anywhere', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError, `got ${String(error)}`);
        assert.equal(error.status, 404);
        assert.equal(error.code, 'model_not_found');
        assert.match(error.message, /no-such-model-anywhere/);
        return true;
      },
    );
  });

  test('throttling -> RateLimitError (no retries), retry-after passed on', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'slow down [[throttle]] [[retry-after:7]]' }] }),
      (error: unknown) => {
        assert.ok(error instanceof RateLimitError, `got ${String(error)}`);
        assert.equal(error.status, 429);
        assert.equal(error.type, 'rate_limit_error');
        assert.match(error.message, /Too many requests/);
        assert.equal(error.headers?.get('retry-after'), '7');
        return true;
      },
    );
  });

  test('throttling with the SDK retrying: one gateway call per SDK attempt, then RateLimitError', async () => {
    let attempts = 0;
    const retrying = new OpenAI({
      baseURL: bridge.baseURL,
      apiKey: bridge.apiKey,
      maxRetries: 1,
      fetch: async (url, init) => {
        attempts += 1;
        return fetch(url, init);
      },
    });
    const before = bridge.emulator.recorder.filter('Converse').length;
    await assert.rejects(
      retrying.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'slow down again [[throttle]]' }] }),
      RateLimitError,
    );
    assert.equal(attempts, 2);
    assert.equal(bridge.emulator.recorder.filter('Converse').length - before, 2, 'the gateway does not retry on its own');
  });

  test('throttling while streaming -> RateLimitError before any chunk', async () => {
    await assert.rejects(
      (async () => {
        const stream = await client.chat.completions.create({
          model: CHAT_MODEL,
          stream: true,
          messages: [{ role: 'user', content: 'slow down [[throttle]]' }],
        });
        await collect(stream);
      })(),
      RateLimitError,
    );
  });

  test('mid-stream failure: the iterator throws an APIError after part of the text', async () => {
    const stream = await client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'one two three four five six [[fail-mid-stream]]' }],
    });
    const chunks: ChatCompletionChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof APIError, `got ${String(error)}`);
        assert.match(error.message, /mid-response/);
        assert.equal(error.type, 'api_error');
        assert.equal(error.code, 'model_stream_error');
        return true;
      },
    );
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const full = echoOf('one two three four five six');
    assert.ok(text.length > 0 && text.length < full.length && full.startsWith(text), `a strict prefix arrived: ${JSON.stringify(text)}`);
    assert.ok(chunks.every((chunk) => chunk.choices[0]?.finish_reason == null), 'no finish_reason on a failed stream');
  });

  test('a Bedrock error before the stream starts keeps its status: access denied -> PermissionDeniedError', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: 'let me in [[deny]]' }] }),
      (error: unknown) => {
        assert.ok(error instanceof PermissionDeniedError, `got ${String(error)}`);
        assert.equal(error.status, 403);
        return true;
      },
    );
  });

  test('other Bedrock errors keep their meaning: model access denied 403, model timeout 504, unavailable 503', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'ai21.jamba-1-5-large-v1:0', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof PermissionDeniedError, `got ${String(error)}`);
        assert.equal(error.code, 'access_denied');
        return true;
      },
    );
    for (const [marker, status, code] of [
      ['[[error:ModelTimeout]]', 504, 'model_timeout'],
      ['[[error:ServiceUnavailable]]', 503, 'service_unavailable'],
    ] as const) {
      await assert.rejects(
        client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: `hi ${marker}` }] }),
        (error: unknown) => {
          assert.ok(error instanceof InternalServerError, `got ${String(error)}`);
          assert.equal(error.status, status);
          assert.equal(error.code, code);
          return true;
        },
      );
    }
  });

  test('an unsupported field is a 400 naming it, not silence: n > 1 -> BadRequestError', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: CHAT_MODEL, n: 2, messages: [{ role: 'user', content: 'two answers' }] }),
      (error: unknown) => {
        assert.ok(error instanceof BadRequestError, `got ${String(error)}`);
        assert.equal(error.param, 'n');
        return true;
      },
    );
  });

  test('bad API key -> AuthenticationError', async () => {
    const wrong = new OpenAI({ baseURL: bridge.baseURL, apiKey: 'bb-not-the-key', maxRetries: 0 });
    await assert.rejects(wrong.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof AuthenticationError, `got ${String(error)}`);
      assert.equal(error.status, 401);
      assert.ok(!error.message.includes(bridge.apiKey), 'the real key is not echoed');
      return true;
    });
    await assert.rejects(wrong.models.list(), AuthenticationError);
    await assert.rejects(
      wrong.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      AuthenticationError,
    );
  });
});
