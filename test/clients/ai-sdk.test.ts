/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`), unmodified, against the gateway in front of
 * the Bedrock emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, Output, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startTestBridge } from '../support/bridge.ts';
import { CHAT_MODEL, callingText, echoOf, lastConverseRequest } from '../support/clients.ts';

type Bridge = Awaited<ReturnType<typeof startTestBridge>>;

let bridge: Bridge;
let provider: ReturnType<typeof createOpenAICompatible>;

before(async () => {
  bridge = await startTestBridge();
  provider = createOpenAICompatible({ name: 'bedrock-bridge', baseURL: bridge.baseURL, apiKey: bridge.apiKey, includeUsage: true });
});

after(async () => {
  await bridge?.close();
});

/** What every call here shares: the chat model through the gateway, and no retries by the SDK. */
function viaBridge() {
  return { model: provider.chatModel(CHAT_MODEL), maxRetries: 0 };
}

describe('Vercel AI SDK', () => {
  test('generateText: the echo, finish reason stop, usage', async () => {
    const result = await generateText({
      ...viaBridge(),
      system: 'You are terse.',
      prompt: 'Hello from the AI SDK',
    });
    assert.equal(result.text, echoOf('Hello from the AI SDK'));
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0, 'input tokens reported');
    assert.ok((result.usage.outputTokens ?? 0) > 0, 'output tokens reported');
    assert.equal(result.usage.totalTokens, (result.usage.inputTokens ?? 0) + (result.usage.outputTokens ?? 0));

    const sent = lastConverseRequest(bridge.emulator);
    assert.deepEqual(sent.system, [{ text: 'You are terse.' }]);
  });

  test('streamText: textStream concatenates to the echo; usage arrives at the end', async () => {
    const result = streamText({
      ...viaBridge(),
      prompt: 'Stream this through the AI SDK',
    });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    assert.ok(parts.length >= 2, `several text parts, got ${parts.length}`);
    assert.equal(parts.join(''), echoOf('Stream this through the AI SDK'));
    assert.equal(await result.finishReason, 'stop');
    const usage = await result.usage;
    assert.ok((usage.inputTokens ?? 0) > 0, 'streamed input tokens reported (stream_options.include_usage)');
    assert.ok((usage.outputTokens ?? 0) > 0, 'streamed output tokens reported');
  });

  test('a tool call: execute receives the parsed, validated args; the loop finishes with text', async () => {
    const received: Array<{ city: string; unit: 'celsius' | 'fahrenheit' }> = [];
    const result = await generateText({
      ...viaBridge(),
      prompt: 'What is the weather in Paris? [[tool]]',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
          execute: async (input) => {
            received.push(input);
            return { temperature_c: 21, sky: 'clear' };
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    assert.equal(received.length, 1, 'execute ran once');
    // The emulated model fills the schema with its first example values: a string, the first enum value.
    assert.deepEqual(received[0], { city: 'example', unit: 'celsius' });
    assert.ok(result.steps.length >= 2, 'a tool step, then an answer step');
    const firstStep = result.steps[0]!;
    assert.equal(firstStep.finishReason, 'tool-calls');
    assert.equal(firstStep.toolCalls.length, 1);
    assert.equal(firstStep.toolCalls[0]!.toolName, 'get_weather');
    assert.deepEqual(firstStep.toolCalls[0]!.input, received[0]);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.text, 'tool result: {"temperature_c":21,"sky":"clear"}');
    assert.equal(firstStep.text, callingText('get_weather'));
    const stepOutput = result.steps.reduce((sum, step) => sum + (step.usage.outputTokens ?? 0), 0);
    assert.equal(result.totalUsage.outputTokens, stepOutput, 'total usage adds up the steps');

    // The second call carried the tool's result back as a Converse toolResult block.
    const sent = lastConverseRequest(bridge.emulator);
    const messages = sent.messages as Array<{ role: string; content: Array<Record<string, any>> }>;
    const toolUse = messages.flatMap((message) => message.content).find((block) => block.toolUse)?.toolUse;
    const toolResult = messages.flatMap((message) => message.content).find((block) => block.toolResult)?.toolResult;
    assert.ok(toolUse && toolResult);
    assert.equal(toolResult.toolUseId, toolUse.toolUseId);
    assert.equal(toolUse.toolUseId, firstStep.toolCalls[0]!.toolCallId);
  });

  test('a streamed tool call: execute receives the parsed args', async () => {
    const received: Array<{ city: string }> = [];
    const result = streamText({
      ...viaBridge(),
      prompt: 'What is the weather in Paris? [[tool]]',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async (input) => {
            received.push(input);
            return { temperature_c: 21 };
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    let text = '';
    for await (const part of result.textStream) text += part;
    assert.equal(received.length, 1);
    assert.deepEqual(received[0], { city: 'example' });
    assert.equal(text, `${callingText('get_weather')}tool result: {"temperature_c":21}`);
    const steps = await result.steps;
    assert.equal(steps[0]!.toolCalls[0]!.toolName, 'get_weather');
  });

  test('parallel tool calls, streamed: both tools execute with their own args', async () => {
    const calls: string[] = [];
    const result = streamText({
      ...viaBridge(),
      prompt: 'Weather and time? [[tools:2]]',
      tools: {
        get_weather: tool({
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            calls.push(`weather:${city}`);
            return 'sunny';
          },
        }),
        get_time: tool({
          inputSchema: z.object({ zone: z.enum(['UTC', 'CET']) }),
          execute: async ({ zone }) => {
            calls.push(`time:${zone}`);
            return '12:00';
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    const text = await result.text;
    assert.deepEqual(calls.sort(), ['time:UTC', 'weather:example']);
    assert.equal(text, 'tool result: sunny; 12:00');
    const steps = await result.steps;
    assert.deepEqual(
      steps[0]!.toolCalls.map((call) => call.toolName),
      ['get_weather', 'get_time'],
    );
  });

  test('reasoning: the top-level reasoning option becomes reasoning_effort; reasoning text stays apart', async () => {
    const result = await generateText({ ...viaBridge(), prompt: 'Think first', reasoning: 'low' });
    assert.equal(result.reasoningText, 'Thinking about: Think first');
    assert.equal(result.text, echoOf('Think first'));
    const sent = lastConverseRequest(bridge.emulator);
    assert.equal(sent.additionalModelRequestFields?.thinking?.type, 'enabled');

    const streamed = streamText({ ...viaBridge(), prompt: 'Think first', reasoning: 'low' });
    let reasoning = '';
    let text = '';
    for await (const part of streamed.stream) {
      if (part.type === 'reasoning-delta') reasoning += part.text;
      else if (part.type === 'text-delta') text += part.text;
    }
    assert.equal(reasoning, 'Thinking about: Think first');
    assert.equal(text, echoOf('Think first'));
  });

  test('structured output: Output.object with a zod schema (json_schema response_format)', async () => {
    const structured = createOpenAICompatible({
      name: 'bedrock-bridge',
      baseURL: bridge.baseURL,
      apiKey: bridge.apiKey,
      supportsStructuredOutputs: true,
    });
    const City = z.object({ city: z.enum(['Lyon', 'Nice']), country: z.literal('France') });
    const result = await generateText({
      model: structured.chatModel(CHAT_MODEL),
      prompt: 'A French city, please',
      output: Output.object({ schema: City }),
      maxRetries: 0,
    });
    assert.deepEqual(result.output, { city: 'Lyon', country: 'France' });
  });

  test('errors: unknown model -> APICallError 404; throttling -> APICallError 429, retryable', async () => {
    await assert.rejects(
      generateText({ model: provider.chatModel('no-such-model-anywhere'), prompt: 'hi', maxRetries: 0 }),
      (error: unknown) => {
        assert.ok(APICallError.isInstance(error), `got ${String(error)}`);
        assert.equal(error.statusCode, 404);
        assert.match(error.message, /no-such-model-anywhere/);
        return true;
      },
    );
    await assert.rejects(
      generateText({ ...viaBridge(), prompt: 'slow down [[throttle]]' }),
      (error: unknown) => {
        assert.ok(APICallError.isInstance(error), `got ${String(error)}`);
        assert.equal(error.statusCode, 429);
        assert.equal(error.isRetryable, true);
        return true;
      },
    );
  });

  test('a mid-stream failure surfaces as an error part after some text', async () => {
    const result = streamText({
      ...viaBridge(),
      prompt: 'one two three four five six [[fail-mid-stream]]',
      onError: () => {},
    });
    let text = '';
    const errors: unknown[] = [];
    for await (const part of result.stream) {
      if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'error') errors.push(part.error);
    }
    assert.equal(errors.length, 1, 'one error part');
    assert.match(JSON.stringify(errors[0]) + String((errors[0] as { message?: string }).message ?? ''), /mid-response/);
    const full = echoOf('one two three four five six');
    assert.ok(text.length > 0 && text.length < full.length && full.startsWith(text), `a strict prefix arrived: ${JSON.stringify(text)}`);
  });
});
