import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ALIASES, DEFAULT_MODEL } from '../../src/core/model-catalog.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

describe('the default model', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  const chat = (model: string | undefined) =>
    fetch(`${bridge.baseURL}/chat/completions`, {
      method: 'POST',
      headers: bridge.headers(),
      body: JSON.stringify({ ...(model === undefined ? {} : { model }), messages: [{ role: 'user', content: 'hi' }] }),
    });
  const get = (path: string) => fetch(`${bridge.baseURL}${path}`, { headers: bridge.headers() });
  const calledModel = () => bridge.emulator.recorder.last('Converse')?.modelId;
  const listedDefault = async () => {
    const list = await (await get('/models')).json();
    assert.equal(list.data[0].id, 'default', 'listed first');
    return list.data[0].bedrock_model_id;
  };

  it("works out of the box, as 'default' and without a model: the model gpt-4o stands for", async () => {
    assert.equal(DEFAULT_MODEL, DEFAULT_ALIASES['gpt-4o']);
    const named = await chat('default');
    assert.equal(named.status, 200, await named.clone().text());
    assert.equal((await named.json()).model, 'default', 'the response echoes the name sent');
    assert.equal(calledModel(), DEFAULT_MODEL);
    const unnamed = await chat(undefined);
    assert.equal(unnamed.status, 200);
    assert.equal(calledModel(), DEFAULT_MODEL);
  });

  it('is listed by /v1/models (first) and retrievable, pointing where it resolves', async () => {
    assert.equal(await listedDefault(), DEFAULT_MODEL);
    const one = await get('/models/default');
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), { id: 'default', object: 'model', created: 0, owned_by: 'bedrock-bridge', bedrock_model_id: DEFAULT_MODEL });
  });

  it('follows the default model changed at runtime (an alias or a Bedrock id)', async () => {
    const saved = { aliases: { ...bridge.gateway.models.aliases }, defaultModel: bridge.gateway.models.defaultModel };
    try {
      bridge.gateway.setModels({ aliases: saved.aliases, defaultModel: 'gpt-4o-mini' });
      assert.equal((await chat('default')).status, 200);
      assert.equal(calledModel(), DEFAULT_ALIASES['gpt-4o-mini']);
      assert.equal(await listedDefault(), DEFAULT_ALIASES['gpt-4o-mini']);

      bridge.gateway.setModels({ aliases: saved.aliases, defaultModel: 'amazon.nova-micro-v1:0' });
      assert.equal((await chat(undefined)).status, 200);
      assert.equal(calledModel(), 'amazon.nova-micro-v1:0');
      assert.equal(await listedDefault(), 'amazon.nova-micro-v1:0');

      bridge.gateway.setModels({ aliases: saved.aliases, defaultModel: null });
      const none = await chat('default');
      assert.equal(none.status, 400);
      assert.equal((await none.json()).error.param, 'model');
      const list = await (await get('/models')).json();
      assert.ok(!list.data.some((model: { id: string }) => model.id === 'default'), 'no default, none listed');
    } finally {
      bridge.gateway.setModels(saved);
    }
  });
});
