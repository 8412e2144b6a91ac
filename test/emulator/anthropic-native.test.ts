import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { useEmulatorWithClient } from '../support/emulator.ts';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const HAIKU_BASE = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const SONNET_4_6 = 'us.anthropic.claude-sonnet-4-6';
const env = useEmulatorWithClient();

const tools = [{ name: 'lookup', description: 'Look up', input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }];

it('InvokeModel answers Claude native Messages requests', async () => {
  const out = await env.client.send(
    new InvokeModelCommand({
      modelId: HAIKU,
      contentType: 'application/json',
      body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, system: 'be nice', messages: [{ role: 'user', content: 'hello native' }] }),
    }),
  );
  const body = JSON.parse(new TextDecoder().decode(out.body));
  assert.equal(body.type, 'message');
  assert.deepEqual(body.content, [{ type: 'text', text: 'echo: hello native' }]);
  assert.equal(body.stop_reason, 'end_turn');
  assert.deepEqual(body.usage, { input_tokens: 4, output_tokens: 3 });
  assert.equal(env.emulator.recorder.last()!.operation, 'InvokeModel');

  await assert.rejects(
    env.client.send(new InvokeModelCommand({ modelId: HAIKU, body: JSON.stringify({ max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }) })),
    { name: 'ValidationException', message: /anthropic_version/ },
  );
});

it('InvokeModelWithResponseStream streams native events in chunk frames, tool use included', async () => {
  const response = await env.client.send(
    new InvokeModelWithResponseStreamCommand({
      modelId: HAIKU,
      contentType: 'application/json',
      body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, tools, messages: [{ role: 'user', content: [{ type: 'text', text: 'find it [[tool]]' }] }] }),
    }),
  );
  const events: any[] = [];
  for await (const part of response.body!) events.push(JSON.parse(new TextDecoder().decode(part.chunk!.bytes)));
  assert.deepEqual(
    events.map((e) => e.type),
    ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
  );
  const toolStart = events[5];
  assert.equal(toolStart.content_block.type, 'tool_use');
  assert.equal(toolStart.content_block.name, 'lookup');
  const json = events.filter((e) => e.delta?.type === 'input_json_delta').map((e) => e.delta.partial_json).join('');
  assert.deepEqual(JSON.parse(json), { q: 'example' });
  assert.equal(events.at(-2).delta.stop_reason, 'tool_use');
  assert.equal(events.at(-1)['amazon-bedrock-invocationMetrics'].outputTokenCount, env.emulator.recorder.last()!.usage!.outputTokens);
});

it('CountTokens counts Converse and native inputs the same way the usage does (Claude only)', async () => {
  const { CountTokensCommand } = await import('@aws-sdk/client-bedrock-runtime');
  const converse = await env.client.send(
    new CountTokensCommand({ modelId: HAIKU_BASE, input: { converse: { system: [{ text: 'be nice' }], messages: [{ role: 'user', content: [{ text: 'count these three' }] }] } } }),
  );
  assert.equal(converse.inputTokens, 5);
  const native = await env.client.send(
    new CountTokensCommand({
      modelId: HAIKU_BASE,
      input: { invokeModel: { body: new TextEncoder().encode(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'one two' }] })) } },
    }),
  );
  assert.equal(native.inputTokens, 2);
  await assert.rejects(
    env.client.send(new CountTokensCommand({ modelId: 'amazon.nova-micro-v1:0', input: { converse: { messages: [{ role: 'user', content: [{ text: 'x' }] }] } } })),
    { name: 'ValidationException' },
  );
});

/** InvokeModel with a native body; resolves with the decoded answer or rejects with Bedrock's error. */
async function invoke(modelId: string, body: Record<string, unknown>): Promise<any> {
  const out = await env.client.send(
    new InvokeModelCommand({ modelId, contentType: 'application/json', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 2000, ...body }) }),
  );
  return JSON.parse(new TextDecoder().decode(out.body));
}

const hello = [{ role: 'user', content: 'hello' }];

it('refuses what Bedrock refuses in a native body and first-party Anthropic accepts', async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['model in the body', { model: 'claude-haiku-4-5', messages: hello }, /extraneous key \[model\] is not permitted/],
    ['stream in the body', { stream: true, messages: hello }, /extraneous key \[stream\]/],
    ['an unknown beta', { anthropic_beta: ['claude-code-20250219', 'oauth-2025-04-20'], messages: hello }, /^invalid beta flag$/],
    ['context_management clear_thinking', { context_management: { edits: [{ type: 'clear_thinking_20251015' }] }, messages: hello }, /context_management: Extra inputs are not permitted/],
    ['output_config.format', { output_config: { format: { type: 'json_schema', schema: { type: 'object' } } }, messages: hello }, /output_config.format: Extra inputs/],
    ['output_config.effort before Claude 4.6', { output_config: { effort: 'low' }, messages: hello }, /output_config: Extra inputs/],
    ['adaptive thinking before Claude 4.6', { thinking: { type: 'adaptive' }, messages: hello }, /Input tag 'adaptive'/],
    ['tools[].custom', { tools: [{ name: 't', input_schema: { type: 'object' }, custom: { defer_loading: true } }], messages: hello }, /tools.0.custom: Extra inputs/],
    ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: hello }, /Input tag 'web_search_20250305'/],
    ['cache_control.scope', { system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', scope: 'global' } }], messages: hello }, /system.0.cache_control.scope: Extra inputs/],
    ['a prompt past the context window', { messages: [{ role: 'user', content: 'hello [[too-long]]' }] }, /^Input is too long for requested model.$/],
  ];
  for (const [what, body, message] of cases) {
    await assert.rejects(invoke(HAIKU, body), { name: 'ValidationException', message }, what);
  }
  // The accepted forms of the same fields.
  const ok = await invoke(HAIKU, {
    anthropic_beta: ['claude-code-20250219', 'interleaved-thinking-2025-05-14'],
    // Claude Code's own Bedrock mode sends this JSON string to InvokeModel, and Bedrock takes it there.
    metadata: { user_id: '{"device_id":"abc","session_id":"x"}' },
    system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', ttl: '5m' } }],
    tools: [{ type: 'bash_20250124', name: 'bash' }],
    messages: hello,
  });
  assert.equal(ok.type, 'message');
  const adaptive = await invoke(SONNET_4_6, { thinking: { type: 'adaptive' }, output_config: { effort: 'low' }, messages: hello });
  assert.equal(adaptive.content[0].type, 'thinking', 'Claude 4.6 takes adaptive thinking and effort');
});

it("Converse's requestMetadata refuses values outside Bedrock's pattern", async () => {
  const { ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
  const converse = (value: string) =>
    env.client.send(new ConverseCommand({ modelId: HAIKU, requestMetadata: { user_id: value }, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
  assert.equal((await converse('user_42:session-1')).stopReason, 'end_turn');
  await assert.rejects(converse('{"device_id":"abc"}'), { name: 'ValidationException', message: /violates the regular expression/ });
});

it('thinking signatures must come back untouched', async () => {
  const first = await invoke(HAIKU, { thinking: { type: 'enabled', budget_tokens: 1024 }, messages: hello });
  const thinking = first.content.find((block: any) => block.type === 'thinking');
  assert.ok(thinking?.signature, 'a signed thinking block');
  const turn = (signature: string) => ({
    thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [...hello, { role: 'assistant', content: [{ ...thinking, signature }, { type: 'text', text: 'hi' }] }, { role: 'user', content: 'again' }],
  });
  assert.equal((await invoke(HAIKU, turn(thinking.signature))).type, 'message');
  await assert.rejects(invoke(HAIKU, turn('forged')), { name: 'ValidationException', message: /Invalid `signature` in `thinking` block/ });
});
