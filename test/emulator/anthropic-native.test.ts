import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { useEmulatorWithClient } from '../support/emulator.ts';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
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
    new CountTokensCommand({ modelId: HAIKU, input: { converse: { system: [{ text: 'be nice' }], messages: [{ role: 'user', content: [{ text: 'count these three' }] }] } } }),
  );
  assert.equal(converse.inputTokens, 5);
  const native = await env.client.send(
    new CountTokensCommand({
      modelId: HAIKU,
      input: { invokeModel: { body: new TextEncoder().encode(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'one two' }] })) } },
    }),
  );
  assert.equal(native.inputTokens, 2);
  await assert.rejects(
    env.client.send(new CountTokensCommand({ modelId: 'amazon.nova-micro-v1:0', input: { converse: { messages: [{ role: 'user', content: [{ text: 'x' }] }] } } })),
    { name: 'ValidationException' },
  );
});
