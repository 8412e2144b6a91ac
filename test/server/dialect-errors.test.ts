import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dialectOf } from '../../src/server/dialect.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

describe('guard errors in the client dialect', () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  it('tells the dialect from the path alone', () => {
    assert.equal(dialectOf('/v1/chat/completions'), 'openai');
    assert.equal(dialectOf('/v1/messages'), 'anthropic');
    assert.equal(dialectOf('/v1/messages/count_tokens'), 'anthropic');
    assert.equal(dialectOf('/v1/messagesx'), 'openai');
    assert.equal(dialectOf('/model/anthropic.claude-3/invoke'), 'bedrock');
    assert.equal(dialectOf('/inference-profiles'), 'bedrock');
  });

  it('a wrong key on an Anthropic path answers Anthropic\'s error envelope, and the log still has its type', async () => {
    const finished = bridge.nextEvent();
    const response = await fetch(`${bridge.origin}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'nope', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { type: 'error', error: { type: 'authentication_error', message: 'Incorrect API key provided. Use the key Bedrock Bridge printed at start-up (or the one you configured).' } });
    const event = await finished;
    assert.equal(event.status, 401);
    assert.equal(event.errorType, 'invalid_request_error');
  });

  it('a wrong key on a Bedrock path answers an AWS error the SDKs read', async () => {
    const response = await fetch(`${bridge.origin}/model/x/invoke`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(((await response.json()) as { message: string }).message, /Incorrect API key/);
  });

  it('OpenAI paths keep OpenAI\'s error object', async () => {
    const response = await fetch(`${bridge.origin}/v1/chat/completions`, { method: 'POST', headers: { 'x-api-key': 'nope', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  });
});
