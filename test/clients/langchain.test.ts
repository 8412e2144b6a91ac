/**
 * LangChain JS (`@langchain/openai` ChatOpenAI), unmodified, against the gateway in front of the
 * Bedrock emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AIMessageChunk } from '@langchain/core/messages';
import { HumanMessage, SystemMessage, type BaseMessage, type ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { startTestBridge } from '../support/bridge.ts';
import { CHAT_MODEL, TIME_ARGS, TIME_TOOL, WEATHER_ARGS, WEATHER_TOOL, callingText, echoOf, lastConverseRequest } from '../support/clients.ts';

type Bridge = Awaited<ReturnType<typeof startTestBridge>>;

let bridge: Bridge;
let chat: ChatOpenAI;

before(async () => {
  bridge = await startTestBridge();
  chat = new ChatOpenAI({ model: CHAT_MODEL, apiKey: bridge.apiKey, maxRetries: 0, configuration: { baseURL: bridge.baseURL } });
});

after(async () => {
  await bridge?.close();
});

const tools = [
  { type: 'function' as const, function: WEATHER_TOOL },
  { type: 'function' as const, function: TIME_TOOL },
];

describe('LangChain ChatOpenAI', () => {
  test('invoke: the echo, with token usage', async () => {
    const message = await chat.invoke([new SystemMessage('You are terse.'), new HumanMessage('Hello from LangChain')]);
    assert.equal(message.content, echoOf('Hello from LangChain'));
    assert.ok((message.usage_metadata?.input_tokens ?? 0) > 0);
    assert.ok((message.usage_metadata?.output_tokens ?? 0) > 0);
    assert.equal(message.response_metadata.finish_reason, 'stop');
    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(sent.system, [{ text: 'You are terse.' }]);
  });

  test('stream: chunks concatenate to the echo; usage on the streamed message', async () => {
    const stream = await chat.stream('Stream through LangChain');
    let text = '';
    let count = 0;
    let merged: AIMessageChunk | undefined;
    for await (const chunk of stream) {
      count += 1;
      if (typeof chunk.content === 'string') text += chunk.content;
      merged = merged ? merged.concat(chunk) : chunk;
    }
    assert.ok(count >= 2, `several chunks, got ${count}`);
    assert.equal(text, echoOf('Stream through LangChain'));
    assert.equal(merged?.content, echoOf('Stream through LangChain'));
    assert.ok((merged?.usage_metadata?.input_tokens ?? 0) > 0, 'streamed usage (stream_options.include_usage)');
  });

  test('bindTools: tool_calls on the AIMessage, parallel, with parsed args', async () => {
    const withTools = chat.bindTools(tools);
    const message = await withTools.invoke('Weather and time in Paris? [[tools:2]]');
    const calls = message.tool_calls ?? [];
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls.map((call) => [call.name, call.args]),
      [
        ['get_weather', WEATHER_ARGS],
        ['get_time', TIME_ARGS],
      ],
    );
    for (const call of calls) assert.ok(call.id, 'each tool call has an id');
    assert.notEqual(calls[0]!.id, calls[1]!.id);
    assert.equal(message.content, callingText('get_weather', 'get_time'));
    assert.deepEqual(message.invalid_tool_calls ?? [], []);
    assert.equal(message.response_metadata.finish_reason, 'tool_calls');
  });

  test('streaming with tools: tool_call_chunks assemble into whole tool calls', async () => {
    const withTools = chat.bindTools(tools);
    const stream = await withTools.stream('Weather and time in Paris? [[tools:2]]');
    let merged: AIMessageChunk | undefined;
    let chunkCount = 0;
    const indices = new Set<number | undefined>();
    for await (const chunk of stream) {
      for (const toolChunk of chunk.tool_call_chunks ?? []) {
        chunkCount += 1;
        indices.add(toolChunk.index);
      }
      merged = merged ? merged.concat(chunk) : chunk;
    }
    assert.ok(merged);
    assert.ok(chunkCount >= 2, `tool call chunks streamed, got ${chunkCount}`);
    assert.deepEqual([...indices].sort(), [0, 1]);
    const calls = merged.tool_calls ?? [];
    assert.equal(calls.length, 2, `assembled tool calls: ${JSON.stringify(merged.tool_call_chunks)}`);
    assert.deepEqual(
      calls.map((call) => [call.name, call.args]),
      [
        ['get_weather', WEATHER_ARGS],
        ['get_time', TIME_ARGS],
      ],
    );
    for (const call of calls) assert.ok(call.id);
    assert.notEqual(calls[0]!.id, calls[1]!.id);
    assert.deepEqual(merged.invalid_tool_calls ?? [], []);
    assert.equal(merged.content, callingText('get_weather', 'get_time'));
  });

  test('a tool round trip with a LangChain tool: ToolMessage back, the final answer uses it', async () => {
    const getWeather = tool(async (input) => JSON.stringify({ city: input.city, temperature_c: 18 }), {
      name: 'get_weather',
      description: 'Current weather for a city',
      schema: z.object({ city: z.string() }),
    });
    const withTools = chat.bindTools([getWeather]);
    const messages: BaseMessage[] = [new HumanMessage('Weather in Paris? [[tool]]')];
    const first = await withTools.invoke(messages);
    const call = first.tool_calls?.[0];
    assert.ok(call, 'a tool call came back');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, { city: 'example' });
    const result: ToolMessage = await getWeather.invoke(call);
    assert.equal(result.tool_call_id, call.id);
    messages.push(first, result);
    const second = await withTools.invoke(messages);
    assert.equal(second.content, 'tool result: {"city":"example","temperature_c":18}');
    assert.deepEqual(second.tool_calls ?? [], []);

    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(
      sent.messages.map((message) => message.role),
      ['user', 'assistant', 'user'],
    );
    assert.equal(sent.messages[1]!.content.find((block) => block.toolUse)?.toolUse.toolUseId, call.id);
    assert.equal(sent.messages[2]!.content.find((block) => block.toolResult)?.toolResult.toolUseId, call.id);
  });

  test('withStructuredOutput (zod): the parsed object', async () => {
    const City = z.object({ city: z.enum(['Lyon', 'Nice']), country: z.literal('France') });
    const structured = chat.withStructuredOutput(City, { name: 'city' });
    const result = await structured.invoke('A French city, please');
    assert.deepEqual(result, { city: 'Lyon', country: 'France' });
  });

  test('errors keep their HTTP status: unknown model 404, throttling 429, mid-stream failure throws', async () => {
    const unknown = new ChatOpenAI({ model: 'no-such-model-anywhere', apiKey: bridge.apiKey, maxRetries: 0, configuration: { baseURL: bridge.baseURL } });
    await assert.rejects(unknown.invoke('hi'), (error: unknown) => {
      assert.equal((error as { status?: number }).status, 404, `got ${String(error)}`);
      assert.match(String((error as Error).message), /no-such-model-anywhere/);
      return true;
    });
    await assert.rejects(chat.invoke('slow down [[throttle]]'), (error: unknown) => {
      assert.equal((error as { status?: number }).status, 429, `got ${String(error)}`);
      return true;
    });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of await chat.stream('one two three four five six [[fail-mid-stream]]')) {
          if (typeof chunk.content === 'string') text += chunk.content;
        }
      })(),
      /mid-response/,
    );
    assert.ok(echoOf('one two three four five six').startsWith(text) && text.length > 0, `a prefix arrived: ${JSON.stringify(text)}`);
  });
});
