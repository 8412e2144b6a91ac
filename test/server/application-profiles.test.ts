import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { APPLICATION_PROFILE_ID, EMULATOR_ACCOUNT_ID } from '../../src/emulator/catalog.ts';
import { modelMappingOf } from '../../src/core/settings.ts';
import { createBedrockClients, type BedrockClients } from '../../src/server/bedrock-clients.ts';
import { ModelList } from '../../src/server/model-list.ts';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';
import { lastConverseRequest } from '../support/clients.ts';
import { readSse } from '../support/sse.ts';

// The emulator's application profile routes to the US Claude Sonnet 4.5 profile.
const APP_ARN = `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${APPLICATION_PROFILE_ID}`;
const CLAUDE_PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

function post(bridge: TestBridge, body: unknown): Promise<Response> {
  return fetch(`${bridge.baseURL}/chat/completions`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify(body) });
}

function profileListReads(bridge: TestBridge): number {
  return bridge.emulator.recorder.filter('ListInferenceProfiles').length;
}

describe('an application inference profile takes the traits of the model behind it', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  it('reasoning_effort gets reasoning back (non-streaming and streaming)', async () => {
    const response = await post(bridge, { model: APP_ARN, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Think about it' }] });
    assert.equal(response.status, 200, await response.clone().text());
    const body = await response.json();
    assert.equal(body.model, APP_ARN);
    assert.equal(typeof body.choices[0].message.reasoning_content, 'string');
    assert.ok(body.choices[0].message.reasoning_content.length > 0);
    const sent = lastConverseRequest(bridge.emulator);
    assert.equal(bridge.emulator.recorder.last('Converse')?.modelId, APP_ARN, 'the profile itself is called');
    assert.deepEqual(sent.additionalModelRequestFields?.thinking, { type: 'enabled', budget_tokens: 2048 });

    const stream = await post(bridge, { model: APP_ARN, stream: true, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Think about it' }] });
    assert.equal(stream.status, 200);
    const chunks = (await readSse(stream)).filter((data) => data !== '[DONE]').map((data) => JSON.parse(data));
    const reasoning = chunks.map((chunk) => chunk.choices[0]?.delta?.reasoning_content ?? '').join('');
    assert.ok(reasoning.length > 0, 'reasoning_content deltas');
  });

  it('cache_control on a system part reaches Bedrock as a cachePoint', async () => {
    const response = await post(bridge, {
      model: APP_ARN,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Long shared instructions.', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: 'hi' },
      ],
    });
    assert.equal(response.status, 200);
    assert.deepEqual(lastConverseRequest(bridge.emulator).system, [{ text: 'Long shared instructions.' }, { cachePoint: { type: 'default' } }]);
  });

  it('temperature and top_p are handled as for the Claude profile id', async () => {
    const sent = [];
    for (const model of [CLAUDE_PROFILE, APP_ARN]) {
      const response = await post(bridge, { model, temperature: 1.5, top_p: 0.5, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(response.status, 200, `${model}: ${await response.clone().text()}`);
      sent.push(lastConverseRequest(bridge.emulator).inferenceConfig);
    }
    assert.deepEqual(sent[0], { temperature: 1 }, 'clamped to Claude\'s range, top_p dropped');
    assert.deepEqual(sent[1], sent[0]);
  });

  it('reads the profile list when a profile is first used, then not per request', async () => {
    const reads = profileListReads(bridge);
    for (let i = 0; i < 3; i++) assert.equal((await post(bridge, { model: APP_ARN, reasoning_effort: 'low', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
    assert.equal(profileListReads(bridge), reads);
  });

  it('an unknown profile: one more read of the list, then the ARN as is, said once', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const unknown = `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/zzzzzzzzzzzz`;
    const reads = profileListReads(bridge);
    for (let i = 0; i < 2; i++) {
      const response = await post(bridge, { model: unknown, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(response.status, 400, 'Bedrock does not know it either');
      assert.equal(bridge.emulator.recorder.last('Converse')?.modelId, unknown);
    }
    assert.ok(profileListReads(bridge) > reads, 'the list was read again for the unknown profile');
    assert.equal(profileListReads(bridge) - reads, 2, 'once (both profile types), not per request');
    const lines = warn.mock.calls.map((call) => String(call.arguments[0])).filter((line) => line.includes(unknown));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /not among the account's application inference profiles/);
  });
});

describe('an application inference profile with the control plane unreachable', () => {
  let bridge: TestBridge;
  let deadControl: BedrockClients;

  before(async () => {
    // Nothing listens on port 1; the runtime is still the emulator.
    deadControl = createBedrockClients({
      region: TEST_REGION,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      runtimeEndpoint: 'http://127.0.0.1:1',
      controlEndpoint: 'http://127.0.0.1:1',
    });
    bridge = await startTestBridge({ gateway: { control: deadControl.control } });
  });
  after(async () => {
    await bridge.close();
    deadControl.destroy();
  });

  it('is sent as is, without the model traits (as before), and the log says so once', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    for (let i = 0; i < 2; i++) {
      const response = await post(bridge, { model: APP_ARN, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(response.status, 200);
      assert.equal(bridge.emulator.recorder.last('Converse')?.modelId, APP_ARN);
    }
    const refused = await post(bridge, { model: APP_ARN, reasoning_effort: 'low', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error.param, 'reasoning_effort');
    const lines = warn.mock.calls.map((call) => String(call.arguments[0])).filter((line) => line.includes(APP_ARN));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /ECONNREFUSED|connect/i);
  });
});

describe('an application inference profile with a control plane that never answers', () => {
  it('waits for the profile list only so long, then goes out as is and says why', async () => {
    // Takes connections and never answers them: only the lookup's own limit ends the wait.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const client = new BedrockClient({
      region: TEST_REGION,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    const unresolved: [string, string][] = [];
    const list = new ModelList({
      client,
      mapping: modelMappingOf({ models: {}, defaultModel: undefined }),
      ttlMs: 60_000,
      profileLookupTimeoutMs: 200,
      onError: () => {},
      onUnresolvedProfile: (arn, reason) => unresolved.push([arn, reason]),
    });
    try {
      assert.equal(await list.effectiveModelOf(APP_ARN), APP_ARN);
      assert.equal(await list.effectiveModelOf(APP_ARN), APP_ARN);
      assert.deepEqual(unresolved, [[APP_ARN, 'the profile list did not arrive within 200 ms']], 'said once');
    } finally {
      for (const socket of sockets) socket.destroy();
      client.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
