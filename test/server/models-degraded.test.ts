import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestEventBus } from '../../src/core/request-events.ts';
import { modelMappingOf } from '../../src/core/settings.ts';
import { createBedrockClients } from '../../src/server/bedrock-clients.ts';
import { startGateway } from '../../src/server/gateway.ts';

describe('model list without a control plane', () => {
  it('still serves the aliases, says why in a header, and tells the operator once', async () => {
    // Nothing listens on port 1: the control plane is unreachable.
    const clients = createBedrockClients({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      runtimeEndpoint: 'http://127.0.0.1:1',
      controlEndpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
    });
    const errors: unknown[] = [];
    const gateway = await startGateway({
      port: 0,
      apiKey: 'k',
      region: 'us-east-1',
      models: modelMappingOf({ models: { mine: 'amazon.nova-micro-v1:0' }, defaultModel: undefined }),
      runtime: clients.runtime,
      control: clients.control,
      events: new RequestEventBus(),
      onModelCatalogError: (error) => errors.push(error),
    });
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${gateway.url}/models`, { headers: { authorization: 'Bearer k' } });
        assert.equal(response.status, 200);
        assert.match(response.headers.get('x-bedrock-bridge-models-degraded') ?? '', /ECONNREFUSED|connect/i);
        const body = await response.json();
        const ids = body.data.map((model: { id: string }) => model.id);
        assert.ok(ids.includes('mine'));
        assert.ok(ids.includes('gpt-4o'));
      }
      assert.equal(errors.length, 1, 'reported once, not per request');

      // Bedrock clients' control-plane reads get an AWS error they can read, and the runtime being down
      // reaches them as a 502 in the same shape.
      const profiles = await fetch(`${gateway.url.replace(/\/v1$/, '')}/inference-profiles?type=SYSTEM_DEFINED`, { headers: { authorization: 'Bearer k' } });
      assert.equal(profiles.status, 503);
      assert.equal(profiles.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
      assert.match(((await profiles.json()) as { message: string }).message, /catalogue could not be read: .*(ECONNREFUSED|connect)/i);
      const invoke = await fetch(`${gateway.url.replace(/\/v1$/, '')}/model/mine/converse`, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: '{}' });
      assert.equal(invoke.status, 502);
      assert.equal(invoke.headers.get('x-amzn-errortype'), 'InternalServerException');
      assert.match(((await invoke.json()) as { message: string }).message, /Could not reach Bedrock at 127\.0\.0\.1:1/);
    } finally {
      await gateway.close(100);
      clients.destroy();
    }
  });
});
