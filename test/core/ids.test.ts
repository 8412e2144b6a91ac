import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from '../../src/core/ids.ts';

test('request ids sort by creation time and are unique', () => {
  const earlier = newRequestId(1_700_000_000_000);
  const later = newRequestId(1_700_000_000_001);
  assert.ok(earlier < later);
  assert.match(earlier, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const many = new Set(Array.from({ length: 1000 }, () => newRequestId(1_700_000_000_000)));
  assert.equal(many.size, 1000);
});
