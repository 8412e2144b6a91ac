import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { APPLICATION_PROFILE_ID, EMBEDDINGS_APPLICATION_PROFILE_ID, EMULATOR_ACCOUNT_ID } from '../../src/emulator/catalog.ts';
import { startUsagePipeline } from '../../src/usage/index.ts';
import { startTestBridge, TEST_REGION } from '../support/bridge.ts';
import { assertCost, costFromPriceFile } from './support.ts';

test('the ledger records inference routes whatever their status, guard rejections included, but not /v1/models or unknown paths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-routes-'));
  const bridge = await startTestBridge();
  const pipeline = startUsagePipeline({ dataDir: dir, events: bridge.gateway.events, region: TEST_REGION });
  try {
    const chatBody = JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] });
    const json = { 'content-type': 'application/json' };
    const answers = [
      await fetch(`${bridge.baseURL}/chat/completions`, { method: 'POST', headers: json, body: chatBody }),
      await fetch(`${bridge.baseURL}/embeddings`, { method: 'POST', headers: { ...json, authorization: 'Bearer wrong' }, body: '{"model":"amazon.titan-embed-text-v2:0","input":"x"}' }),
      await fetch(`${bridge.baseURL}/chat/completions`, { method: 'POST', headers: bridge.headers(), body: chatBody }),
      await fetch(`${bridge.baseURL}/models`, { headers: bridge.headers() }),
      await fetch(`${bridge.baseURL}/models/gpt-4o`, { headers: bridge.headers() }),
      await fetch(`${bridge.baseURL}/models`),
      await fetch(`${bridge.baseURL}/no-such-thing`, { headers: bridge.headers() }),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [401, 401, 200, 200, 200, 401, 404],
    );
    await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    assert.equal(bridge.events.length, answers.length, 'the bus saw every request');

    await pipeline.ledger.flush();
    const records = pipeline.ledger.list();
    // (Ids made in the same millisecond do not sort in request order.)
    assert.deepEqual(records.map((record) => `${record.route} ${record.status}`).sort(), [
      '/v1/chat/completions 200',
      '/v1/chat/completions 401',
      '/v1/embeddings 401',
    ]);
    const rejected = records.find((record) => record.route === '/v1/chat/completions' && record.status === 401)!;
    assert.equal(rejected.errorType, 'invalid_request_error');
    assert.equal(rejected.modelId, null);
    assert.equal(rejected.inputTokens, 0);
    // Bedrock was never called: known to cost nothing, not "unpriced".
    assert.equal(rejected.costUsd, 0);
    assert.equal(pipeline.aggregates.totals().unpricedRequests, 0);
    assert.equal(pipeline.aggregates.totals().errors, 2);
  } finally {
    await pipeline.close();
    await bridge.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests through application inference profiles are priced as the model and routing behind them, not left unpriced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-app-profiles-'));
  const bridge = await startTestBridge();
  const pipeline = startUsagePipeline({ dataDir: dir, events: bridge.gateway.events, region: TEST_REGION });
  const arnOf = (id: string) => `arn:aws:bedrock:${TEST_REGION}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${id}`;
  try {
    const post = (path: string, body: unknown) => fetch(`${bridge.baseURL}${path}`, { method: 'POST', headers: bridge.headers(), body: JSON.stringify(body) });
    const chat = await post('/chat/completions', { model: arnOf(APPLICATION_PROFILE_ID), messages: [{ role: 'user', content: 'Count my tokens' }] });
    assert.equal(chat.status, 200, await chat.clone().text());
    const embeddings = await post('/embeddings', { model: arnOf(EMBEDDINGS_APPLICATION_PROFILE_ID), input: ['first text', 'second text'] });
    assert.equal(embeddings.status, 200, await embeddings.clone().text());
    assert.equal((await embeddings.json()).data.length, 2);
    await chat.arrayBuffer();
    assert.equal(bridge.emulator.recorder.last('InvokeModel')?.modelId, arnOf(EMBEDDINGS_APPLICATION_PROFILE_ID), 'the profile itself is invoked');

    await pipeline.ledger.flush();
    const records = pipeline.ledger.list();
    const chatRecord = records.find((record) => record.route === '/v1/chat/completions')!;
    const embeddingsRecord = records.find((record) => record.route === '/v1/embeddings')!;
    assert.equal(chatRecord.modelId, arnOf(APPLICATION_PROFILE_ID), 'the record names the profile the org tracks cost by');
    assert.ok(chatRecord.inputTokens > 0 && chatRecord.outputTokens > 0);
    // The chat profile routes across US regions: the US cross-region price of Claude Sonnet 4.5.
    assertCost(chatRecord.costUsd, costFromPriceFile('us.anthropic.claude-sonnet-4-5-20250929-v1:0', chatRecord));
    assert.notEqual(chatRecord.costUsd, null);
    // The embeddings profile routes to Titan V2 in one region: its in-region price.
    assert.ok(embeddingsRecord.inputTokens > 0);
    assertCost(embeddingsRecord.costUsd, costFromPriceFile('amazon.titan-embed-text-v2:0', embeddingsRecord));
    assert.notEqual(embeddingsRecord.costUsd, null);
    assert.equal(pipeline.aggregates.totals().unpricedRequests, 0);
  } finally {
    await pipeline.close();
    await bridge.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
