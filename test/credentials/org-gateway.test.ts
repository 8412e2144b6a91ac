import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createOrgGatewayEmulator } from '../../src/emulator/org-gateway.ts';
import type { OrgGatewayEmulatorOptions } from '../../src/emulator/org-gateway.ts';
import { ORG_KEYS, OrgGatewaySource } from '../../src/credentials/org-gateway.ts';
import type { OrgGatewaySourceOptions } from '../../src/credentials/org-gateway.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import { NotEntitledError, SignInFailedError } from '../../src/credentials/errors.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { sleep } from '../../src/credentials/util.ts';
import { startTestIdp } from './oidc-helpers.ts';
import type { TestIdpOptions } from './oidc-helpers.ts';

/**
 * A real IdP (oidc-provider), the org gateway emulator and the Bedrock emulator on one port. Each code
 * the source shows is approved as `as(user)` (alice by default), denied after `as(null)`, or left
 * pending after `as(undefined)` for the test to answer. `start()` makes another source on the same
 * vault: a restart, with the tokens from the vault and no AWS credentials in memory.
 */
async function setup(options: { idp?: TestIdpOptions; gateway?: Partial<OrgGatewayEmulatorOptions>; sleep?: OrgGatewaySourceOptions['sleep'] } = {}) {
  const idp = await startTestIdp({ pollIntervalSeconds: 1, ...options.idp });
  const registry = new CredentialRegistry();
  const gateway = createOrgGatewayEmulator(registry, {
    issuer: idp.issuer,
    clientId: idp.clientId,
    region: 'eu-central-1',
    models: { 'gpt-4o': 'anthropic.claude-sonnet-4' },
    defaultModel: 'gpt-4o',
    entitled: (user) => user !== 'mallory',
    ...options.gateway,
  });
  const server = await startEmulator({ registry, services: [gateway.routes] });
  const vault = new MemoryVault();
  const codes: string[] = [];
  const opened: string[] = [];
  let approveAs: string | null | undefined = 'alice';
  const approvals: Promise<void>[] = [];
  const start = () =>
    new OrgGatewaySource({
      settings: { url: server.url },
      vault,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ui: {
        prompt: (p) => {
          codes.push(p.userCode);
          if (approveAs !== undefined) approvals.push(approveAs === null ? idp.deny(p.userCode) : idp.approve(p.userCode, approveAs));
        },
        openUrl: (url) => void opened.push(url),
      },
    });
  const clients: BedrockRuntimeClient[] = [];
  /** One Bedrock request signed with `source`'s credentials. */
  const converse = (source: OrgGatewaySource) => {
    const client = new BedrockRuntimeClient({ region: 'eu-central-1', endpoint: server.url, credentials: source.credentials, maxAttempts: 1 });
    clients.push(client);
    return client.send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'hello' }] }] }));
  };
  /** The access token as the vault holds it. */
  const accessToken = async () => (JSON.parse((await vault.get(ORG_KEYS.accessToken))!) as { token: string }).token;
  /** The admin revokes the session at the IdP (RFC 7009; oidc-provider then revokes the whole grant). */
  const revokeSession = async () => {
    const r = await fetch(`${idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: (await vault.get(ORG_KEYS.refreshToken))!, token_type_hint: 'refresh_token', client_id: idp.clientId }),
    });
    assert.equal(r.status, 200);
  };
  return {
    idp, registry, gateway, server, vault, source: start(), start, converse, accessToken, revokeSession, codes, opened, approvals,
    as: (login: string | null | undefined) => { approveAs = login; },
    close: async () => {
      for (const client of clients) client.destroy();
      await server.close();
      await idp.close();
    },
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

test('org-gateway: sign-in as a user who is not entitled fails with the org\'s reason, revokes the tokens and keeps none of them (another source\'s session stays)', async () => {
  const t = await setup();
  try {
    t.as('mallory');
    // An Identity Center session this login was meant to replace: not the org's to wipe.
    await t.vault.set('identity-center/refresh-token', 'idc-refresh-token');
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));
    let refreshToken: string | null = null;
    // Note the refresh token on its way into the vault, to check afterwards that the IdP no longer honours it.
    const keep = t.vault.set.bind(t.vault);
    t.vault.set = async (key, value) => {
      if (key === ORG_KEYS.refreshToken) refreshToken = value;
      await keep(key, value);
    };
    await assert.rejects(
      t.source.signIn(),
      (e: unknown) =>
        e instanceof NotEntitledError &&
        e.orgReason === 'mallory is not entitled to Amazon Bedrock' &&
        /^Not entitled: .*\(the org gateway says: mallory is not entitled to Amazon Bedrock\)\. .*ask your administrator/.test(e.message),
    );
    assert.equal(t.gateway.control.stats.forbidden, 1);
    assert.equal(raised, 0, 'not a sign-in prompt: signing in again does not help');
    assert.equal(t.source.signedIn, false);
    assert.equal(await t.vault.get(ORG_KEYS.refreshToken), null);
    assert.equal(await t.vault.get(ORG_KEYS.accessToken), null);
    assert.equal(await t.vault.get('identity-center/refresh-token'), 'idc-refresh-token', 'the other session is left alone');
    // The session was ended at the IdP too, not only forgotten here.
    assert.ok(refreshToken, 'the IdP had issued a refresh token');
    const reuse = await fetch(`${t.idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: t.idp.clientId }),
    });
    assert.equal(((await reuse.json()) as { error?: string }).error, 'invalid_grant');
  } finally {
    await t.close();
  }
});

test('org-gateway: entitlement withdrawn during a session -> NotEntitledError, and the session is kept for when it is restored', async () => {
  const t = await setup();
  try {
    await t.source.signIn();
    t.gateway.control.setEntitled(() => false);
    const restarted = t.start();
    await assert.rejects(restarted.credentials(), NotEntitledError);
    assert.ok(await t.vault.get(ORG_KEYS.refreshToken));
    t.gateway.control.setEntitled(() => true);
    assert.ok((await t.converse(restarted)).output?.message);
  } finally {
    await t.close();
  }
});

test('org-gateway: denied at the IdP -> a clear error, nothing stored', async () => {
  const t = await setup();
  try {
    t.as(null);
    await assert.rejects(
      t.source.signIn(),
      (e: unknown) => e instanceof SignInFailedError && e.reason === 'denied' && e.message === 'The sign-in request was denied.',
    );
    assert.deepEqual(t.idp.polls.slice(-1), ['access_denied']);
    assert.equal(t.source.signedIn, false);
    assert.equal(await t.vault.get(ORG_KEYS.refreshToken), null);
    assert.equal(t.gateway.control.stats.credentialsIssued, 0);
  } finally {
    await t.close();
  }
});

test('org-gateway: slow_down adds 5 s to the polling interval, for that poll and every later one (RFC 8628)', async () => {
  const waits: number[] = [];
  let approve: (() => Promise<void>) | null = null;
  const t = await setup({
    // Notes each wait and keeps it short; the code is approved once two slow_downs have been obeyed.
    sleep: async (ms, signal) => {
      waits.push(ms);
      if (waits.length === 3) await approve?.();
      await sleep(Math.min(ms, 50), signal);
    },
  });
  try {
    t.as(undefined);
    approve = () => t.idp.approve(t.codes[0]!, 'alice');
    t.idp.slowDown(2);
    await t.source.signIn();
    assert.deepEqual(waits, [1000, 6000, 11000], 'the announced 1 s, then +5 s per slow_down');
    assert.deepEqual(t.idp.polls, ['slow_down', 'slow_down', 'granted']);
    assert.ok((await t.converse(t.source)).output?.message);
  } finally {
    await t.close();
  }
});

test('org-gateway: a code nobody approves expires -> a clear error to start again, nothing stored', async () => {
  const t = await setup({ idp: { deviceCodeTtlSeconds: 2 } });
  try {
    t.as(undefined);
    const started = Date.now();
    await assert.rejects(
      t.source.signIn(),
      (e: unknown) => e instanceof SignInFailedError && e.reason === 'expired' && /expired before it was approved\. Start the sign-in again/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000, 'gives up once the code has expired');
    assert.ok(t.idp.polls.length >= 1 && t.idp.polls.every((p) => p === 'authorization_pending' || p === 'expired_token'), t.idp.polls.join());
    assert.equal(t.source.signedIn, false);
    assert.equal(await t.vault.get(ORG_KEYS.accessToken), null);
  } finally {
    await t.close();
  }
});

test('org-gateway: 401 from the credentials endpoint -> the access token is renewed with the refresh token and the call retried, unseen by the request', async () => {
  const t = await setup();
  try {
    await t.source.signIn();
    const before = await t.accessToken();
    // The IdP stops accepting the access token, well before its announced expiry; the refresh token still works.
    await t.idp.dropAccessToken(before);
    const restarted = t.start();
    let raised = 0;
    restarted.onSignInRequired(() => (raised += 1));
    const out = await t.converse(restarted);
    assert.ok(out.output?.message, 'the request went through');
    assert.equal(t.gateway.control.stats.unauthorized, 1, 'one 401, then the retry succeeded');
    assert.equal(t.gateway.control.stats.credentialsIssued, 2);
    assert.notEqual(await t.accessToken(), before, 'the renewed access token is kept');
    assert.equal(raised, 0);
    assert.equal(restarted.status().signedIn, true);
  } finally {
    await t.close();
  }
});

test('org-gateway: 401 and the refresh token revoked too -> SignInRequiredError telling the user to sign in', async () => {
  const t = await setup();
  try {
    await t.source.signIn();
    await t.revokeSession();
    const restarted = t.start();
    let raised = 0;
    restarted.onSignInRequired(() => (raised += 1));
    const signInAgain = (e: unknown) => e instanceof SignInRequiredError && /Sign in again .*`bedrock-bridge login`/.test(e.message);
    await assert.rejects(t.converse(restarted), signInAgain);
    await assert.rejects(restarted.credentials(), signInAgain, 'fails fast afterwards');
    assert.equal(t.gateway.control.stats.unauthorized, 1, 'the gateway was asked once; the IdP then refused the refresh token');
    assert.equal(raised, 1);
    assert.equal(restarted.status().signedIn, false);
    assert.equal(await t.vault.get(ORG_KEYS.refreshToken), null, 'the dead session is wiped');
  } finally {
    await t.close();
  }
});

test('org-gateway: a gateway that refuses tokens fresh from its own IdP (misconfigured) fails the sign-in with a hint for the admin', async () => {
  const t = await setup({
    // The gateway checks tokens at a userinfo endpoint that refuses them all (say, the wrong IdP).
    gateway: { fetch: async (url, init) => (new Headers(init?.headers).has('authorization') ? new Response(null, { status: 401 }) : fetch(url, init)) },
  });
  try {
    await assert.rejects(
      t.source.signIn(),
      (e: unknown) => e instanceof SignInFailedError && /did not accept the sign-in .*administrator/.test(e.message),
    );
    assert.equal(t.gateway.control.stats.unauthorized, 2, 'asked with the new token, then with a renewed one');
    assert.equal(t.source.signedIn, false);
    assert.equal(await t.vault.get(ORG_KEYS.refreshToken), null);
  } finally {
    await t.close();
  }
});

test('org-gateway: the reason in a 403 reaches the user as one short line, or not at all', async () => {
  const cases: Array<{ type: string; body: string; reason: string | null }> = [
    { type: 'application/json', body: '{"error":"access_denied","message":"ask #it-help"}', reason: 'ask #it-help' },
    { type: 'text/plain; charset=utf-8', body: '\u001b]8;;https://evil.example\u0007click\n\n  here\u001b[0m', reason: '\\x1b]8;;https://evil.example\\x07click here\\x1b[0m' },
    { type: 'text/plain', body: 'x'.repeat(1000), reason: `${'x'.repeat(299)}…` },
    { type: 'text/html', body: '<h1>Forbidden</h1>', reason: null },
    { type: 'application/json', body: '{"error":"access_denied"}', reason: null },
  ];
  for (const { type, body, reason } of cases) {
    const gateway = 'https://gateway.example';
    const issuer = 'https://idp.example';
    const answers: Record<string, () => Response> = {
      [`${gateway}/.well-known/bedrock-bridge`]: () =>
        Response.json({ issuer, client_id: 'c', scopes: ['openid'], credentials_endpoint: `${gateway}/credentials`, usage_endpoint: `${gateway}/usage`, region: 'us-east-1' }),
      [`${issuer}/.well-known/openid-configuration`]: () =>
        Response.json({ issuer, token_endpoint: `${issuer}/token`, device_authorization_endpoint: `${issuer}/device/auth` }),
      [`${gateway}/credentials`]: () => new Response(body, { status: 403, headers: { 'content-type': type } }),
    };
    const vault = new MemoryVault();
    await vault.set(ORG_KEYS.accessToken, JSON.stringify({ token: 'a-valid-token', expiresAt: Date.now() + 3600_000 }));
    const source = new OrgGatewaySource({ settings: { url: gateway }, vault, fetch: async (url) => answers[String(url)]!() });
    await assert.rejects(source.credentials(), (e: unknown) => {
      assert.ok(e instanceof NotEntitledError);
      assert.equal(e.orgReason, reason, body);
      assert.equal(/the org gateway says/.test(e.message), reason !== null);
      return true;
    });
  }
});
