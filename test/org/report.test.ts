import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/org-command.ts';
import { AuditStore } from '../../src/org/audit-store.ts';
import { readOrgConfig } from '../../src/org/config.ts';
import { MAX_SESSION_POLICY_CHARS, sessionPolicy } from '../../src/org/credential-broker.ts';
import { resolveModels } from '../../src/org/entitlement.ts';
import { openPglite } from '../../src/org/database.ts';
import { formatReport } from '../../src/org/report-format.ts';
import { wireRecord } from './support.ts';

test('org report CSV: text a spreadsheet would run as a formula is neutralised (OWASP, src/core/csv.ts), numbers stay numbers', () => {
  const csv = formatReport([{ keys: { client: '=cmd|calc', user: '@ann, "the" boss' }, requests: 2, errors: 0, inputTokens: 10, outputTokens: 5, costUsd: 0.25, unpricedRequests: 0 }], ['client', 'user'], 'csv');
  assert.equal(csv, `"client","user","requests","errors","input_tokens","output_tokens","cost_usd","unpriced_requests"\r\n"'=cmd|calc","'@ann, ""the"" boss",2,0,10,5,0.25,0\r\n`);
  const table = formatReport([{ keys: { user: 'evil\u001b[2J' }, requests: 1, errors: 0, inputTokens: 1, outputTokens: 1, costUsd: 0, unpricedRequests: 0 }], ['user'], 'table');
  assert.ok(table.includes('evil\\x1b[2J') && !table.includes('\u001b'), 'control characters shown escaped');
});

test('org report reads an embedded store by --config and prints a table, CSV or JSON; bad options exit 2', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-org-report-'));
  try {
    writeFileSync(join(dir, 'org.json'), JSON.stringify({
      dataDir: 'store',
      oidc: { issuer: 'https://idp.example.com', clientId: 'bedrock-bridge' },
      aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
    }));
    const store = await AuditStore.open(await openPglite(join(dir, 'store')));
    const month = new Date().toISOString().slice(0, 7);
    await store.ingest({ user: 'ann', groups: ['eng'], method: 'oidc' }, {}, [wireRecord({ cost_usd: 0.5, model_id: 'model-a' }), wireRecord({ cost_usd: 0.25, model_id: 'model-b' })]);
    await store.ingest({ user: 'ben', groups: [], method: 'oidc' }, {}, [wireRecord({ cost_usd: null, model_id: 'model-a', client: '@evil' })]);
    await store.close();

    const io = () => {
      const out = { stdout: '', stderr: '' };
      return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), env: {} } };
    };
    const table = io();
    assert.equal(await run('org', ['report', '--config', join(dir, 'org.json'), '--by', 'month,user'], table.io), 0, table.out.stderr);
    assert.equal(table.out.stdout, [
      'month    user  requests  errors  input_tokens  output_tokens  cost_usd  unpriced_requests',
      `${month}  ann          2       0           200            100    0.7500                  0`,
      `${month}  ben          1       0           100             50    0.0000                  1`,
      '',
    ].join('\n'));
    const csv = io();
    assert.equal(await run('org', ['report', '--data-dir', join(dir, 'store'), '--by', 'client', '--by', 'group', '--format', 'csv'], csv.io), 0, csv.out.stderr);
    assert.match(csv.out.stdout, /\r\n"'@evil","\(none\)",1,/);
    const json = io();
    assert.equal(await run('org', ['report', '--data-dir', join(dir, 'store'), '--by', 'model', '--user', 'ann', '--format', 'json'], json.io), 0);
    assert.deepEqual((JSON.parse(json.out.stdout) as { model: string; cost_usd: number }[]).map((row) => [row.model, row.cost_usd]), [['model-a', 0.5], ['model-b', 0.25]]);

    const bad = io();
    assert.equal(await run('org', ['report', '--data-dir', join(dir, 'store'), '--by', 'team'], bad.io), 2);
    assert.match(bad.out.stderr, /--by: unknown team \(use user, group, model, client, day, week, month\)/);
    const noConfig = io();
    assert.equal(await run('org', ['serve'], noConfig.io), 2);
    assert.match(noConfig.out.stderr, /--config FILE is required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid configuration is refused with every problem named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-org-config-'));
  try {
    writeFileSync(join(dir, 'org.json'), JSON.stringify({ oidc: { issuer: 'not a url' }, aws: { region: 'us-east-1', roleArn: 'BedrockRole', sessionDurationSeconds: 7200 } }));
    let stderr = '';
    const code = await run('org', ['serve', '--config', join(dir, 'org.json')], { stdout: () => {}, stderr: (t) => void (stderr += t), env: {} });
    assert.equal(code, 1);
    assert.match(stderr, /Invalid org gateway configuration:/);
    assert.match(stderr, /oidc\.issuer: Invalid URL/);
    assert.match(stderr, /oidc\.clientId: /);
    assert.match(stderr, /aws\.roleArn: must be an IAM role ARN/);
    assert.match(stderr, /aws\.sessionDurationSeconds: Too big/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example configuration shipped in deploy/org is valid and its session policies fit IAM', () => {
  const config = readOrgConfig(new URL('../../deploy/org/org.example.json', import.meta.url).pathname);
  for (const rule of config.entitlement.rules) assert.ok(sessionPolicy(resolveModels(rule.models, config.models)).length <= MAX_SESSION_POLICY_CHARS);
  assert.equal(config.aws.sessionDurationSeconds, 3600);
});
