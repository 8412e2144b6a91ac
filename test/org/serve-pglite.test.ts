import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-process.ts';
import { cleanEnv } from '../support/serve-process.ts';
import { startOrgServe, writeOrgConfig } from './org-process.ts';

/** One command runs it: `org serve` on embedded PGlite in the config's dataDir, which one process owns at a time. */
test('org serve on embedded PGlite: ready, the data directory is its own while it runs, reports after it stops', { timeout: 180_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-org-pglite-'));
  try {
    const config = writeOrgConfig(home, 'org.json', {
      dataDir: 'store',
      oidc: { issuer: 'http://127.0.0.1:9/', clientId: 'bedrock-bridge' },
      aws: { region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
      models: { fast: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
      defaultModel: 'fast',
    });
    const env: NodeJS.ProcessEnv = { ...cleanEnv(join(home, 'home')), HOME: home };
    delete env.DATABASE_URL;
    const gateway = await startOrgServe(config, env);
    try {
      assert.ok(existsSync(join(home, 'store', 'PG_VERSION')), 'the database lives in dataDir');
      assert.deepEqual(await (await fetch(`${gateway.url}/readyz`)).json(), { ready: true, database: 'pglite' });
      const discovery = (await (await fetch(`${gateway.url}/.well-known/bedrock-bridge`)).json()) as Record<string, unknown>;
      assert.equal(discovery.usage_endpoint, `${gateway.url}/usage`);
      assert.equal(discovery.default_model, 'fast');

      const second = await runCli(['org', 'serve', '--config', config, '--port', '0'], env, { timeoutMs: 60_000 });
      assert.equal(second.code, 1);
      assert.match(second.stderr, /The embedded database in .*store is in use by process \d+ \(org serve\)\. PGlite serves one process/);
      const report = await runCli(['org', 'report', '--config', config], env, { timeoutMs: 60_000 });
      assert.equal(report.code, 1);
      assert.match(report.stderr, /is in use by process/);
    } finally {
      assert.equal(await gateway.stop(), 0, gateway.output());
    }
    assert.match(gateway.output(), /^\{"time":"[^"]+","level":"info","msg":"listening","url":"http:\/\/127\.0\.0\.1:\d+","publicUrl":null,"database":"pglite","dataDir":"[^"]+"\}$/m);
    const report = await runCli(['org', 'report', '--config', config], env, { timeoutMs: 60_000 });
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /\(no usage in this period\)/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
