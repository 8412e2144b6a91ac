import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createOrgGatewayEmulator } from '../../src/emulator/org-gateway.ts';
import { OrgGatewaySource } from '../../src/credentials/org-gateway.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import { NotEntitledError, SignInFailedError } from '../../src/credentials/errors.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { serveApps } from './helpers.ts';
import { startTestIdp } from './oidc-helpers.ts';

async function setup() {
  const idp = await startTestIdp();
  const registry = new CredentialRegistry();
  const gateway = createOrgGatewayEmulator(registry, {
    issuer: idp.issuer,
    clientId: idp.clientId,
    region: 'eu-central-1',
    models: { 'gpt-4o': 'anthropic.claude-sonnet-4' },
    defaultModel: 'gpt-4o',
    entitled: (user) => user !== 'mallory',
  });
  const server = await serveApps([gateway.routes]);
  const vault = new MemoryVault();
  const codes: string[] = [];
  const opened: string[] = [];
  let approveAs: string | null = 'alice';
  const approvals: Promise<void>[] = [];
  const source = new OrgGatewaySource({
    settings: { url: server.url },
    vault,
    ui: {
      prompt: (p) => {
        codes.push(p.userCode);
        approvals.push(approveAs === null ? idp.deny(p.userCode) : idp.approve(p.userCode, approveAs));
      },
      openUrl: (url) => void opened.push(url),
    },
  });
  return {
    idp, registry, gateway, server, vault, source, codes, opened, approvals,
    as: (login: string | null) => { approveAs = login; },
    close: async () => { await server.close(); await idp.close(); },
  };
}

test('org-gateway: device flow against a real oidc-provider, credentials, identity, bearer token, sign-out revokes', async () => {
  const t = await setup();
  try {
    const doc = await t.source.describe();
    assert.equal(doc.region, 'eu-central-1');
    assert.equal(doc.default_model, 'gpt-4o');
    assert.equal(doc.usage_endpoint, `${t.server.url}/usage`);

    await t.source.signIn();
    await Promise.all(t.approvals);
    assert.equal(t.codes.length, 1);
    assert.ok(t.opened[0]!.startsWith(t.idp.issuer), 'opens only the IdP verification page');

    const creds = await t.source.credentials();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.ok(creds.expiration instanceof Date);
    assert.equal(t.registry.find(creds.accessKeyId)?.user, 'alice');
    assert.equal((await t.source.identity())?.user, 'alice');
    const bearer = await t.source.bearerToken();
    assert.ok(bearer.length > 10);
    const refreshToken = await t.vault.get('org-gateway/refresh-token');
    assert.ok(refreshToken, 'offline_access gave a refresh token');
    // forceRefresh renews through the refresh token.
    const renewed = await t.source.bearerToken({ forceRefresh: true });
    assert.notEqual(renewed, bearer);
    const status = t.source.status();
    assert.equal(status.signedIn, true);
    assert.equal(status.user, 'alice');

    // Sign-out revokes the refresh token at the IdP (RFC 7009) and wipes the vault.
    const latestRefresh = (await t.vault.get('org-gateway/refresh-token'))!;
    await t.source.signOut();
    assert.equal(await t.vault.get('org-gateway/refresh-token'), null);
    const reuse = await fetch(`${t.idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: latestRefresh, client_id: t.idp.clientId }),
    });
    assert.equal(reuse.status, 400);
    assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    await assert.rejects(t.source.credentials(), SignInRequiredError);
  } finally {
    await t.close();
  }
});

test('org-gateway: a user who is not entitled gets NotEntitledError (403), not a sign-in prompt', async () => {
  const t = await setup();
  try {
    t.as('mallory');
    await t.source.signIn();
    await Promise.all(t.approvals);
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));
    await assert.rejects(t.source.credentials(), (e: unknown) => e instanceof NotEntitledError && /not entitled/.test(e.message));
    assert.equal(t.gateway.control.stats.forbidden, 1);
    assert.equal(raised, 0);
  } finally {
    await t.close();
  }
});

test('org-gateway: denied at the IdP', async () => {
  const t = await setup();
  try {
    t.as(null);
    await assert.rejects(t.source.signIn(), (e: unknown) => e instanceof SignInFailedError && e.reason === 'denied');
  } finally {
    await t.close();
  }
});

test('org-gateway: a revoked refresh token -> 401 at the gateway -> SignInRequiredError', async () => {
  const t = await setup();
  try {
    t.gateway.control.setCredentialTtl(2000);
    await t.source.signIn();
    await Promise.all(t.approvals);
    await t.source.credentials();
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));
    // The admin revokes both tokens at the IdP.
    for (const [key, hint] of [['org-gateway/refresh-token', 'refresh_token'], ['org-gateway/access-token', 'access_token']] as const) {
      const stored = (await t.vault.get(key))!;
      const token = hint === 'access_token' ? (JSON.parse(stored) as { token: string }).token : stored;
      const r = await fetch(`${t.idp.issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: hint, client_id: t.idp.clientId }),
      });
      assert.equal(r.status, 200);
    }
    await new Promise((r) => setTimeout(r, 2100));
    await assert.rejects(t.source.credentials(), SignInRequiredError);
    assert.ok(t.gateway.control.stats.unauthorized >= 1, 'the gateway answered 401');
    assert.equal(raised, 1);
    assert.equal(t.source.status().signedIn, false);
  } finally {
    await t.close();
  }
});
