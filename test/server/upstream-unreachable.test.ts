import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RequestEventBus } from '../../src/core/request-events.ts';
import { modelMappingOf } from '../../src/core/settings.ts';
import { createBedrockClients, type BedrockClients } from '../../src/server/bedrock-clients.ts';
import { startGateway, type RunningGateway } from '../../src/server/gateway.ts';

const API_KEY = 'test-key-0123456789abcdef';
const SECRET = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

describe('Bedrock unreachable', () => {
  let port: number;
  let clients: BedrockClients;
  let gateway: RunningGateway;

  before(async () => {
    port = await closedPort();
    clients = createBedrockClients({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
      runtimeEndpoint: `http://127.0.0.1:${port}`,
      controlEndpoint: `http://127.0.0.1:${port}`,
    });
    gateway = await startGateway({
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      region: 'us-east-1',
      models: modelMappingOf({ models: { mine: 'amazon.nova-micro-v1:0' }, defaultModel: undefined }),
      runtime: clients.runtime,
      control: clients.control,
      events: new RequestEventBus(),
      onModelCatalogError: () => {},
    });
  });
  after(async () => {
    await gateway?.close(100);
    clients?.destroy();
  });

  for (const stream of [false, true]) {
    it(`a chat completion${stream ? ' (stream: true)' : ''} gets 502 in OpenAI shape, naming Bedrock, no secrets`, async () => {
      const response = await fetch(`${gateway.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mine', stream, messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.equal(response.status, 502);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      const body = (await response.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(body.error.type, 'api_error');
      assert.equal(body.error.code, 'upstream_unreachable');
      assert.equal(body.error.param, null);
      assert.match(body.error.message, new RegExp(`^Could not reach Bedrock at 127\\.0\\.0\\.1:${port}: the connection was refused`));
      for (const secret of ['AKIAIOSFODNN7EXAMPLE', SECRET, API_KEY]) assert.ok(!body.error.message.includes(secret));
    });
  }
});
