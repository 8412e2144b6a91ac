import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

describe('embeddings', () => {
  let bridge: TestBridge;

  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  const embed = (body: unknown) => fetch(`${bridge.baseURL}/embeddings`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify(body) });

  it("Cohere: usage is Bedrock's x-amzn-bedrock-input-token-count, not an estimate", async () => {
    // The emulator counts words: 6 + 3 = 9 tokens, where characters / 4 would give 6.
    const input = ['a b c d e f', 'one two three'];
    const estimate = Math.ceil(input.join('').length / 4);
    bridge.emulator.recorder.clear();
    const eventPromise = bridge.nextEvent();
    const response = await embed({ model: 'cohere.embed-english-v3', input });
    assert.equal(response.status, 200);
    const body = await response.json();
    const calls = bridge.emulator.recorder.filter('InvokeModel');
    assert.equal(calls.length, 1);
    const counted = calls[0]!.usage!.inputTokens;
    assert.equal(counted, 9);
    assert.notEqual(counted, estimate);
    assert.deepEqual(body.usage, { prompt_tokens: counted, total_tokens: counted });
    assert.equal((await eventPromise).usage.inputTokens, counted);
  });

  it('Titan: one call per text, at most 8 in flight at once', async () => {
    // Each call is held 400 ms, so calls the route lets run together overlap at the emulator.
    const input = Array.from({ length: 20 }, (_, i) => `text ${i} [[slow:400ms]]`);
    bridge.emulator.recorder.clear();
    const response = await embed({ model: 'amazon.titan-embed-text-v2:0', input });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(
      body.data.map((item: { index: number }) => item.index),
      input.map((_, i) => i),
    );
    assert.equal(bridge.emulator.recorder.filter('InvokeModel').length, 20);
    assert.equal(bridge.emulator.recorder.maxInFlight, 8, 'the bound (8), and concurrency up to it');
  });
});
