/**
 * Responses request -> Converse, item by item and field by field (src/core/responses-request.ts and
 * responses-schemas.ts), including the cases the research notes flag: Codex's developer messages, its
 * namespace and custom (apply_patch) tools, web_search, reasoning items carried back, no max_output_tokens.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageResolver } from '../../src/core/chat-request.ts';
import { encodeReasoning } from '../../src/core/responses-reasoning.ts';
import { bedrockToolName, buildResponsesConverseRequest } from '../../src/core/responses-request.ts';
import { parseResponsesRequest } from '../../src/core/responses-schemas.ts';
import { rejects400 } from '../support/openai-errors.ts';

const SONNET45 = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const NOVA = 'us.amazon.nova-pro-v1:0';
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

const noImages: ImageResolver = async () => {
  throw new Error('no image fetch expected');
};

async function build(body: Record<string, unknown>, modelId = SONNET45, history: unknown[] = []) {
  return buildResponsesConverseRequest(parseResponsesRequest({ model: 'gpt-4o', ...body }), history as never, modelId, noImages);
}


const fn = (name: string, extra: Record<string, unknown> = {}) => ({ type: 'function', name, parameters: { type: 'object', properties: { q: { type: 'string' } } }, ...extra });

test('a string input is one user turn; instructions, system and developer messages become system blocks in order', async () => {
  const plan = await build({
    instructions: 'Be brief.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Codex rules' }] },
      { role: 'system', content: 'More rules' },
      { role: 'user', content: 'Hi' },
    ],
  });
  assert.deepEqual(plan.input.system, [{ text: 'Be brief.' }, { text: 'Codex rules' }, { text: 'More rules' }]);
  assert.deepEqual(plan.input.messages, [{ role: 'user', content: [{ text: 'Hi' }] }]);
  const simple = await build({ input: 'Hello' });
  assert.deepEqual(simple.input.messages, [{ role: 'user', content: [{ text: 'Hello' }] }]);
});

test('consecutive items of one role merge into one turn (Converse requires alternation)', async () => {
  const plan = await build({
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'env' }] },
      { role: 'user', content: [{ type: 'input_text', text: 'task' }, { type: 'input_image', image_url: PNG }] },
      { role: 'assistant', content: [{ type: 'output_text', text: 'ok' }] },
      { type: 'function_call', call_id: 'c1', name: 'search', arguments: '{"q":"x"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'found' },
      { role: 'user', content: 'thanks' },
    ],
    tools: [fn('search')],
  });
  assert.equal(plan.input.messages!.length, 3);
  const [user, assistant, result] = plan.input.messages!;
  assert.equal(user!.content!.length, 3);
  assert.equal(user!.content![2]!.image?.format, 'png');
  assert.deepEqual(assistant, { role: 'assistant', content: [{ text: 'ok' }, { toolUse: { toolUseId: 'c1', name: 'search', input: { q: 'x' } } }] });
  assert.deepEqual(result, { role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [{ text: 'found' }] } }, { text: 'thanks' }] });
});

test('function_call_output: text and image parts, and a blank output', async () => {
  const plan = await build({
    input: [
      { type: 'function_call', call_id: 'a', name: 'search', arguments: '' },
      { type: 'function_call', call_id: 'b', name: 'search', arguments: '{}' },
      { type: 'function_call_output', call_id: 'a', output: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: PNG }] },
      { type: 'function_call_output', call_id: 'b', output: '  ' },
    ],
    tools: [fn('search')],
  });
  const results = plan.input.messages![2]!.content!;
  assert.equal(results[0]!.toolResult!.content![0]!.text, 'see');
  assert.equal(results[0]!.toolResult!.content![1]!.image?.format, 'png');
  assert.deepEqual(results[1]!.toolResult!.content, [{ text: '(empty)' }]);
});

test('bad function_call arguments are a 400 naming the item', async () => {
  await rejects400(build({ input: [{ type: 'function_call', call_id: 'a', name: 'f', arguments: '{nope' }], tools: [fn('f')] }), 'input[0].arguments', /not valid JSON/);
  await rejects400(build({ input: [{ type: 'function_call', call_id: 'a', name: 'f', arguments: '[1]' }], tools: [fn('f')] }), 'input[0].arguments', /JSON object/);
});

test('custom tools (apply_patch): a function with one string parameter and the grammar in its description; its calls and outputs round-trip', async () => {
  const grammar = 'start: begin_patch hunk+ end_patch';
  const plan = await build({
    input: [
      { role: 'user', content: 'patch it' },
      { type: 'custom_tool_call', call_id: 'p1', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n' },
      { type: 'custom_tool_call_output', call_id: 'p1', output: 'Success.' },
    ],
    tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar', syntax: 'lark', definition: grammar } }],
  });
  const spec = plan.input.toolConfig!.tools![0]!.toolSpec!;
  assert.equal(spec.name, 'apply_patch');
  assert.match(spec.description!, /^Edit files\.\n\nThe input must follow this lark grammar:\nstart: begin_patch/);
  assert.deepEqual((spec.inputSchema!.json as { required: string[] }).required, ['input']);
  assert.deepEqual(plan.input.messages![1]!.content![0], { toolUse: { toolUseId: 'p1', name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch\n' } } });
  assert.deepEqual(plan.input.messages![2]!.content![0], { toolResult: { toolUseId: 'p1', content: [{ text: 'Success.' }] } });
  assert.deepEqual(plan.tools.get('apply_patch'), { kind: 'custom', name: 'apply_patch', namespace: null });
});

test('namespace tools are flattened to namespace__name (the binding restores them), names Bedrock refuses are made safe', async () => {
  const plan = await build({
    input: [
      { role: 'user', content: 'go' },
      { type: 'function_call', call_id: 'n1', name: 'read', namespace: 'mcp__files', arguments: '{}' },
      { type: 'function_call_output', call_id: 'n1', output: 'ok' },
    ],
    tools: [{ type: 'namespace', name: 'mcp__files', description: 'File tools', tools: [fn('read', { description: 'Read a file' })] }, fn('web.fetch'), fn('web_fetch')],
  });
  const names = plan.input.toolConfig!.tools!.map((tool) => tool.toolSpec!.name);
  assert.deepEqual(names, ['mcp__files__read', 'web_fetch', bedrockToolName('web_fetch', null, true)]);
  assert.deepEqual(plan.tools.get(names[2]!), { kind: 'function', name: 'web_fetch', namespace: null });
  assert.equal(plan.input.toolConfig!.tools![0]!.toolSpec!.description, 'File tools\n\nRead a file');
  assert.deepEqual(plan.tools.get('mcp__files__read'), { kind: 'function', name: 'read', namespace: 'mcp__files' });
  assert.deepEqual(plan.tools.get('web_fetch'), { kind: 'function', name: 'web.fetch', namespace: null });
  assert.equal(plan.input.messages![1]!.content![0]!.toolUse!.name, 'mcp__files__read');
  const long = bedrockToolName('x'.repeat(70), 'ns');
  assert.equal(long.length, 64);
  assert.notEqual(long, bedrockToolName('x'.repeat(71), 'ns'), 'distinct long names stay distinct');
});

test('web_search and tool_search (sent by Codex) are not offered; hosted tools are 400s naming them', async () => {
  const plan = await build({ input: 'x', tools: [fn('f'), { type: 'web_search', external_web_access: true }, { type: 'tool_search', execution: 'client', parameters: {} }] });
  assert.deepEqual(plan.input.toolConfig!.tools!.map((tool) => tool.toolSpec!.name), ['f']);
  for (const type of ['file_search', 'mcp', 'code_interpreter', 'image_generation', 'computer_use_preview']) {
    await rejects400(build({ input: 'x', tools: [{ type }] }), 'tools[0].type', new RegExp(`hosted tool '${type}'`));
  }
  await rejects400(build({ input: 'x', tools: [{ type: 'gadget' }] }), 'tools[0].type', /not supported/);
  await rejects400(build({ input: 'x', tools: [fn('f')], tool_choice: { type: 'web_search' } }), 'tool_choice');
});

test('tool_choice: none, auto, required, a function or custom tool by name', async () => {
  const tools = [fn('f'), { type: 'custom', name: 'patch' }];
  assert.deepEqual((await build({ input: 'x', tools, tool_choice: 'auto' })).input.toolConfig!.toolChoice, { auto: {} });
  assert.deepEqual((await build({ input: 'x', tools, tool_choice: 'required' })).input.toolConfig!.toolChoice, { any: {} });
  assert.deepEqual((await build({ input: 'x', tools, tool_choice: { type: 'function', name: 'f' } })).input.toolConfig!.toolChoice, { tool: { name: 'f' } });
  assert.deepEqual((await build({ input: 'x', tools, tool_choice: { type: 'custom', name: 'patch' } })).input.toolConfig!.toolChoice, { tool: { name: 'patch' } });
  assert.equal((await build({ input: 'x', tools, tool_choice: 'none' })).input.toolConfig, undefined);
  await rejects400(build({ input: 'x', tools, tool_choice: { type: 'function', name: 'g' } }), 'tool_choice', /'g'/);
});

test('max_output_tokens: as given; absent, the model output limit where known (Codex sends none)', async () => {
  assert.equal((await build({ input: 'x', max_output_tokens: 100 })).input.inferenceConfig?.maxTokens, 100);
  assert.equal((await build({ input: 'x' })).input.inferenceConfig?.maxTokens, 64000);
  assert.equal((await build({ input: 'x' }, NOVA)).input.inferenceConfig, undefined);
  assert.equal((await build({ input: 'x', temperature: 0.5, top_p: 0.9 }, NOVA)).input.inferenceConfig?.topP, 0.9);
});

test('reasoning.effort: Claude thinking with the answer room under the model limit; `max` is xhigh; none on a model without it is a 400', async () => {
  const plan = await build({ input: 'x', reasoning: { effort: 'medium', summary: 'auto' } });
  assert.deepEqual(plan.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 8192 } });
  assert.equal(plan.input.inferenceConfig?.maxTokens, 64000);
  const max = await build({ input: 'x', reasoning: { effort: 'max' } });
  assert.deepEqual(max.input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 32768 } });
  await rejects400(build({ input: 'x', reasoning: { effort: 'high' } }, NOVA), 'reasoning.effort');
});

test('reasoning items: ours come back as signed thinking first in their turn; foreign or summary-only ones are dropped', async () => {
  const thinking = encodeReasoning({ text: 'Let me look', signature: 'sig==' });
  const input = [
    { role: 'user', content: 'q' },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Let me look' }], encrypted_content: thinking },
    { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'gAAAAopenai-encrypted' },
    { type: 'reasoning', id: 'rs_3', summary: [{ type: 'summary_text', text: 'no content' }] },
    { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
    { type: 'function_call_output', call_id: 'c', output: 'r' },
  ];
  const on = await build({ input, tools: [fn('f')], reasoning: { effort: 'low' } });
  assert.deepEqual(on.input.messages![1]!.content, [
    { reasoningContent: { reasoningText: { text: 'Let me look', signature: 'sig==' } } },
    { toolUse: { toolUseId: 'c', name: 'f', input: {} } },
  ]);
  assert.equal(on.thinking, true, 'the tool loop keeps thinking: its turn starts with the signed block');
  const off = await build({ input, tools: [fn('f')] });
  assert.deepEqual(off.input.messages![1]!.content, [{ toolUse: { toolUseId: 'c', name: 'f', input: {} } }], 'no thinking requested: blocks dropped');
  const redacted = encodeReasoning({ redacted: new Uint8Array([1, 2, 3]) });
  const kept = await build({ input: [{ role: 'user', content: 'q' }, { type: 'reasoning', summary: [], encrypted_content: redacted }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'b' }], reasoning: { effort: 'low' } });
  assert.deepEqual(kept.input.messages![1]!.content![0], { reasoningContent: { redactedContent: Buffer.from([1, 2, 3]) } });
});

test('text.format: json_schema strict is native structured output on Claude 4.5; otherwise a forced tool', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  const native = await build({ input: 'x', text: { format: { type: 'json_schema', name: 'out', schema, strict: true }, verbosity: 'low' } });
  assert.equal(native.input.outputConfig?.textFormat?.type, 'json_schema');
  assert.equal(native.structuredOutputTool, null);
  const forced = await build({ input: 'x', text: { format: { type: 'json_schema', name: 'out', schema, strict: true } } }, NOVA);
  assert.equal(forced.structuredOutputTool, 'out');
  assert.deepEqual(forced.input.toolConfig?.toolChoice, { any: {} });
  const object = await build({ input: 'x', text: { format: { type: 'json_object' } } });
  assert.equal(object.structuredOutputTool, 'json_response');
});

test('prompt_cache_key: cache points after the instructions and after the input, on models with prompt caching only', async () => {
  const plan = await build({ instructions: 'rules', input: 'x', prompt_cache_key: 'thread-1' });
  assert.deepEqual(plan.input.system, [{ text: 'rules' }, { cachePoint: { type: 'default' } }]);
  assert.deepEqual(plan.input.messages, [{ role: 'user', content: [{ text: 'x' }, { cachePoint: { type: 'default' } }] }]);
  const plain = await build({ instructions: 'rules', input: 'x', prompt_cache_key: 'thread-1' }, 'meta.llama3-1-8b-instruct-v1:0');
  assert.deepEqual(plain.input.system, [{ text: 'rules' }]);
});

test('history (a stored previous response) goes ahead of the new input', async () => {
  const plan = await build({ input: 'second' }, SONNET45, [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'first' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'answer' }] },
  ]);
  assert.deepEqual(plan.input.messages!.map((turn) => turn.content![0]!.text), ['first', 'answer', 'second']);
});

test('fields and items Bedrock cannot honour are 400s naming them; what Codex sends is accepted', async () => {
  await rejects400(build({ input: [{ type: 'web_search_call', id: 'ws' }] }), 'input[0].type', /web_search_call/);
  await rejects400(build({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }), 'input[0].content[0]', /input_file/);
  await rejects400(build({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }), 'input[0].content[0].file_id', /file_id/);
  await rejects400(build({ input: 'x', truncation: 'auto' }), 'truncation');
  await rejects400(build({ input: 'x', background: true }), 'background');
  await rejects400(build({ input: 'x', include: ['message.output_text.logprobs'] }), 'include[0]', /logprobs/);
  await rejects400(build({ input: 'x', service_tier: 'flex' }), 'service_tier');
  await rejects400(build({ input: 'x', seed: 1 }), 'seed', /Unrecognized request argument/);
  await rejects400(build({}), 'input');
  // Codex 0.171's request body, less its conversation.
  const codex = await build({
    model: 'claude-sonnet',
    stream: true,
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '01a23850-e400-7bd3-82d1-cec6cf5f29cf',
    text: { verbosity: 'low' },
    client_metadata: { session_id: 's' },
    input: [{ type: 'message', id: 'msg_1', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    tools: [fn('exec_command', { strict: false }), { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } }, { type: 'web_search', external_web_access: true }],
  });
  assert.equal(codex.input.toolConfig!.tools!.filter((tool) => tool.toolSpec).length, 2);
});
