import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConverseRequest, type ImageResolver } from '../../src/core/chat-request.ts';
import { parseChatCompletionRequest } from '../../src/core/openai-schemas.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';
import { rejects400 } from '../support/openai-errors.ts';

const SONNET45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const SONNET4 = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const SONNET37 = 'us.anthropic.claude-3-7-sonnet-20250219-v1:0';
const OPUS41 = 'us.anthropic.claude-opus-4-1-20250805-v1:0';
const OPUS4 = 'us.anthropic.claude-opus-4-20250514-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const NOVA = 'us.amazon.nova-pro-v1:0';

const noImages: ImageResolver = async () => {
  throw new Error('no image fetch expected');
};

async function build(body: Record<string, unknown>, modelId = SONNET45, resolver: ImageResolver = noImages) {
  return buildConverseRequest(parseChatCompletionRequest({ model: 'gpt-4o', ...body }), modelId, resolver);
}


test('a plain user message becomes one user turn, nothing else is sent', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual(plan.input, { modelId: SONNET45, messages: [{ role: 'user', content: [{ text: 'Hello' }] }] });
  assert.equal(plan.structuredOutputTool, null);
  assert.equal(plan.singleToolCall, false);
  assert.equal(plan.thinking, false);
});

test('system and developer messages become system blocks, wherever they appear', async () => {
  const plan = await build({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
      { role: 'system', content: 'Late instruction.' },
    ],
  });
  assert.deepEqual(plan.input.system, [{ text: 'Be brief.' }, { text: 'Answer in French.' }, { text: 'Late instruction.' }]);
  assert.deepEqual(plan.input.messages, [{ role: 'user', content: [{ text: 'Hi' }] }]);
});

test('consecutive same-role messages are merged so turns alternate', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'one' },
      { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'text', text: 'three' }] },
      { role: 'assistant', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'four' },
    ],
  });
  assert.deepEqual(plan.input.messages, [
    { role: 'user', content: [{ text: 'one' }, { text: 'two' }, { text: 'three' }] },
    { role: 'assistant', content: [{ text: 'a' }, { text: 'b' }] },
    { role: 'user', content: [{ text: 'four' }] },
  ]);
});

test('a conversation that starts with the assistant gets a placeholder user turn first', async () => {
  const plan = await build({
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'assistant', content: 'How can I help?' },
      { role: 'user', content: 'Tell me a joke' },
    ],
  });
  assert.deepEqual(plan.input.messages, [
    { role: 'user', content: [{ text: '.' }] },
    { role: 'assistant', content: [{ text: 'How can I help?' }] },
    { role: 'user', content: [{ text: 'Tell me a joke' }] },
  ]);
});

test('only a system message: the instructions become the user turn', async () => {
  const plan = await build({ messages: [{ role: 'system', content: 'Write a haiku about rain.' }] });
  assert.deepEqual(plan.input.messages, [{ role: 'user', content: [{ text: 'Write a haiku about rain.' }] }]);
  assert.equal(plan.input.system, undefined);
});

test('blank text is dropped (Converse rejects blank text blocks) and a final assistant prefill is right-trimmed', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'Start' },
      { role: 'user', content: '   ' },
      { role: 'assistant', content: 'Sure, here it is:  \n' },
    ],
  });
  assert.deepEqual(plan.input.messages, [
    { role: 'user', content: [{ text: 'Start' }] },
    { role: 'assistant', content: [{ text: 'Sure, here it is:' }] },
  ]);
});

test('a full tool round trip: tool_calls -> toolUse with parsed input, tool messages -> one user turn of toolResults', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'sunny, ' }, { type: 'text', text: '25C' }] },
      { role: 'user', content: 'Thanks! Which is warmer?' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  });
  assert.deepEqual(plan.input.messages, [
    { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { city: 'Rome' } } },
      ],
    },
    {
      role: 'user',
      content: [
        // Tool output is passed as text, byte for byte (JSON-looking output too).
        { toolResult: { toolUseId: 'call_1', content: [{ text: '{"temp":21}' }] } },
        { toolResult: { toolUseId: 'call_2', content: [{ text: 'sunny, 25C' }] } },
        { text: 'Thanks! Which is warmer?' },
      ],
    },
  ]);
  assert.deepEqual(plan.input.toolConfig, {
    tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }],
  });
});

test('assistant text and tool calls together; empty arguments become {}; empty tool output is reported', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 't1', type: 'function', function: { name: 'now', arguments: '' } }] },
      { role: 'tool', tool_call_id: 't1', content: '' },
    ],
    tools: [{ type: 'function', function: { name: 'now' } }],
  });
  assert.deepEqual(plan.input.messages?.[1], {
    role: 'assistant',
    content: [{ text: 'Let me check.' }, { toolUse: { toolUseId: 't1', name: 'now', input: {} } }],
  });
  assert.deepEqual(plan.input.messages?.[2], { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: '(empty)' }] } }] });
  // A tool without parameters gets an empty object schema.
  assert.deepEqual(plan.input.toolConfig?.tools, [{ toolSpec: { name: 'now', inputSchema: { json: { type: 'object', properties: {} } } } }]);
});

test('tool results merged after user text are moved to the front of the user turn', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'user', content: 'also, hurry' },
      { role: 'tool', tool_call_id: 't1', content: 'done' },
    ],
    tools: [{ type: 'function', function: { name: 'f' } }],
  });
  assert.deepEqual(plan.input.messages?.[2], {
    role: 'user',
    content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'done' }] } }, { text: 'also, hurry' }],
  });
});

test('invalid JSON tool arguments are a 400 naming the field', async () => {
  await rejects400(
    build({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'x' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    }),
    'messages[1].tool_calls[0].function.arguments',
    /not valid JSON/,
  );
});

test('tool_choice maps: auto -> auto, required -> any, named -> tool', async () => {
  const tools = [
    { type: 'function', function: { name: 'a' } },
    { type: 'function', function: { name: 'b' } },
  ];
  const messages = [{ role: 'user', content: 'x' }];
  assert.deepEqual((await build({ messages, tools, tool_choice: 'auto' })).input.toolConfig?.toolChoice, { auto: {} });
  assert.deepEqual((await build({ messages, tools, tool_choice: 'required' })).input.toolConfig?.toolChoice, { any: {} });
  assert.deepEqual((await build({ messages, tools, tool_choice: { type: 'function', function: { name: 'b' } } })).input.toolConfig?.toolChoice, {
    tool: { name: 'b' },
  });
  assert.equal((await build({ messages, tools })).input.toolConfig?.toolChoice, undefined);
  await rejects400(build({ messages, tools, tool_choice: { type: 'function', function: { name: 'zzz' } } }), 'tool_choice');
  await rejects400(build({ messages, tool_choice: 'required' }), 'tool_choice');
});

test("tool_choice 'none' drops the tools; tool history is then given as text (Converse needs toolConfig for toolUse blocks)", async () => {
  const tools = [{ type: 'function', function: { name: 'f' } }];
  const plain = await build({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'none' });
  assert.equal(plain.input.toolConfig, undefined);

  const withHistory = await build({
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"q":1}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'result!' },
      { role: 'user', content: 'summarise' },
    ],
    tools,
    tool_choice: 'none',
  });
  assert.equal(withHistory.input.toolConfig, undefined);
  assert.deepEqual(withHistory.input.messages, [
    { role: 'user', content: [{ text: 'go' }] },
    { role: 'assistant', content: [{ text: '[Called tool f (id t1) with arguments {"q":1}]' }] },
    { role: 'user', content: [{ text: '[Result of tool f (id t1): result!]' }, { text: 'summarise' }] },
  ]);
});

test('tool history without any tools in the request is also given as text', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
    ],
  });
  assert.equal(plan.input.toolConfig, undefined);
  assert.equal(plan.input.messages?.[1]?.content?.[0]?.text, '[Called tool f (id t1) with arguments {}]');
});

test('parallel_tool_calls: false is carried in the plan (only the first call is passed on)', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], parallel_tool_calls: false });
  assert.equal(plan.singleToolCall, true);
});

test('strict tools are sent as strict only to models with native structured output', async () => {
  const body = { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: { type: 'object' } } }] };
  assert.deepEqual((await build(body, SONNET45)).input.toolConfig?.tools, [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } }, strict: true } }]);
  assert.deepEqual((await build(body, SONNET4)).input.toolConfig?.tools, [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }]);
});

test('temperature, top_p, max tokens and stop map to inferenceConfig', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], temperature: 0.2, top_p: 0.9, max_tokens: 100, stop: ['END', ''] }, SONNET4);
  assert.deepEqual(plan.input.inferenceConfig, { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] });
  const single = await build({ messages: [{ role: 'user', content: 'x' }], stop: 'STOP', max_completion_tokens: 50, max_tokens: 10 }, LLAMA);
  assert.deepEqual(single.input.inferenceConfig, { maxTokens: 50, stopSequences: ['STOP'] });
});

test('Claude 4.1+ reject temperature with top_p: temperature is kept, top_p dropped', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], temperature: 0.5, top_p: 0.9 }, SONNET45);
  assert.deepEqual(plan.input.inferenceConfig, { temperature: 0.5 });
  const topPOnly = await build({ messages: [{ role: 'user', content: 'x' }], top_p: 0.9 }, SONNET45);
  assert.deepEqual(topPOnly.input.inferenceConfig, { topP: 0.9 });
});

test("temperature above Claude's maximum of 1 is clamped; other models get it as sent", async () => {
  assert.deepEqual((await build({ messages: [{ role: 'user', content: 'x' }], temperature: 1.5 }, SONNET4)).input.inferenceConfig, { temperature: 1 });
  assert.deepEqual((await build({ messages: [{ role: 'user', content: 'x' }], temperature: 1.5 }, LLAMA)).input.inferenceConfig, { temperature: 1.5 });
});

test('reasoning_effort -> Anthropic extended thinking with a budget under maxTokens, no temperature', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low', temperature: 0.3, top_p: 0.5 }, SONNET37);
  assert.equal(plan.thinking, true);
  assert.deepEqual(plan.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
  assert.deepEqual(plan.input.inferenceConfig, { maxTokens: 2048 + 8192 });

  const roomy = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'medium', max_tokens: 20000 }, SONNET45);
  assert.deepEqual(roomy.input.inferenceConfig, { maxTokens: 20000 });
  assert.deepEqual(roomy.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 8192 } });

  const tight = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high', max_completion_tokens: 1000 }, SONNET45);
  assert.deepEqual(tight.input.inferenceConfig, { maxTokens: 16384 + 1000 });

  const minimal = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'minimal' }, SONNET45);
  assert.deepEqual(minimal.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 1024 } });

  const none = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'none' }, SONNET45);
  assert.equal(none.input.additionalModelRequestFields, undefined);
});

test("xhigh fits under the model's output limit: Opus 4/4.1 (32000) get a smaller budget, the answer keeps its room", async () => {
  const x = [{ role: 'user', content: 'x' }];
  for (const opus of [OPUS41, OPUS4]) {
    const plan = await build({ messages: x, reasoning_effort: 'xhigh' }, opus);
    assert.deepEqual(plan.input.inferenceConfig, { maxTokens: 32000 }, opus);
    assert.deepEqual(plan.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 32000 - 8192 } }, opus);
  }
  const asked = await build({ messages: x, reasoning_effort: 'xhigh', max_tokens: 4000 }, OPUS41);
  assert.deepEqual(asked.input.inferenceConfig, { maxTokens: 32000 });
  assert.deepEqual(asked.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 28000 } });
  // An answer that needs nearly all of the limit leaves the budget at Anthropic's minimum, still under maxTokens.
  const greedy = await build({ messages: x, reasoning_effort: 'xhigh', max_tokens: 31500 }, OPUS41);
  assert.deepEqual(greedy.input.inferenceConfig, { maxTokens: 32000 });
  assert.deepEqual(greedy.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 1024 } });
  // Within the limit nothing changes: high on Opus 4.1, xhigh on the 64K models.
  const high = await build({ messages: x, reasoning_effort: 'high' }, OPUS41);
  assert.deepEqual(high.input.inferenceConfig, { maxTokens: 16384 + 8192 });
  for (const model of [SONNET45, SONNET4, SONNET37]) {
    const plan = await build({ messages: x, reasoning_effort: 'xhigh' }, model);
    assert.deepEqual(plan.input.inferenceConfig, { maxTokens: 32768 + 8192 }, model);
    assert.deepEqual(plan.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 32768 } }, model);
  }
  // A max_tokens the client chose above the budget is its own: passed as sent.
  const explicit = await build({ messages: x, reasoning_effort: 'low', max_tokens: 30000 }, OPUS41);
  assert.deepEqual(explicit.input.inferenceConfig, { maxTokens: 30000 });
});

test('top_k reaches Claude as additionalModelRequestFields.top_k; not with thinking; other models: 400 top_k', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], top_k: 40, temperature: 0.5 }, SONNET45);
  assert.deepEqual(plan.input.additionalModelRequestFields, { top_k: 40 });
  assert.deepEqual(plan.input.inferenceConfig, { temperature: 0.5 });
  const thinking = await build({ messages: [{ role: 'user', content: 'x' }], top_k: 40, reasoning_effort: 'low' }, SONNET37);
  assert.deepEqual(thinking.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
  const absent = await build({ messages: [{ role: 'user', content: 'x' }], top_k: null }, SONNET45);
  assert.equal(absent.input.additionalModelRequestFields, undefined);
  for (const model of [LLAMA, NOVA, 'openai.gpt-oss-120b-1:0']) {
    await assert.rejects(build({ messages: [{ role: 'user', content: 'x' }], top_k: 40 }, model), (error: unknown) => {
      assert.ok(error instanceof OpenAIError);
      assert.deepEqual(error.toJSON().error, { message: error.message, type: 'invalid_request_error', param: 'top_k', code: 'unsupported_parameter' });
      assert.match(error.message, /Claude/);
      return true;
    });
  }
});

test('reasoning_effort on a model without reasoning is a 400; gpt-oss gets reasoning_effort; R1 always reasons', async () => {
  await rejects400(build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high' }, LLAMA), 'reasoning_effort');
  const oss = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'minimal' }, 'openai.gpt-oss-120b-1:0');
  assert.deepEqual(oss.input.additionalModelRequestFields, { reasoning_effort: 'low' });
  const r1 = await build({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high' }, 'us.deepseek.r1-v1:0');
  assert.equal(r1.input.additionalModelRequestFields, undefined);
});

test('thinking is skipped when continuing a tool loop (Claude would demand the unsigned thinking block back)', async () => {
  const plan = await build(
    {
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'ok' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
      reasoning_effort: 'high',
      temperature: 0.2,
    },
    SONNET45,
  );
  assert.equal(plan.thinking, false);
  assert.equal(plan.input.additionalModelRequestFields, undefined);
  assert.deepEqual(plan.input.inferenceConfig, { temperature: 0.2 });
});

test('thinking with forced tool use is a 400 (Claude does not allow it)', async () => {
  await rejects400(
    build({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required', reasoning_effort: 'low' }),
    'tool_choice',
  );
});

test('response_format json_schema (strict) uses native outputConfig on models that have it', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  const plan = await build({
    messages: [{ role: 'user', content: 'x' }],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', description: 'The answer', schema, strict: true } },
  });
  assert.deepEqual(plan.input.outputConfig, {
    textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'answer', description: 'The answer' } } },
  });
  assert.equal(plan.structuredOutputTool, null);
  assert.equal(plan.input.toolConfig, undefined);
});

test('response_format json_schema falls back to a forced single tool on other models, never dropped', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } } };
  const plan = await build(
    { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } },
    NOVA,
  );
  assert.equal(plan.structuredOutputTool, 'answer');
  assert.equal(plan.input.outputConfig, undefined);
  assert.deepEqual(plan.input.toolConfig, {
    tools: [
      {
        toolSpec: {
          name: 'answer',
          description: 'Give your final answer by calling this tool with it as the input. Always call this tool to answer.',
          inputSchema: { json: schema },
        },
      },
    ],
    toolChoice: { any: {} },
  });
  // Non-strict schemas use the tool even where native output exists (native output requires strict schemas).
  const nonStrict = await build({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } });
  assert.equal(nonStrict.structuredOutputTool, 'answer');
});

test('response_format json_object uses the tool fallback with a free-form object schema', async () => {
  const plan = await build({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } });
  assert.equal(plan.structuredOutputTool, 'json_response');
  assert.deepEqual(plan.input.toolConfig?.tools?.[0]?.toolSpec?.inputSchema, { json: { type: 'object' } });
  assert.deepEqual(plan.input.toolConfig?.toolChoice, { any: {} });
  const text = await build({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'text' } });
  assert.equal(text.input.toolConfig, undefined);
});

test('response_format with user tools: the model must call one of the tools or the answer tool; names never collide', async () => {
  const plan = await build(
    {
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'json_response' } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
    },
    NOVA,
  );
  assert.equal(plan.structuredOutputTool, 'json_response_');
  assert.deepEqual(plan.input.toolConfig?.tools?.map((t) => t.toolSpec?.name), ['json_response', 'json_response_']);
  assert.deepEqual(plan.input.toolConfig?.toolChoice, { any: {} });
});

test('response_format fallback with reasoning_effort is a 400 naming response_format', async () => {
  await rejects400(build({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' }, reasoning_effort: 'low' }, SONNET4), 'response_format');
});

test('cache_control parts become cachePoint blocks after the content (system, messages, tools)', async () => {
  const plan = await build({
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Long system prompt', cache_control: { type: 'ephemeral' } }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Big file', cache_control: { type: 'ephemeral', ttl: '1h' } },
          { type: 'text', text: 'Question' },
        ],
      },
    ],
    tools: [{ type: 'function', function: { name: 'f' }, cache_control: { type: 'ephemeral' } }],
  });
  assert.deepEqual(plan.input.system, [{ text: 'Long system prompt' }, { cachePoint: { type: 'default' } }]);
  assert.deepEqual(plan.input.messages, [
    { role: 'user', content: [{ text: 'Big file' }, { cachePoint: { type: 'default', ttl: '1h' } }, { text: 'Question' }] },
  ]);
  assert.deepEqual(plan.input.toolConfig?.tools, [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }, { cachePoint: { type: 'default' } }]);
});

test('cache_control on a model without prompt caching is left out (Bedrock would reject cachePoint)', async () => {
  const plan = await build({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }] }, LLAMA);
  assert.deepEqual(plan.input.messages, [{ role: 'user', content: [{ text: 'x' }] }]);
});

test('at most 4 cache points: the earliest conversation ones are dropped', async () => {
  const part = (text: string) => ({ type: 'text', text, cache_control: { type: 'ephemeral' } });
  const plan = await build({
    messages: [
      { role: 'system', content: [part('s')] },
      { role: 'user', content: [part('1')] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [part('2')] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [part('3'), part('4')] },
    ],
  });
  assert.deepEqual(plan.input.system, [{ text: 's' }, { cachePoint: { type: 'default' } }]);
  assert.deepEqual(plan.input.messages?.[0], { role: 'user', content: [{ text: '1' }] });
  assert.equal(plan.input.messages?.[4]?.content?.length, 4);
});

test('data: image URIs are decoded; http(s) images go through the resolver, in parallel', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
  const fetched: string[] = [];
  const resolver: ImageResolver = async (url) => {
    fetched.push(url);
    return { format: 'jpeg', bytes: new Uint8Array([1, 2, 3]) };
  };
  const plan = await build(
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    },
    SONNET45,
    resolver,
  );
  assert.deepEqual(fetched, ['https://example.com/cat.jpg']);
  const content = plan.input.messages?.[0]?.content;
  assert.equal(content?.[1]?.image?.format, 'png');
  assert.deepEqual(Buffer.from(content?.[1]?.image?.source?.bytes ?? []), png);
  assert.deepEqual(content?.[2], { image: { format: 'jpeg', source: { bytes: new Uint8Array([1, 2, 3]) } } });
});

test('bad images are a 400 naming the part', async () => {
  const user = (url: string) => ({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
  await rejects400(build(user('data:image/bmp;base64,AAAA')), 'messages[0].content[0].image_url.url', /not supported/);
  await rejects400(build(user('data:image/png,rawdata')), 'messages[0].content[0].image_url.url', /base64/);
  await rejects400(build(user('file:///etc/passwd')), 'messages[0].content[0].image_url.url');
  await rejects400(build(user('https://x/y.png')), 'messages[0].content[0].image_url.url', /Could not fetch/);
});

test('unsupported content parts are a 400 naming the part', async () => {
  await rejects400(
    build({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }),
    'messages[0].content[0].type',
    /input_audio/,
  );
  await rejects400(build({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] }), 'messages[0].content[0].type');
});

test("a resolver's 400 is re-pointed at the image part; other statuses pass through", async () => {
  const body = { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'https://h/i.png' } }] }] };
  const tooBig: ImageResolver = async () => {
    throw new OpenAIError(400, 'Image too large', { code: 'invalid_image_url', param: 'messages' });
  };
  await rejects400(build(body, SONNET45, tooBig), 'messages[0].content[1].image_url.url', /too large/);
  const gateway: ImageResolver = async () => {
    throw new OpenAIError(502, 'upstream');
  };
  await assert.rejects(build(body, SONNET45, gateway), (e: unknown) => e instanceof OpenAIError && e.status === 502);
});

test('a tool call the client never answered gets a filler result; an orphan tool result becomes text', async () => {
  const plan = await build({
    messages: [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'b', type: 'function', function: { name: 'f', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: 'done' },
      { role: 'user', content: 'stop, do something else' },
      { role: 'assistant', content: 'OK.' },
      { role: 'tool', tool_call_id: 'zzz', content: 'late' },
    ],
    tools: [{ type: 'function', function: { name: 'f' } }],
  });
  assert.deepEqual(plan.input.messages?.[2], {
    role: 'user',
    content: [
      { toolResult: { toolUseId: 'b', content: [{ text: '(no result: the tool call was not completed)' }] } },
      { toolResult: { toolUseId: 'a', content: [{ text: 'done' }] } },
      { text: 'stop, do something else' },
    ],
  });
  assert.deepEqual(plan.input.messages?.[4], { role: 'user', content: [{ text: '[Result of tool call zzz: late]' }] });
});
