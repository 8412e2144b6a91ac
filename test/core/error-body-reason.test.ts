import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorBodyReason } from '../../src/core/error-body-reason.ts';

const answer = (body: string, type: string) => new Response(body, { status: 400, headers: { 'content-type': type } });

test('the reason is read from the error shapes an org endpoint or an IdP answers with', async () => {
  const json = 'application/json';
  assert.equal(await errorBodyReason(answer('{"error":{"message":"tokens must be >= 0","type":"invalid_request"}}', json)), 'tokens must be >= 0');
  assert.equal(await errorBodyReason(answer('{"error":"invalid_grant","error_description":"token revoked"}', json)), 'token revoked');
  assert.equal(await errorBodyReason(answer('{"reason":"duplicate id"}', json)), 'duplicate id');
  assert.equal(await errorBodyReason(answer('record too old', 'text/plain')), 'record too old');
  // A collector that puts its sentence straight in `error`, or sends JSON as text/plain.
  assert.equal(await errorBodyReason(answer('{"error":"record 3: input_tokens must be >= 0"}', json)), 'record 3: input_tokens must be >= 0');
  assert.equal(await errorBodyReason(answer('{"message":"duplicate batch"}', 'text/plain')), 'duplicate batch');
  assert.equal(await errorBodyReason(answer('{not json at all', 'text/plain')), '{not json at all');
});

test('no reason rather than noise: a bare OAuth code, markup, broken JSON, an empty body', async () => {
  assert.equal(await errorBodyReason(answer('{"error":"access_denied"}', 'application/json')), null);
  assert.equal(await errorBodyReason(answer('{"error":"invalid_record"}', 'text/plain')), null);
  assert.equal(await errorBodyReason(answer('<html><body>502</body></html>', 'text/html')), null);
  assert.equal(await errorBodyReason(answer('<Error><Code>AccessDenied</Code></Error>', 'application/xml')), null);
  assert.equal(await errorBodyReason(answer('{"message":', 'application/json')), null);
  assert.equal(await errorBodyReason(answer('   \n', 'text/plain')), null);
});

test('one line, control characters made visible, cut to the limit', async () => {
  assert.equal(await errorBodyReason(answer('bad\u001b[31m\r\n  record', 'text/plain')), 'bad\\x1b[31m record');
  assert.equal(await errorBodyReason(answer('y'.repeat(50), 'text/plain'), 10), `${'y'.repeat(9)}…`);
});
