import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { IdentityCenterSource, IDC_KEYS } from '../../src/credentials/identity-center.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import { SignInFailedError } from '../../src/credentials/errors.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { serveApps } from './helpers.ts';

/**
 * The OIDC client registration (client id + secret) is kept in the vault and reused by every sign-in
 * until its secret is about to expire (within a day); a session always renews its tokens as the client
 * it signed in with. The emulator's `clientSecretTtlMs` gives the registrations a short life.
 */
async function setup(clientSecretTtlMs: number) {
  const registry = new CredentialRegistry();
  const idc = createIdentityCenterEmulator(registry, { clientSecretTtlMs });
  const server = await serveApps([idc.routes]);
  const vault = new MemoryVault();
  let decision: 'approve' | 'deny' = 'approve';
  const sources: IdentityCenterSource[] = [];
  /** A source on the shared vault, as after a restart: tokens from the vault, no credentials in memory. */
  const start = () => {
    const source = new IdentityCenterSource({
      settings: {
        startUrl: 'https://example.awsapps.com/start',
        region: 'us-east-1',
        accountId: '111122223333',
        roleName: 'BedrockUser',
        oidcEndpoint: server.url,
        portalEndpoint: server.url,
      },
      vault,
      ui: { prompt: (p) => (decision === 'approve' ? idc.control.approve(p.userCode, 'alice') : idc.control.deny(p.userCode)) },
    });
    sources.push(source);
    return source;
  };
  const storedClientId = async () => (JSON.parse((await vault.get(IDC_KEYS.registration))!) as { clientId: string }).clientId;
  return {
    idc, vault, start, storedClientId,
    decide: (next: 'approve' | 'deny') => { decision = next; },
    close: async () => {
      for (const source of sources) source.destroy();
      await server.close();
    },
  };
}

test('identity-center registration: reused by later sign-ins while its secret has long to live', async () => {
  const t = await setup(90 * 86_400_000);
  try {
    await t.start().signIn();
    const clientId = await t.storedClientId();
    // The org ends the session; the user signs in again (a new process, same vault).
    const again = t.start();
    await again.signIn();
    assert.equal(t.idc.control.stats.registerClient, 1, 'no second registration');
    assert.equal(await t.storedClientId(), clientId);
    assert.ok((await again.credentials()).sessionToken);
  } finally {
    await t.close();
  }
});

test('identity-center registration: a secret about to expire is replaced at the next sign-in, and only once that sign-in succeeds', async () => {
  // 12 hours: inside the one-day margin from the start.
  const t = await setup(12 * 3600_000);
  try {
    await t.start().signIn();
    assert.equal(t.idc.control.stats.registerClient, 1);
    const first = await t.storedClientId();

    // The running session still renews its access token as the client it signed in with, secret near expiry or not.
    t.idc.control.expireAccessTokens();
    const restarted = t.start();
    assert.ok((await restarted.credentials()).sessionToken);
    assert.equal(t.idc.control.stats.createTokenRefresh, 1);
    assert.equal(t.idc.control.stats.registerClient, 1, 'renewing a token registers nothing');

    // A sign-in that does not finish registers a new client but keeps the old one: the session above needs it.
    t.decide('deny');
    await assert.rejects(t.start().signIn(), (e: unknown) => e instanceof SignInFailedError && e.reason === 'denied');
    assert.equal(t.idc.control.stats.registerClient, 2);
    assert.equal(await t.storedClientId(), first);
    t.idc.control.expireAccessTokens();
    assert.ok((await t.start().credentials()).sessionToken, 'the old session still renews');

    // A sign-in that succeeds replaces the registration instead of starting a session on the old secret.
    t.decide('approve');
    await t.start().signIn();
    assert.equal(t.idc.control.stats.registerClient, 3);
    const second = await t.storedClientId();
    assert.notEqual(second, first);
    t.idc.control.expireAccessTokens();
    assert.ok((await t.start().credentials()).sessionToken, 'the new session renews as the new client');
  } finally {
    await t.close();
  }
});

test('identity-center registration: once the secret has expired the session ends, and the next sign-in registers anew', async () => {
  // Long enough for the sign-in (one 1 s poll) to finish on a busy machine.
  const t = await setup(3000);
  try {
    await t.start().signIn();
    const first = await t.storedClientId();
    // The secret was issued before the sign-in finished: 3 s on, it is dead.
    await new Promise((r) => setTimeout(r, 3100));
    t.idc.control.expireAccessTokens();
    await assert.rejects(t.start().credentials(), SignInRequiredError);

    const again = t.start();
    await again.signIn();
    assert.equal(t.idc.control.stats.registerClient, 2);
    assert.notEqual(await t.storedClientId(), first);
    assert.ok((await again.credentials()).sessionToken);
  } finally {
    await t.close();
  }
});
