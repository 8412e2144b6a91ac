import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseCommandInput,
  type ConverseStreamOutput,
  type Message,
  type Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator } from '../../src/emulator/index.ts';
import { runtimeClientFor, useEmulatorWithClient } from '../support/emulator.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const NOVA = 'amazon.nova-micro-v1:0';

const env = useEmulatorWithClient();

function user(text: string): Message {
  return { role: 'user', content: [{ text }] };
}

async function collect(input: ConverseCommandInput, c: BedrockRuntimeClient = env.client): Promise<ConverseStreamOutput[]> {
  const response = await c.send(new ConverseStreamCommand(input));
  const events: ConverseStreamOutput[] = [];
  for await (const event of response.stream!) events.push(event);
  return events;
}

const weatherTool: Tool = {
  toolSpec: {
    name: 'get_weather',
    description: 'Weather for a city',
    inputSchema: {
      json: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1 } },
        required: ['city'],
      },
    },
  },
};
const timeTool: Tool = {
  toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } } },
};

beforeEach(() => env.emulator.recorder.clear());

describe('Converse', () => {
  it('echoes the last user text with exact, recorded usage', async () => {
    const out = await env.client.send(
      new ConverseCommand({ modelId: NOVA, system: [{ text: 'be brief' }], messages: [user('hello there world')], inferenceConfig: { maxTokens: 100 } }),
    );
    assert.deepEqual(out.output?.message, { role: 'assistant', content: [{ text: 'echo: hello there world' }] });
    assert.equal(out.stopReason, 'end_turn');
    assert.deepEqual(out.usage, { inputTokens: 5, outputTokens: 4, totalTokens: 9 });
    const rec = env.emulator.recorder.last('Converse')!;
    assert.equal(rec.modelId, NOVA);
    assert.equal(rec.httpVersion, '2.0', 'the runtime client speaks HTTP/2 by default');
    assert.deepEqual(rec.body, { system: [{ text: 'be brief' }], messages: [user('hello there world')], inferenceConfig: { maxTokens: 100 } });
    assert.deepEqual(rec.usage, out.usage);
    assert.equal(rec.auth, 'sigv4');
    assert.equal(rec.accessKeyId, DEFAULT_EMULATOR_CREDENTIALS.accessKeyId);
    assert.match(rec.headers.authorization!, /Signature=\[redacted\]/);
  });

  it('accepts an application inference profile ARN (its / arrives as %2F)', async () => {
    const arn = `arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6`;
    const out = await env.client.send(new ConverseCommand({ modelId: arn, messages: [user('hi')] }));
    assert.equal(out.output?.message?.content?.[0]?.text, 'echo: hi');
    const rec = env.emulator.recorder.last()!;
    assert.equal(rec.modelId, arn);
    assert.ok(rec.rawUrl.includes('application-inference-profile%2Fa1b2c3d4e5f6'), rec.rawUrl);
  });

  it('rejects the bare id of a profile-only model, an unknown id, and a model without access', async () => {
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [user('x')] })), {
      name: 'ValidationException',
      message: /on-demand throughput isn’t supported/,
    });
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: 'nope.model-v1:0', messages: [user('x')] })), {
      name: 'ValidationException',
      message: 'The provided model identifier is invalid.',
    });
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: 'ai21.jamba-1-5-large-v1:0', messages: [user('x')] })), {
      name: 'AccessDeniedException',
    });
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('x [[deny]]')] })), { name: 'AccessDeniedException' });
  });

  it('validates like Bedrock: alternation, first role, toolConfig, temperature with topP', async () => {
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('a'), user('b')] })), {
      name: 'ValidationException',
      message: /must alternate between user and assistant/,
    });
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'assistant', content: [{ text: 'a' }] }] })), {
      message: /must start with a user message/,
    });
    await assert.rejects(
      env.client.send(
        new ConverseCommand({
          modelId: NOVA,
          messages: [
            user('a'),
            { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: {} } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }] },
          ],
        }),
      ),
      { message: 'The toolConfig field must be defined when using toolUse and toolResult content blocks.' },
    );
    await assert.rejects(
      env.client.send(new ConverseCommand({ modelId: SONNET, messages: [user('a')], inferenceConfig: { temperature: 0.5, topP: 0.9 } })),
      { name: 'ValidationException', message: /`temperature` and `top_p` cannot both be specified/ },
    );
    // Older models accept both.
    await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('a')], inferenceConfig: { temperature: 0.5, topP: 0.9 } }));
    await assert.rejects(
      env.client.send(
        new ConverseCommand({
          modelId: SONNET,
          toolConfig: { tools: [weatherTool] },
          messages: [
            user('a'),
            { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: {} } }, { toolUse: { toolUseId: 't2', name: 'get_weather', input: {} } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }] },
          ],
        }),
      ),
      { message: /`tool_use` ids were found without `tool_result` blocks immediately after: t2/ },
    );
  });

  it('calls one tool with schema-valid arguments, then answers from the tool result', async () => {
    const out = await env.client.send(
      new ConverseCommand({ modelId: SONNET, toolConfig: { tools: [weatherTool, timeTool] }, messages: [user('weather in Paris [[tool]]')] }),
    );
    assert.equal(out.stopReason, 'tool_use');
    const content = out.output!.message!.content!;
    assert.equal(content[0]!.text, 'Calling get_weather.');
    const use = content[1]!.toolUse!;
    assert.equal(use.name, 'get_weather');
    assert.match(use.toolUseId!, /^tooluse_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(use.input, { city: 'example', unit: 'celsius', days: 1 });

    const second = await env.client.send(
      new ConverseCommand({
        modelId: SONNET,
        toolConfig: { tools: [weatherTool, timeTool] },
        messages: [
          user('weather in Paris [[tool]]'),
          out.output!.message!,
          { role: 'user', content: [{ toolResult: { toolUseId: use.toolUseId!, content: [{ json: { temp: 21 } }] } }] },
        ],
      }),
    );
    assert.equal(second.stopReason, 'end_turn');
    assert.equal(second.output!.message!.content![0]!.text, 'tool result: {"temp":21}');
  });

  it('takes scripted tool arguments in place of the schema example', async () => {
    const out = await env.client.send(
      new ConverseCommand({ modelId: SONNET, toolConfig: { tools: [weatherTool] }, messages: [user('weather [[tool]] [[arg:city=/tmp/Le Mans.txt]] [[arg:unit=kelvin]]')] }),
    );
    assert.deepEqual(out.output!.message!.content![1]!.toolUse!.input, { city: '/tmp/Le Mans.txt', unit: 'kelvin', days: 1 });
  });

  it('makes parallel tool calls, and a forced tool call without text', async () => {
    const out = await env.client.send(
      new ConverseCommand({ modelId: SONNET, toolConfig: { tools: [weatherTool, timeTool] }, messages: [user('both [[tools:2]]')] }),
    );
    const names = out.output!.message!.content!.filter((b) => b.toolUse).map((b) => b.toolUse!.name);
    assert.deepEqual(names, ['get_weather', 'get_time']);
    const ids = out.output!.message!.content!.filter((b) => b.toolUse).map((b) => b.toolUse!.toolUseId);
    assert.notEqual(ids[0], ids[1]);

    const forced = await env.client.send(
      new ConverseCommand({
        modelId: NOVA,
        toolConfig: { tools: [weatherTool, timeTool], toolChoice: { tool: { name: 'get_time' } } },
        messages: [user('what time')],
      }),
    );
    assert.deepEqual(forced.output!.message!.content, [
      { toolUse: { toolUseId: forced.output!.message!.content![0]!.toolUse!.toolUseId, name: 'get_time', input: { zone: 'example' } } },
    ]);
  });

  it('returns reasoning before text when thinking is enabled', async () => {
    const out = await env.client.send(
      new ConverseCommand({
        modelId: SONNET,
        messages: [user('why')],
        inferenceConfig: { maxTokens: 4000 },
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
      }),
    );
    const [reasoning, text] = out.output!.message!.content!;
    assert.equal(reasoning!.reasoningContent!.reasoningText!.text, 'Thinking about: why');
    assert.ok(reasoning!.reasoningContent!.reasoningText!.signature!.length > 10);
    assert.equal(text!.text, 'echo: why');
    await assert.rejects(
      env.client.send(
        new ConverseCommand({
          modelId: SONNET,
          messages: [user('why')],
          inferenceConfig: { maxTokens: 1000 },
          additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
        }),
      ),
      { message: /`max_tokens` must be greater than `thinking.budget_tokens`/ },
    );
    await assert.rejects(
      env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('why')], additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } })),
      { message: /extraneous key \[thinking\]/ },
    );
  });

  it('stops at maxTokens and at stop sequences', async () => {
    const out = await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('one two three four five')], inferenceConfig: { maxTokens: 3 } }));
    assert.equal(out.stopReason, 'max_tokens');
    assert.equal(out.output!.message!.content![0]!.text, 'echo: one two');
    assert.equal(out.usage!.outputTokens, 3);
    const stopped = await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('alpha beta STOP gamma')], inferenceConfig: { stopSequences: ['STOP'] } }));
    assert.equal(stopped.stopReason, 'stop_sequence');
    assert.equal(stopped.output!.message!.content![0]!.text, 'echo: alpha beta');
  });

  it('reports a cache write, then a cache read, for cachePoint prefixes', async () => {
    const input: ConverseCommandInput = {
      modelId: SONNET,
      system: [{ text: 'a long shared system prompt' }, { cachePoint: { type: 'default' } }],
      messages: [user('question one')],
    };
    const first = await env.client.send(new ConverseCommand(input));
    assert.deepEqual(first.usage, { inputTokens: 2, outputTokens: 3, totalTokens: 10, cacheReadInputTokens: 0, cacheWriteInputTokens: 5 });
    const second = await env.client.send(new ConverseCommand({ ...input, messages: [user('question two')] }));
    assert.deepEqual(second.usage, { inputTokens: 2, outputTokens: 3, totalTokens: 10, cacheReadInputTokens: 5, cacheWriteInputTokens: 0 });
  });

  it('answers structured output with JSON matching the schema, where the model supports it', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name'] };
    const out = await env.client.send(
      new ConverseCommand({
        modelId: SONNET,
        messages: [user('extract')],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'person' } } } },
      }),
    );
    assert.deepEqual(JSON.parse(out.output!.message!.content![0]!.text!), { name: 'example', age: 1, tags: ['example'] });
    await assert.rejects(
      env.client.send(
        new ConverseCommand({
          modelId: NOVA,
          messages: [user('extract')],
          outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema) } } } },
        }),
      ),
      { name: 'ValidationException' },
    );
  });

  it('throttles with retries the SDK makes (counted by the recorder) and recovers with [[throttle:1]]', async () => {
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('x [[throttle]]')] })), (error: Error & { $metadata?: { attempts?: number } }) => {
      assert.equal(error.name, 'ThrottlingException');
      assert.equal(error.$metadata?.attempts, 3);
      return true;
    });
    assert.deepEqual(
      env.emulator.recorder.filter('Converse').map((r) => [r.attempt, r.status, r.errorType]),
      [
        [1, 429, 'ThrottlingException'],
        [2, 429, 'ThrottlingException'],
        [3, 429, 'ThrottlingException'],
      ],
    );
    env.emulator.recorder.clear();
    const ok = await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('y [[throttle:1]]')] }));
    assert.equal(ok.output!.message!.content![0]!.text, 'echo: y');
    assert.deepEqual(env.emulator.recorder.all().map((r) => r.status), [429, 200]);
  });

  it('adds retry-after to throttling with [[retry-after:S]]', async () => {
    const once = runtimeClientFor(env.emulator, { maxAttempts: 1 });
    try {
      await assert.rejects(once.send(new ConverseCommand({ modelId: NOVA, messages: [user('x [[throttle]] [[retry-after:7]]')] })), (error: Error & { $response?: { headers: Record<string, string> } }) => {
        assert.equal(error.name, 'ThrottlingException');
        assert.equal(error.$response?.headers['retry-after'], '7');
        return true;
      });
    } finally {
      once.destroy();
    }
  });

  it('forces a stop reason with [[stop:REASON]]', async () => {
    const out = await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('bad [[stop:guardrail_intervened]]')] }));
    assert.equal(out.stopReason, 'guardrail_intervened');
  });

  it('answers any scripted Bedrock error with its status', async () => {
    await assert.rejects(env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('[[error:ModelTimeoutException]]')] })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'ModelTimeoutException');
      assert.equal(error.$metadata?.httpStatusCode, 408);
      return true;
    });
  });
});

describe('ConverseStream', () => {
  it('streams messageStart, text deltas, stop and metadata', async () => {
    const events = await collect({ modelId: NOVA, messages: [user('hello big world')] });
    assert.deepEqual(events, [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'echo:' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: ' hello' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: ' big' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: ' world' } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'end_turn' } },
      { metadata: { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }, metrics: { latencyMs: 1 } } },
    ]);
    assert.deepEqual(env.emulator.recorder.last('ConverseStream')!.usage, { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  });

  it('streams tool use after a text block (contentBlockIndex 1 and 2), with input split across deltas', async () => {
    const events = await collect({ modelId: SONNET, toolConfig: { tools: [weatherTool, timeTool] }, messages: [user('go [[tools:2]]')] });
    const starts = events.filter((e) => e.contentBlockStart).map((e) => [e.contentBlockStart!.contentBlockIndex, e.contentBlockStart!.start!.toolUse!.name]);
    assert.deepEqual(starts, [
      [1, 'get_weather'],
      [2, 'get_time'],
    ]);
    const input1 = events
      .filter((e) => e.contentBlockDelta?.contentBlockIndex === 1)
      .map((e) => e.contentBlockDelta!.delta!.toolUse!.input)
      .join('');
    assert.deepEqual(JSON.parse(input1), { city: 'example', unit: 'celsius', days: 1 });
    assert.equal(events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 1).length, 2);
    assert.equal(events.find((e) => e.messageStop)!.messageStop!.stopReason, 'tool_use');
  });

  it('streams reasoning text and signature before the answer', async () => {
    const events = await collect({ modelId: SONNET, messages: [user('think [[reasoning]]')] });
    const reasoning = events.filter((e) => e.contentBlockDelta?.delta?.reasoningContent).map((e) => e.contentBlockDelta!.delta!.reasoningContent!);
    assert.equal(reasoning.map((r) => r.text ?? '').join(''), 'Thinking about: think');
    assert.ok(reasoning.at(-1)!.signature);
    assert.equal(events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 1).map((e) => e.contentBlockDelta!.delta!.text).join(''), 'echo: think');
  });

  it('sends exactly N text deltas for [[chunks:N]]', async () => {
    const events = await collect({ modelId: NOVA, messages: [user('bench [[chunks:50]]')] });
    assert.equal(events.filter((e) => e.contentBlockDelta).length, 50);
    assert.equal(events.find((e) => e.metadata)!.metadata!.usage!.outputTokens, 50);
  });

  it('spaces events out in time for [[slow:Nms]], flushing each', async () => {
    const response = await env.client.send(new ConverseStreamCommand({ modelId: NOVA, messages: [user('a b c [[slow:100ms]]')] }));
    const times: number[] = [];
    for await (const _event of response.stream!) times.push(Date.now());
    assert.equal(times.length, 8);
    assert.ok(times.at(-1)! - times[0]! >= 500, `events spread over ${times.at(-1)! - times[0]!} ms`);
  });

  it('surfaces a mid-stream exception in the SDK iterator after some deltas', async () => {
    const response = await env.client.send(new ConverseStreamCommand({ modelId: NOVA, messages: [user('one two three four [[fail-mid-stream]]')] }));
    const seen: ConverseStreamOutput[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of response.stream!) seen.push(event);
      })(),
      { name: 'ModelStreamErrorException' },
    );
    assert.ok(seen.some((e) => e.contentBlockDelta));
    assert.ok(!seen.some((e) => e.messageStop));
    const throttled = await env.client.send(new ConverseStreamCommand({ modelId: NOVA, messages: [user('one two [[fail-mid-stream:throttling]]')] }));
    await assert.rejects(
      (async () => {
        for await (const _event of throttled.stream!) {
          /* drain */
        }
      })(),
      { name: 'ThrottlingException' },
    );
    assert.equal(env.emulator.recorder.last('ConverseStream')!.errorType, 'throttlingException');
  });
});

describe('disconnects', () => {
  it('records a client that aborts a slow stream, and stops writing to it', async () => {
    const abort = new AbortController();
    const response = await env.client.send(new ConverseStreamCommand({ modelId: NOVA, messages: [user('a b c d e f g h [[slow:200ms]]')] }), {
      abortSignal: abort.signal,
    });
    const seen: unknown[] = [];
    try {
      for await (const event of response.stream!) {
        seen.push(event);
        if (seen.length === 2) abort.abort();
      }
    } catch {
      // The SDK may end the iterator quietly or with an AbortError.
    }
    assert.ok(seen.length < 8, `stopped after ${seen.length} events`);
    const rec = env.emulator.recorder.last('ConverseStream')!;
    await rec.done;
    assert.equal(rec.errorType, 'ClientDisconnected');
    assert.equal(rec.usage, undefined);
  });

  it('close() ends in-flight slow streams so the process can exit', async () => {
    const other = await startEmulator();
    const c = runtimeClientFor(other, { maxAttempts: 1 });
    const response = await c.send(new ConverseStreamCommand({ modelId: NOVA, messages: [user('a b c d e f [[slow:300ms]]')] }));
    const drained = (async () => {
      for await (const _event of response.stream!) {
        /* drain */
      }
    })();
    await other.close();
    await drained.catch(() => {});
    await other.recorder.last()!.done;
    c.destroy();
  });
});

describe('protocols', () => {
  it('serves HTTP/1.1 (NodeHttpHandler) and HTTP/2 (the default handler) on one port', async () => {
    const h1 = runtimeClientFor(env.emulator, { requestHandler: new NodeHttpHandler() });
    try {
      const out = await h1.send(new ConverseCommand({ modelId: NOVA, messages: [user('over h1')] }));
      assert.equal(out.output!.message!.content![0]!.text, 'echo: over h1');
      const events = await collect({ modelId: NOVA, messages: [user('stream h1')] }, h1);
      assert.equal(events.at(-1)!.metadata!.usage!.outputTokens, 3);
    } finally {
      h1.destroy();
    }
    await env.client.send(new ConverseCommand({ modelId: NOVA, messages: [user('over h2')] }));
    assert.deepEqual(
      env.emulator.recorder.all().map((r) => [r.operation, r.httpVersion]),
      [
        ['Converse', '1.1'],
        ['ConverseStream', '1.1'],
        ['Converse', '2.0'],
      ],
    );
  });
});
