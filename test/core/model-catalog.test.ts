import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALIASES, embeddingFamily, modelTraits, resolveModel, isBedrockModelId, baseModelId, profileRouteId } from '../../src/core/model-catalog.ts';
import type { ModelTraits } from '../../src/core/model-catalog.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

const mapping = { aliases: { ...DEFAULT_ALIASES, fast: 'us.amazon.nova-micro-v1:0' }, defaultModel: 'us.anthropic.claude-sonnet-4-20250514-v1:0' };

test('aliases resolve to their Bedrock ids', () => {
  assert.deepEqual(resolveModel('fast', mapping), { requested: 'fast', modelId: 'us.amazon.nova-micro-v1:0' });
  assert.equal(resolveModel('gpt-4o', mapping).modelId, DEFAULT_ALIASES['gpt-4o']);
  assert.match(DEFAULT_ALIASES['gpt-4o']!, /anthropic\.claude-sonnet/);
  assert.match(DEFAULT_ALIASES['gpt-4o-mini']!, /anthropic\.claude-haiku/);
  assert.equal(DEFAULT_ALIASES['text-embedding-3-small'], 'amazon.titan-embed-text-v2:0');
});

test("'default' and a missing model use the default model", () => {
  assert.deepEqual(resolveModel(undefined, mapping), { requested: null, modelId: mapping.defaultModel });
  assert.deepEqual(resolveModel(null, mapping), { requested: null, modelId: mapping.defaultModel });
  assert.deepEqual(resolveModel('', mapping), { requested: null, modelId: mapping.defaultModel });
  assert.deepEqual(resolveModel('default', mapping), { requested: 'default', modelId: mapping.defaultModel });
  assert.throws(() => resolveModel(undefined, { aliases: {}, defaultModel: null }), (e: unknown) => e instanceof OpenAIError && e.status === 400 && e.param === 'model');
});

test('Bedrock ids, inference profiles and ARNs pass through', () => {
  for (const id of [
    'anthropic.claude-3-5-sonnet-20240620-v1:0',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    'eu.amazon.nova-pro-v1:0',
    'apac.anthropic.claude-3-haiku-20240307-v1:0',
    'us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'meta.llama3-1-70b-instruct-v1:0',
    'deepseek.r1-v1:0',
    'openai.gpt-oss-120b-1:0',
    'cohere.embed-english-v3',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0',
    'arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:provisioned-model/xyz',
  ]) {
    assert.deepEqual(resolveModel(id, mapping), { requested: id, modelId: id }, id);
  }
});

test('unknown names are a 404 model_not_found, including look-alikes of OpenAI and Ollama names', () => {
  for (const name of ['gpt-9', 'gpt-4.1-turbo', 'claude-3.5-sonnet', 'llama3.1', 'qwen2.5-coder:7b', 'gemini-2.5-pro', 'constructor', '__proto__', 'toString']) {
    assert.throws(
      () => resolveModel(name, mapping),
      (e: unknown) => e instanceof OpenAIError && e.status === 404 && e.code === 'model_not_found' && /GET \/v1\/models/.test(e.message),
      name,
    );
    assert.equal(isBedrockModelId(name), false, name);
  }
});

test('embedding families, through profiles and ARNs too', () => {
  const families: [string, string | null][] = [
    ['amazon.titan-embed-text-v2:0', 'titan-v2'],
    ['arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0', 'titan-v2'],
    ['cohere.embed-english-v3', 'cohere-v3'],
    ['cohere.embed-multilingual-v3', 'cohere-v3'],
    ['us.cohere.embed-v4:0', 'cohere-v4'],
    ['amazon.titan-embed-text-v1', null],
    ['anthropic.claude-3-haiku-20240307-v1:0', null],
  ];
  for (const [modelId, family] of families) assert.equal(embeddingFamily(modelId), family, modelId);
});

test('model traits', () => {
  const sonnet45 = modelTraits('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.deepEqual(sonnet45, {
    anthropic: true,
    rejectsTemperatureWithTopP: true,
    supportsReasoning: true,
    supportsNativeStructuredOutput: true,
    supportsPromptCache: true,
    reasoning: 'anthropic-thinking',
    maxOutputTokens: 64000,
  });
  const expected: [string, Partial<ModelTraits>][] = [
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', { rejectsTemperatureWithTopP: false, supportsReasoning: true, supportsNativeStructuredOutput: false }],
    ['anthropic.claude-opus-4-1-20250805-v1:0', { rejectsTemperatureWithTopP: true }],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', { rejectsTemperatureWithTopP: true }],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', { supportsReasoning: true, rejectsTemperatureWithTopP: false, supportsPromptCache: true }],
    ['anthropic.claude-3-haiku-20240307-v1:0', { anthropic: true, supportsReasoning: false, supportsPromptCache: false }],
    ['us.amazon.nova-pro-v1:0', { supportsPromptCache: true, anthropic: false }],
    ['arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0', { anthropic: true }],
    ['openai.gpt-oss-20b-1:0', { reasoning: 'reasoning-effort' }],
    ['meta.llama3-1-70b-instruct-v1:0', { supportsReasoning: false, maxOutputTokens: null }],
    ['us.anthropic.claude-opus-4-20250514-v1:0', { maxOutputTokens: 32000 }],
    ['global.anthropic.claude-opus-4-1-20250805-v1:0', { maxOutputTokens: 32000 }],
    ['global.anthropic.claude-opus-4-5-20251101-v1:0', { maxOutputTokens: 64000 }],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', { maxOutputTokens: 64000 }],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', { maxOutputTokens: 64000 }],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', { maxOutputTokens: 64000 }],
    ['anthropic.claude-3-haiku-20240307-v1:0', { maxOutputTokens: null }],
  ];
  for (const [modelId, traits] of expected) {
    const actual = modelTraits(modelId);
    for (const [key, value] of Object.entries(traits)) assert.equal(actual[key as keyof ModelTraits], value, `${modelId}: ${key}`);
  }
  assert.equal(baseModelId('us.amazon.nova-pro-v1:0'), 'amazon.nova-pro-v1:0');
  assert.equal(baseModelId('amazon.nova-pro-v1:0'), 'amazon.nova-pro-v1:0');
});

test('an application profile behaves like the system-defined id its model ARNs describe', () => {
  const sonnet = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  const arn = (region: string) => `arn:aws:bedrock:${region}::foundation-model/${sonnet}`;
  assert.equal(profileRouteId([arn('eu-west-1')]), sonnet, 'one region: the foundation model itself');
  assert.equal(profileRouteId([arn('us-east-1'), arn('us-east-2'), arn('us-west-2')]), `us.${sonnet}`);
  assert.equal(profileRouteId([arn('eu-central-1'), arn('eu-west-3')]), `eu.${sonnet}`);
  assert.equal(profileRouteId([arn('ap-northeast-1'), arn('ap-southeast-2')]), `apac.${sonnet}`);
  assert.equal(profileRouteId([arn('ap-northeast-1'), arn('ap-northeast-3')]), `jp.${sonnet}`, 'Japan has profiles of its own');
  assert.equal(profileRouteId([arn('ap-southeast-2'), arn('ap-southeast-4')]), `au.${sonnet}`, 'so has Australia');
  assert.equal(profileRouteId([arn('us-gov-west-1'), arn('us-gov-east-1')]), `us-gov.${sonnet}`);
  assert.equal(profileRouteId([arn('us-east-1'), arn('eu-west-1')]), `global.${sonnet}`, 'spans geographies');
  assert.equal(profileRouteId([arn('us-east-1'), arn('us-west-2'), `arn:aws:bedrock:::foundation-model/${sonnet}`]), `global.${sonnet}`, "a global profile's region-less ARN");
  assert.equal(profileRouteId([arn('me-central-1'), arn('me-south-1')]), `me.${sonnet}`, 'an unknown geography keeps its name (and is priced as unknown)');
  assert.equal(profileRouteId([]), null);
  assert.equal(profileRouteId([arn('us-east-1'), 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0']), null, 'two models: no single answer');
  assert.equal(modelTraits(profileRouteId([arn('us-east-1'), arn('us-west-2')])!).reasoning, modelTraits(sonnet).reasoning);
});
