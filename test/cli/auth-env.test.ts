import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CredentialRegistry, startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { runCli } from '../support/cli-process.ts';
import { envAuthServeEnv } from '../support/serve-process.ts';

let emulator: RunningEmulator;
let home: string;
before(async () => {
  const registry = new CredentialRegistry();
  emulator = await startEmulator({ registry, services: [createStsEmulator(registry)] });
  home = mkdtempSync(join(tmpdir(), 'bb-auth-env-'));
});
after(async () => {
  await emulator.close();
  rmSync(home, { recursive: true, force: true });
});

test('login --auth env: who the keys belong to, and no session that "renews until the org ends it"', async () => {
  const login = await runCli(['login', '--auth', 'env'], envAuthServeEnv(join(home, 'ok'), emulator.url));
  assert.equal(login.code, 0, login.stdout + login.stderr);
  assert.match(login.stdout, /^Signed in as \S+ \(env, account \d{12}\)\.$/m);
  assert.match(login.stdout, /^Session ends:\s+-$/m);
  assert.doesNotMatch(login.stdout, /Tokens stored in/, 'env keeps no tokens');
});

test('login --auth env with STS out of reach: the keys are there, the user name is what could not be read', async () => {
  const env = envAuthServeEnv(join(home, 'no-sts'), emulator.url, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' });
  const login = await runCli(['login', '--auth', 'env'], env);
  assert.equal(login.code, 1, login.stdout + login.stderr);
  assert.match(login.stderr, /signed in, but the user name could not be read \(sts:GetCallerIdentity\): .*ECONNREFUSED/);
  assert.doesNotMatch(login.stderr, /no AWS credentials/);
});
