import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createOrgGatewayEmulator } from '../../src/emulator/org-gateway.ts';
import { keyringServiceFor } from '../../src/credentials/vault.ts';
import { serveApps } from '../credentials/helpers.ts';
import { startTestIdp } from '../credentials/oidc-helpers.ts';
import { runCli } from '../support/cli-process.ts';
import { cleanEnv } from '../support/serve-process.ts';

/** Every CLI process gets the file-backed keychain, so `status` sees what `login` kept. */
const KEYRING_HOOKS = new URL('../support/fake-keyring-hooks.ts', import.meta.url).pathname;
const CREDENTIAL_TTL_MS = 30 * 60_000;

/** `bedrock-bridge login/status` as separate processes against a real OIDC IdP and the org gateway emulator. */
async function setup() {
  const idp = await startTestIdp({ pollIntervalSeconds: 1 });
  const gateway = createOrgGatewayEmulator(new CredentialRegistry(), {
    issuer: idp.issuer,
    clientId: idp.clientId,
    credentialTtlMs: CREDENTIAL_TTL_MS,
    entitled: (user) => user !== 'mallory',
  });
  const server = await serveApps([gateway.routes]);
  const home = mkdtempSync(join(tmpdir(), 'bb-cli-org-'));
  const dataDir = join(home, 'data');
  const keyringFile = join(home, 'keyring.json');
  const env = { ...cleanEnv(dataDir), HOME: home, BROWSER: 'none', FAKE_KEYRING_FILE: keyringFile };
  /** Runs the CLI; a sign-in code it prints is approved as `user` (denied for null) in the IdP's pages. */
  const cli = async (args: string[], user?: string | null) => {
    let answered: Promise<void> | null = null;
    const run = await runCli(args, env, {
      nodeArgs: ['--import', KEYRING_HOOKS],
      onStderr: (stderr) => {
        const code = /confirm the code: (\S+)/.exec(stderr)?.[1];
        if (code && !answered && user !== undefined) answered = user === null ? idp.deny(code) : idp.approve(code, user);
      },
    });
    await answered;
    return run;
  };
  /** The data directory's entries in the keychain. */
  const keychain = (): Record<string, string> => {
    if (!existsSync(keyringFile)) return {};
    return (JSON.parse(readFileSync(keyringFile, 'utf8')) as Record<string, Record<string, string>>)[keyringServiceFor(dataDir, env)] ?? {};
  };
  return {
    gateway, server, dataDir, cli, keychain,
    close: async () => {
      await server.close();
      await idp.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The ISO time on a `Label:  value` line, checked to be a real time. */
function timeOn(output: string, label: string): number {
  const value = new RegExp(`^${label}:\\s+(\\S+)$`, 'm').exec(output)?.[1];
  assert.ok(value, `${label} in:\n${output}`);
  const time = Date.parse(value);
  assert.ok(Number.isFinite(time), `${label}: ${value}`);
  return time;
}

/** Credentials from the gateway live CREDENTIAL_TTL_MS from when they were fetched. */
function assertFreshExpiry(time: number, fetchedBefore: number): void {
  assert.ok(time > fetchedBefore + CREDENTIAL_TTL_MS - 60_000 && time <= Date.now() + CREDENTIAL_TTL_MS, new Date(time).toISOString());
}

test('org-gateway CLI: login, then status in a new process, show who, the source, when credentials expire and when the session ends', { timeout: 90_000 }, async () => {
  const t = await setup();
  try {
    const before = Date.now();
    const login = await t.cli(['login', '--gateway', t.server.url], 'alice');
    assert.equal(login.code, 0, login.stdout + login.stderr);
    assert.match(login.stdout, /^Signed in as alice \(org-gateway\)\.$/m);
    assertFreshExpiry(timeOn(login.stdout, 'Credentials expire'), before);
    assert.match(login.stdout, /^Session ends:\s+when your organisation ends it/m);
    assert.ok(t.keychain()['org-gateway/refresh-token'], 'the session is kept in the keychain');

    const beforeStatus = Date.now();
    const status = await t.cli(['status']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^Source:\s+org-gateway$/m);
    assert.match(status.stdout, /^Signed in:\s+yes$/m);
    assert.match(status.stdout, /^User:\s+alice$/m);
    // A new process holds no credentials: status fetches them to know when they expire.
    assertFreshExpiry(timeOn(status.stdout, 'Credentials expire'), beforeStatus);
    assert.match(status.stdout, /^Session ends:\s+when your organisation ends it/m);
    assert.match(status.stdout, /^Tokens stored in:\s+the OS keychain$/m);

    const json = await t.cli(['status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual({ ...parsed, credentialsExpireAt: typeof parsed.credentialsExpireAt }, {
      source: 'org-gateway', signedIn: true, user: 'alice', credentialsExpireAt: 'string', sessionEndsAt: null, warning: null, tokenStorage: 'os-keychain', error: null,
    });
    assert.equal(t.gateway.control.stats.credentialsIssued, 3, 'one fetch per process');
  } finally {
    await t.close();
  }
});

test('org-gateway CLI: login as a user the org has not entitled fails with "not entitled" and the org\'s reason, and keeps nothing', { timeout: 90_000 }, async () => {
  const t = await setup();
  try {
    const login = await t.cli(['login', '--gateway', t.server.url], 'mallory');
    assert.equal(login.code, 1, login.stdout + login.stderr);
    assert.match(login.stderr, /^bedrock-bridge: Not entitled: .*\(the org gateway says: mallory is not entitled to Amazon Bedrock\)/m);
    assert.doesNotMatch(login.stdout, /Signed in/);
    assert.equal(t.gateway.control.stats.forbidden, 1);
    assert.deepEqual(Object.keys(t.keychain()), [], 'no tokens kept');
    assert.equal(existsSync(join(t.dataDir, 'sign-in.json')), false, 'no settings saved for a sign-in that cannot work');

    const status = await t.cli(['status']);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /Not configured/);
  } finally {
    await t.close();
  }
});

test('org-gateway CLI: login denied on the IdP page fails with a clear message and keeps nothing', { timeout: 90_000 }, async () => {
  const t = await setup();
  try {
    const login = await t.cli(['login', '--gateway', t.server.url], null);
    assert.equal(login.code, 1, login.stdout + login.stderr);
    assert.match(login.stderr, /^bedrock-bridge: The sign-in request was denied\.$/m);
    assert.deepEqual(Object.keys(t.keychain()), []);
    assert.equal(t.gateway.control.stats.credentialsIssued, 0);
  } finally {
    await t.close();
  }
});
