import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ALIASES, defaultModelId, isApplicationInferenceProfile, resolveModel, type ModelMapping } from '../../src/core/model-catalog.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

const NOVA = 'amazon.nova-micro-v1:0';

test("'default' resolves the default model through the aliases", () => {
  const mapping: ModelMapping = { aliases: { ...DEFAULT_ALIASES }, defaultModel: 'gpt-4o-mini' };
  assert.deepEqual(resolveModel('default', mapping), { requested: 'default', modelId: DEFAULT_ALIASES['gpt-4o-mini'] });
  assert.deepEqual(resolveModel(undefined, mapping), { requested: null, modelId: DEFAULT_ALIASES['gpt-4o-mini'] });
  assert.equal(defaultModelId(mapping), DEFAULT_ALIASES['gpt-4o-mini']);
});

test("the default model wins over an alias named 'default'; that alias serves where none is set", () => {
  assert.equal(resolveModel('default', { aliases: { default: NOVA }, defaultModel: 'us.amazon.nova-pro-v1:0' }).modelId, 'us.amazon.nova-pro-v1:0');
  assert.equal(resolveModel('default', { aliases: { default: NOVA }, defaultModel: null }).modelId, NOVA);
  assert.equal(defaultModelId({ aliases: {}, defaultModel: null }), null);
});

test('a default model that names nothing known is a 400 naming it, and cannot loop', () => {
  for (const defaultModel of ['gpt-9000', 'default']) {
    assert.throws(
      () => resolveModel(undefined, { aliases: { ...DEFAULT_ALIASES }, defaultModel }),
      (e: unknown) => e instanceof OpenAIError && e.status === 400 && e.param === 'model' && e.message.includes(`'${defaultModel}'`),
    );
  }
});

test('application inference profile ARNs are told apart from other ids and ARNs', () => {
  assert.equal(isApplicationInferenceProfile('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz'), true);
  assert.equal(isApplicationInferenceProfile('arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/abc'), true);
  for (const other of [
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    'abc123xyz',
  ]) {
    assert.equal(isApplicationInferenceProfile(other), false, other);
  }
});
