import assert from 'node:assert/strict';
import { OpenAIError } from '../../src/core/openai-errors.ts';

/** Asserts that `promise` rejects with a 400 OpenAIError naming `param` (and matching `pattern`). */
export async function rejects400(promise: Promise<unknown>, param: string | null, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAIError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}
