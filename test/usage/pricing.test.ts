import assert from 'node:assert/strict';
import { test } from 'node:test';
import prices from '../../src/usage/prices.json' with { type: 'json' };
import { loadPriceTable, parseModelId, PriceTable } from '../../src/usage/pricing.ts';

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });

test('the price file names its source and date', () => {
  assert.match(prices.source, /^https:\/\/aws\.amazon\.com\/bedrock\/pricing/);
  assert.match(prices.retrieved, /^\d{4}-\d{2}-\d{2}$/);
  const table = loadPriceTable();
  assert.equal(table.source, prices.source);
  assert.equal(table.currency, 'USD');
});

test('cross-region and global profile ids and ARNs map to the base model', () => {
  assert.deepEqual(parseModelId('us.anthropic.claude-3-5-haiku-20241022-v1:0'), { bare: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', base: 'anthropic.claude-3-5-haiku-20241022-v1:0', prefix: 'us' });
  for (const prefix of ['eu', 'apac', 'global', 'jp']) assert.equal(parseModelId(`${prefix}.amazon.nova-lite-v1:0`).base, 'amazon.nova-lite-v1:0');
  assert.equal(parseModelId('arn:aws:bedrock:us-east-1:111122223333:inference-profile/eu.amazon.nova-pro-v1:0').base, 'amazon.nova-pro-v1:0');
  assert.equal(parseModelId('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0').base, 'amazon.nova-pro-v1:0');
  const table = loadPriceTable();
  const haiku = table.cost('anthropic.claude-3-5-haiku-20241022-v1:0', 'us-east-1', usage(1_000_000, 1_000_000));
  assert.equal(haiku, 0.8 + 4);
  assert.equal(table.cost('us.anthropic.claude-3-5-haiku-20241022-v1:0', 'us-east-1', usage(1_000_000, 1_000_000)), haiku);
  assert.equal(table.cost('apac.anthropic.claude-3-5-haiku-20241022-v1:0', 'ap-northeast-1', usage(1_000_000, 1_000_000)), haiku);
});

test('global rates for 4.5-generation models; geographic profiles and in-region calls pay the premium', () => {
  const table = loadPriceTable();
  const u = usage(1_000_000, 0);
  assert.equal(table.cost('global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1', u), 3);
  assert.equal(table.cost('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1', u), 3.3);
  assert.equal(table.cost('anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1', u), 3.3);
});

test('cache reads and writes are priced; a missing cache rate makes the cost unknown, not zero', () => {
  const table = loadPriceTable();
  assert.equal(table.cost('anthropic.claude-3-7-sonnet-20250219-v1:0', 'us-east-1', usage(1000, 500, 2000, 4000)), (1000 * 3 + 500 * 15 + 2000 * 0.3 + 4000 * 3.75) / 1e6);
  assert.equal(table.cost('anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1', usage(1000, 500)), (1000 * 0.25 + 500 * 1.25) / 1e6);
  assert.equal(table.cost('anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1', usage(1000, 500, 10)), null);
});

test('unknown models, application profiles and missing ids cost null (unknown), never 0', () => {
  const table = loadPriceTable();
  assert.equal(table.cost('mystery.model-v9', 'us-east-1', usage(10, 10)), null);
  assert.equal(table.cost('arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123', 'us-east-1', usage(10, 10)), null);
  assert.equal(table.cost(null, 'us-east-1', usage(10, 10)), null);
  assert.equal(table.cost('amazon.titan-embed-text-v2:0', 'us-east-1', usage(0, 0)), 0, 'a known model with no tokens is 0');
});

test('settings overrides: base ids, exact profile ids, ARNs and regions', () => {
  const table = new PriceTable(undefined, {
    'mystery.model-v9': { input: 1, output: 2 },
    'anthropic.claude-3-5-haiku-20241022-v1:0': { input: 10, output: 20, cacheRead: 1, cacheWrite: 12, regions: { 'eu-west-1': { input: 11, output: 22 } } },
    'eu.amazon.nova-lite-v1:0': { input: 5, output: 5 },
    'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123': { input: 7, output: 7 },
  });
  const m = usage(1_000_000, 1_000_000);
  assert.equal(table.cost('mystery.model-v9', 'us-east-1', m), 3);
  assert.equal(table.cost('us.anthropic.claude-3-5-haiku-20241022-v1:0', 'us-east-1', m), 30);
  assert.equal(table.cost('anthropic.claude-3-5-haiku-20241022-v1:0', 'eu-west-1', m), 33);
  assert.equal(table.cost('eu.amazon.nova-lite-v1:0', 'eu-west-1', m), 10);
  assert.equal(table.cost('us.amazon.nova-lite-v1:0', 'us-east-1', m), 0.3, 'other profiles keep the table price');
  assert.equal(table.cost('arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123', 'us-east-1', m), 14);
  assert.equal(table.cost('arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123', 'us-east-1', m, 'us.amazon.nova-lite-v1:0'), 14, "the profile's own override wins over what it routes to");
  assert.equal(table.priceFor('mystery.model-v9', 'us-east-1')?.from, 'override');
});

test('an application profile is priced as the system-defined id it routes as', () => {
  const table = loadPriceTable();
  const profile = 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123';
  const m = usage(1_000_000, 1_000_000);
  const sonnet = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  assert.equal(table.cost(profile, 'us-east-1', m, `us.${sonnet}`), table.cost(`us.${sonnet}`, 'us-east-1', m));
  assert.equal(table.cost(profile, 'us-east-1', m, `global.${sonnet}`), table.cost(`global.${sonnet}`, 'us-east-1', m));
  assert.ok(table.cost(profile, 'us-east-1', m, `us.${sonnet}`)! > table.cost(profile, 'us-east-1', m, `global.${sonnet}`)!, 'the geographic premium applies');
  assert.equal(table.cost(profile, 'us-east-1', m, 'mystery.model-v9'), null, 'routing to an unknown model is unknown');
});
