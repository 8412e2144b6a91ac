import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateTokenCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import type { IdentityCenterEmulatorOptions } from '../../src/emulator/identity-center.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { IdentityCenterSource } from '../../src/credentials/identity-center.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import type { DeviceCodePrompt } from '../../src/credentials/credential-source.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { SignInFailedError } from '../../src/credentials/errors.ts';
import { serveApps } from './helpers.ts';

async function setup(options: IdentityCenterEmulatorOptions = {}) {
  const registry = new CredentialRegistry();
  const idc = createIdentityCenterEmulator(registry, options);
  const server = await serveApps([idc.routes, createStsEmulator(registry)]);
  const prompts: DeviceCodePrompt[] = [];
  const opened: string[] = [];
  const vault = new MemoryVault();
  const source = new IdentityCenterSource({
    settings: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', oidcEndpoint: server.url, portalEndpoint: server.url, stsEndpoint: server.url },
    vault,
    ui: { prompt: (p) => prompts.push(p), openUrl: (u) => void opened.push(u) },
  });
  return { registry, idc, server, source, prompts, opened, vault, close: async () => { source.destroy(); await server.close(); } };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Runs a test body against fresh emulators and a fresh source, closing them whatever happens. */
async function withSetup(options: IdentityCenterEmulatorOptions, body: (t: Setup) => Promise<void>): Promise<void> {
  const t = await setup(options);
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

test('identity-center: approve -> role credentials -> STS user name; refresh token renews expired access tokens', () =>
  withSetup({}, async (t) => {
    const code = t.idc.control.nextUserCode();
    const signIn = t.source.signIn();
    const userCode = await code;
    await new Promise((r) => setTimeout(r, 1200)); // at least one pending poll
    t.idc.control.approve(userCode, 'alice@example.com');
    await signIn;
    assert.equal(t.prompts.length, 1);
    assert.equal(t.prompts[0]!.userCode, userCode);
    assert.match(t.opened[0]!, /user_code=/);
    assert.ok(t.idc.control.stats.createTokenDeviceCode >= 2, 'polled while pending');
    assert.equal(t.idc.control.stats.registerClient, 1);

    const accounts = await t.source.listAccounts();
    assert.deepEqual(accounts.map((a) => a.accountId), ['111122223333']);
    assert.deepEqual(await t.source.listRoles('111122223333'), [{ accountId: '111122223333', roleName: 'BedrockUser' }]);

    const creds = await t.source.credentials();
    assert.ok(creds.sessionToken);
    assert.ok(creds.expiration instanceof Date);
    const identity = await t.source.identity();
    assert.equal(identity?.user, 'alice@example.com');
    assert.equal(identity?.accountId, '111122223333');
    assert.equal(identity?.arn, 'arn:aws:sts::111122223333:assumed-role/BedrockUser/alice@example.com');
    const status = t.source.status();
    assert.equal(status.signedIn, true);
    assert.equal(status.user, 'alice@example.com');
    assert.equal(status.sessionEndsAt, null);

    // The org expires every access token: the next call renews it silently with the refresh token.
    t.idc.control.expireAccessTokens();
    const before = t.idc.control.stats.createTokenRefresh;
    assert.equal((await t.source.listAccounts()).length, 1);
    assert.equal(t.idc.control.stats.createTokenRefresh, before + 1);

    // The registration is reused for a second sign-in.
    const code2 = t.idc.control.nextUserCode();
    const again = t.source.signIn();
    t.idc.control.approve(await code2, 'alice@example.com');
    await again;
    assert.equal(t.idc.control.stats.registerClient, 1);
  }));

for (const [what, reason, act] of [
  ['denied sign-in', 'denied', (t, userCode) => t.idc.control.deny(userCode)],
  ['code expiry', 'expired', (t, userCode) => t.idc.control.expireDeviceCode(userCode)],
] as const satisfies readonly [string, SignInFailedError['reason'], (t: Setup, userCode: string) => void][]) {
  test(`identity-center: ${what}`, () =>
    withSetup({}, async (t) => {
      const code = t.idc.control.nextUserCode();
      const signIn = t.source.signIn();
      act(t, await code);
      await assert.rejects(signIn, (e: unknown) => e instanceof SignInFailedError && e.reason === reason);
      assert.equal(t.source.status().signedIn, false);
    }));
}

test('identity-center: slow_down adds 5 seconds to the polling interval', () =>
  withSetup({}, async (t) => {
    const code = t.idc.control.nextUserCode();
    const started = Date.now();
    const signIn = t.source.signIn();
    const userCode = await code;
    t.idc.control.slowDown(userCode, 1);
    // Approve right away: the client gets SlowDown on its first poll (at ~1 s), then must wait 6 s.
    t.idc.control.approve(userCode, 'bob');
    await signIn;
    const elapsed = Date.now() - started;
    assert.equal(t.idc.control.stats.slowDown, 1, 'only the forced slow_down: the client never polled too fast');
    assert.ok(elapsed >= 6500, `waited ${elapsed} ms`);
    assert.equal(t.idc.control.stats.createTokenDeviceCode, 2);
  }));

test('identity-center: a revoked session ends in SignInRequiredError once the credentials run out', () =>
  withSetup({ credentialTtlMs: 2000 }, async (t) => {
    const code = t.idc.control.nextUserCode();
    const signIn = t.source.signIn();
    t.idc.control.approve(await code, 'carol');
    await signIn;
    await t.source.credentials();
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));
    t.idc.control.revokeSession('carol');
    t.idc.control.expireAccessTokens();
    await new Promise((r) => setTimeout(r, 2100));
    await assert.rejects(t.source.credentials(), SignInRequiredError);
    await assert.rejects(t.source.credentials(), SignInRequiredError);
    assert.equal(raised, 1);
    assert.equal(t.source.status().signedIn, false);
  }));

test('identity-center: sign-out calls the portal Logout and wipes the vault', () =>
  withSetup({}, async (t) => {
    const code = t.idc.control.nextUserCode();
    const signIn = t.source.signIn();
    t.idc.control.approve(await code, 'dave');
    await signIn;
    const creds = await t.source.credentials();
    assert.ok(await t.vault.get('identity-center/refresh-token'));
    // Even with an expired access token, sign-out ends the session server-side (renews once, then Logout).
    t.idc.control.expireAccessTokens();
    const refreshToken = (await t.vault.get('identity-center/refresh-token'))!;
    const registration = JSON.parse((await t.vault.get('identity-center/client-secret'))!) as { clientId: string; clientSecret: string };
    await t.source.signOut();
    assert.equal(t.idc.control.stats.logout, 2, 'Logout refused with the expired token, then done with a renewed one');
    // The session ended server-side: the old refresh token is dead.
    const oidc = new SSOOIDCClient({ region: 'us-east-1', endpoint: t.server.url });
    await assert.rejects(
      oidc.send(new CreateTokenCommand({ ...registration, grantType: 'refresh_token', refreshToken })),
      { name: 'InvalidGrantException' },
    );
    oidc.destroy();
    assert.equal(await t.vault.get('identity-center/refresh-token'), null);
    assert.equal(await t.vault.get('identity-center/client-secret'), null);
    await assert.rejects(t.source.credentials(), SignInRequiredError);
    // Role credentials already issued stay valid until they expire, as in AWS.
    const sts = new STSClient({ region: 'us-east-1', endpoint: t.server.url, credentials: creds });
    assert.match((await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '', /dave$/);
  }));

test('identity-center emulator: a person approves on the verification page', () =>
  withSetup({}, async (t) => {
    const code = t.idc.control.nextUserCode();
    const signIn = t.source.signIn();
    const userCode = await code;
    const page = await fetch(t.opened[0] ?? `${t.server.url}/device?user_code=${userCode}`);
    assert.match(await page.text(), new RegExp(`value="${userCode}"`));
    const approved = await fetch(`${t.server.url}/device`, { method: 'POST', body: new URLSearchParams({ user_code: userCode, user: 'grace', decision: 'allow' }) });
    assert.equal(approved.status, 200);
    await signIn;
    assert.equal((await t.source.identity())?.user, 'grace');
  }));
