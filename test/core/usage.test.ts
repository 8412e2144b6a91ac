import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenUsageOf, toOpenAIUsage } from '../../src/core/usage.ts';

test('prompt_tokens includes cache reads and writes; cached_tokens are the reads', () => {
  const usage = tokenUsageOf({ inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 });
  assert.deepEqual(usage, { inputTokens: 10, outputTokens: 5, cacheReadTokens: 100, cacheWriteTokens: 20 });
  assert.deepEqual(toOpenAIUsage(usage), { prompt_tokens: 130, completion_tokens: 5, total_tokens: 135, prompt_tokens_details: { cached_tokens: 100 } });
});

test('missing counts are zero', () => {
  assert.deepEqual(tokenUsageOf(undefined), { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  assert.deepEqual(tokenUsageOf({ inputTokens: 3 }), { inputTokens: 3, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
});
