import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMs, formatTokens, formatUsd, formatRemaining, shortClient, shortModel } from '../../renderer/format.ts';
import { aliasProblems } from '../../renderer/model-validation.ts';
import { SNIPPETS } from '../../renderer/snippets.ts';

test('figures read as people expect', () => {
  assert.equal(formatTokens(950), '950');
  assert.equal(formatTokens(1234), '1.23k');
  assert.equal(formatTokens(12_345), '12.3k');
  assert.equal(formatTokens(4_200_000), '4.2M');
  assert.equal(formatUsd(0), '$0');
  assert.equal(formatUsd(0.00184), '$0.0018');
  assert.equal(formatUsd(0.5), '$0.50');
  // A tiny non-zero cost (an axis tick, one short request) is never shown as zero.
  assert.equal(formatUsd(0.0000184), '$0.000018');
  assert.equal(formatUsd(0.00002), '$0.00002');
  assert.equal(formatUsd(0.000015000000000000002), '$0.000015');
  assert.equal(formatUsd(3e-8), '<$0.000001');
  assert.equal(formatUsd(12.5), '$12.50');
  assert.equal(formatMs(412), '412 ms');
  assert.equal(formatMs(1500), '1.50 s');
  assert.equal(formatRemaining(10_000 + 9 * 60_000, 10_000), 'in 9 min');
  assert.equal(formatRemaining(0, 10_000), 'expired');
  assert.equal(shortClient('OpenAI/JS 7.57.0 (node 24)'), 'OpenAI/JS 7.57.0');
  assert.equal(shortClient(null), 'unknown client');
  assert.equal(shortModel('global.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'claude-sonnet-4-5');
  assert.equal(shortModel('us.amazon.nova-micro-v1:0'), 'nova-micro');
  assert.equal(shortModel('amazon.titan-embed-text-v2:0'), 'titan-embed-text-v2');
  assert.equal(shortModel('arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123'), 'abc123');
  assert.equal(shortModel('<b>bold</b>'), '<b>bold</b>');
});

test('alias mistakes are named before anything is sent', () => {
  assert.deepEqual(aliasProblems([{ alias: 'fast', target: 'amazon.nova-micro-v1:0' }]), []);
  const problems = aliasProblems([
    { alias: 'fast', target: 'amazon.nova-micro-v1:0' },
    { alias: 'fast', target: 'x' },
    { alias: 'my model', target: '' },
    { alias: 'default', target: 'gpt-4o' },
  ]);
  assert.deepEqual(
    problems.map((problem) => [problem.row, problem.field]),
    [
      [1, 'alias'],
      [2, 'alias'],
      [2, 'target'],
      [3, 'alias'],
    ],
  );
});

test('every snippet carries this machine\'s URL or key where its tool reads them', () => {
  const context = { origin: 'http://127.0.0.1:45678', baseURL: 'http://127.0.0.1:45678/v1', apiKey: 'bb-test-key', model: 'fast', region: 'eu-west-1' };
  const ids = SNIPPETS.map((snippet) => snippet.id);
  for (const id of ['openai-js', 'openai-python', 'continue', 'cursor', 'aider', 'cline', 'zed', 'claude-code', 'claude-code-bedrock', 'anthropic-python', 'anthropic-js', 'boto3', 'aws-sdk-js', 'codex']) {
    assert.ok(ids.includes(id), `${id} missing`);
  }
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const snippet of SNIPPETS) {
    const text = snippet.text(context);
    assert.ok(text.includes('127.0.0.1:45678'), `${snippet.id} names the server`);
    if (snippet.id !== 'zed') assert.ok(text.includes('bb-test-key'), `${snippet.id} carries the key`);
  }
  const byId = (id: string) => SNIPPETS.find((snippet) => snippet.id === id)!.text(context);
  // Anthropic clients add /v1 themselves; OpenAI ones need it.
  assert.match(byId('claude-code'), /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:45678\n/);
  assert.match(byId('claude-code'), /ANTHROPIC_AUTH_TOKEN=bb-test-key/);
  assert.match(byId('claude-code-bedrock'), /CLAUDE_CODE_USE_BEDROCK=1\nexport ANTHROPIC_BEDROCK_BASE_URL=http:\/\/127\.0\.0\.1:45678\nexport AWS_BEARER_TOKEN_BEDROCK=bb-test-key\n/);
  assert.match(byId('boto3'), /AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http:\/\/127\.0\.0\.1:45678\n[\s\S]*AWS_BEARER_TOKEN_BEDROCK=bb-test-key/);
  // The chosen default model, not a hard-coded one, in every client that names a model.
  for (const id of ['openai-js', 'openai-python', 'anthropic-python', 'anthropic-js', 'boto3', 'aws-sdk-js', 'codex']) assert.match(byId(id), /['"]fast['"]/, `${id} uses the default model`);
  assert.match(byId('codex'), /wire_api = "responses"/);
  assert.match(byId('codex'), /base_url = "http:\/\/127\.0\.0\.1:45678\/v1"/);
  assert.doesNotThrow(() => JSON.parse(byId('zed')));
});
