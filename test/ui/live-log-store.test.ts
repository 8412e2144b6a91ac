import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveLogStore } from '../../renderer/live-log-store.ts';
import type { FinishedWithCost } from '../../renderer/live-log-store.ts';

const usage = { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 };

function finished(id: string, overrides: Partial<FinishedWithCost> = {}): FinishedWithCost {
  return {
    id,
    startedAt: 1000,
    endedAt: 1500,
    route: '/v1/chat/completions',
    requestedModel: 'gpt-4o',
    modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    effectiveModelId: null,
    region: 'us-east-1',
    stream: true,
    status: 200,
    errorType: null,
    usage,
    latencyMs: 500,
    timeToFirstTokenMs: 120,
    userAgent: 'OpenAI/JS 7.57.0',
    costUsd: 0.0003,
    ...overrides,
  };
}

test('a request shows while running, with tokens so far, then its outcome', () => {
  const store = new LiveLogStore();
  store.started({ id: 'a', startedAt: 1000, route: '/v1/chat/completions', userAgent: 'curl/8' });
  assert.equal(store.get('a')?.status, null);
  store.progress({ id: 'a', route: '/v1/chat/completions', requestedModel: 'gpt-4o', modelId: 'm', stream: true, outputTokens: 7, timeToFirstTokenMs: 90 });
  assert.equal(store.get('a')?.outputTokens, 7);
  assert.equal(store.view({ model: '', status: 'running' }, 10).length, 1);
  store.finished(finished('a'));
  const entry = store.get('a')!;
  assert.equal(entry.status, 200);
  assert.equal(entry.outputTokens, 20);
  assert.equal(entry.costUsd, 0.0003);
  assert.equal(store.view({ model: '', status: 'running' }, 10).length, 0);
  assert.equal(store.view({ model: '', status: 'ok' }, 10).length, 1);
});

test('progress arriving after the outcome does not undo it', () => {
  const store = new LiveLogStore();
  store.finished(finished('a'));
  store.progress({ id: 'a', route: '/v1/chat/completions', requestedModel: 'gpt-4o', modelId: 'm', stream: true, outputTokens: 3, timeToFirstTokenMs: 90 });
  assert.equal(store.get('a')?.outputTokens, 20);
});

test('the buffer keeps the newest requests only', () => {
  const store = new LiveLogStore(50);
  for (let index = 0; index < 500; index += 1) store.finished(finished(`r${index}`));
  assert.equal(store.size, 50);
  assert.equal(store.seen, 500);
  assert.equal(store.get('r449'), undefined);
  assert.deepEqual(
    store.view({ model: '', status: 'all' }, 3).map((entry) => entry.id),
    ['r499', 'r498', 'r497'],
  );
});

test('filters by the model asked for and by failure', () => {
  const store = new LiveLogStore();
  store.finished(finished('a', { requestedModel: 'fast', modelId: 'amazon.nova-micro-v1:0' }));
  store.finished(finished('b', { status: 429, errorType: 'rate_limit_error' }));
  store.finished(finished('c', { status: 200, errorType: 'ThrottlingException' }));
  store.finished(finished('d', { requestedModel: 'amazon.nova-micro-v1:0', modelId: 'amazon.nova-micro-v1:0' }));
  assert.deepEqual(store.view({ model: 'fast', status: 'all' }, 10).map((entry) => entry.id), ['a']);
  // Grouped by the requested name: the alias and the id asked for directly are separate choices.
  assert.deepEqual(store.view({ model: 'amazon.nova-micro-v1:0', status: 'all' }, 10).map((entry) => entry.id), ['d']);
  assert.ok(store.models.has('fast') && store.models.has('amazon.nova-micro-v1:0'));
  assert.deepEqual(store.view({ model: '', status: 'error' }, 10).map((entry) => entry.id), ['c', 'b']);
  assert.equal(store.count({ model: '', status: 'ok' }), 2);
});

test('the list of model names stays bounded when every request names a new one', () => {
  const store = new LiveLogStore();
  for (let index = 0; index < 1000; index += 1) store.finished(finished(`r${index}`, { requestedModel: `model-${index}`, modelId: null }));
  assert.ok(store.models.size <= 200, `${store.models.size} names kept`);
});
