import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import type { IssuedCredentials } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { createOrgGatewayEmulator } from '../../src/emulator/org-gateway.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { runLogin, runLogout, runStatus } from '../../src/cli/auth-commands.ts';
import type { AuthCommandIo } from '../../src/cli/auth-commands.ts';
import { SafeStorageVault } from '../../src/credentials/vault.ts';
import { fakeSafeStorage } from './fake-safe-storage.ts';
import { startTestIdp } from './oidc-helpers.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

async function scan(dirs: string[], logs: string[], secrets: Map<string, string>): Promise<string[]> {
  const leaks: string[] = [];
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file);
      for (const [name, secret] of secrets) {
        if (bytes.includes(Buffer.from(secret))) leaks.push(`${name} in ${file}`);
      }
    }
  }
  const joined = logs.join('\n');
  for (const [name, secret] of secrets) if (joined.includes(secret)) leaks.push(`${name} in logs`);
  return leaks;
}

test('after sign-in and sign-out (Identity Center and org gateway, via the CLI), no secret is in any file or log', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bb-secrets-'));
  const dataDir = join(root, 'data');
  const home = join(root, 'home');
  await mkdir(home, { recursive: true });
  const registry = new CredentialRegistry();
  const issued: IssuedCredentials[] = [];
  const issue = registry.issue.bind(registry);
  registry.issue = (user, arn, ttl) => {
    const c = issue(user, arn, ttl);
    issued.push(c);
    return c;
  };
  const idp = await startTestIdp();
  const idc = createIdentityCenterEmulator(registry);
  const gateway = createOrgGatewayEmulator(registry, { issuer: idp.issuer, clientId: idp.clientId });
  const emulator = await startEmulator({ registry, services: [idc.routes, createStsEmulator(registry), gateway.routes] });

  const saved = { ...process.env };
  const logs: string[] = [];
  const originalWrite = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  // Capture everything written by this process while it signs in and out.
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return (originalWrite.out as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return (originalWrite.err as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;

  const approvals: Promise<void>[] = [];
  const vault = new SafeStorageVault(fakeSafeStorage(), dataDir);
  const io: AuthCommandIo = {
    env: { ...process.env, BEDROCK_BRIDGE_HOME: dataDir },
    stdout: (line) => logs.push(line),
    stderr: (line) => logs.push(line),
    vault,
    ui: {
      prompt: (p) => {
        logs.push(`code ${p.userCode} at ${p.verificationUri}`);
        if (p.verificationUri.startsWith(idp.issuer)) approvals.push(idp.approve(p.userCode, 'frank'));
        else idc.control.approve(p.userCode, 'frank');
      },
    },
  };
  try {
    process.env.HOME = home;
    // The SDK clients find the emulator through the standard variables, as a VPC-endpoint user's would.
    process.env.AWS_ENDPOINT_URL_SSO_OIDC = emulator.url;
    process.env.AWS_ENDPOINT_URL_SSO = emulator.url;
    process.env.AWS_ENDPOINT_URL_STS = emulator.url;

    const secrets = new Map<string, string>();
    // Identity Center
    assert.equal(await runLogin(['--auth', 'identity-center', '--start-url', 'https://example.awsapps.com/start', '--sso-region', 'us-east-1'], io), 0, logs.join('\n'));
    assert.ok(logs.some((l) => /Signed in as frank/.test(l)));
    assert.equal(await runStatus([], io), 0);
    assert.ok(logs.some((l) => /User:\s+frank/.test(l)));
    const registration = JSON.parse((await vault.get('identity-center/client-secret'))!) as { clientSecret: string };
    secrets.set('client secret', registration.clientSecret);
    secrets.set('IdC access token', (JSON.parse((await vault.get('identity-center/access-token'))!) as { token: string }).token);
    secrets.set('IdC refresh token', (await vault.get('identity-center/refresh-token'))!);
    const settingsFile = await readFile(join(dataDir, 'sign-in.json'), 'utf8');
    assert.match(settingsFile, /"accountId": "111122223333"/);
    assert.match(settingsFile, /"roleName": "BedrockUser"/);

    // Org gateway
    assert.equal(await runLogin(['--auth', 'org-gateway', '--gateway', emulator.url], io), 0, logs.join('\n'));
    await Promise.all(approvals);
    secrets.set('OIDC access token', (JSON.parse((await vault.get('org-gateway/access-token'))!) as { token: string }).token);
    secrets.set('OIDC refresh token', (await vault.get('org-gateway/refresh-token'))!);
    assert.equal(await runStatus(['--json'], io), 0);

    assert.ok(issued.length >= 2);
    for (const [i, c] of issued.entries()) {
      secrets.set(`secret access key ${i}`, c.secretAccessKey);
      secrets.set(`session token ${i}`, c.sessionToken);
      secrets.set(`access key id ${i}`, c.accessKeyId);
    }
    for (const value of secrets.values()) assert.ok(value && value.length >= 16);

    // While signed in: the data dir holds settings and ciphertext only.
    assert.deepEqual(await scan([dataDir, home], logs, secrets), []);
    assert.ok((await readdir(dataDir)).includes('secrets.enc'));

    assert.equal(await runLogout([], io), 0);
    assert.ok(!(await readdir(dataDir)).includes('secrets.enc'), 'the vault is wiped');
    assert.equal(await runStatus([], io), 1);
    assert.deepEqual(await scan([dataDir, home], logs, secrets), []);
    assert.deepEqual(await readdir(home), [], 'nothing under ~/.aws (no sso/cache files)');
  } finally {
    process.stdout.write = originalWrite.out;
    process.stderr.write = originalWrite.err;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await emulator.close();
    await idp.close();
    await rm(root, { recursive: true, force: true });
  }
});
