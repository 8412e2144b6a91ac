import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOrgConfig } from '../../src/org/config.ts';
import { TokenVerifier } from '../../src/org/token-verifier.ts';
import { startTestIdp, type TestIdp } from '../credentials/oidc-helpers.ts';

/** Opaque access tokens, checked at a real IdP: by introspection (RFC 7662) or at userinfo. */
let idp: TestIdp;
const INTROSPECTOR = { clientId: 'bedrock-bridge-gateway', clientSecret: 'gateway-secret-for-tests' };

before(async () => {
  idp = await startTestIdp({ introspectionClient: INTROSPECTOR });
});
after(() => idp?.close());

const verifier = (opaqueTokens: 'userinfo' | 'introspection' | 'reject', secret = INTROSPECTOR.clientSecret) => {
  const config = parseOrgConfig({
    oidc: { issuer: idp.issuer, clientId: idp.clientId, opaqueTokens, ...(opaqueTokens === 'introspection' ? { introspectionClientId: INTROSPECTOR.clientId } : {}) },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
  });
  return new TokenVerifier(config.oidc, { introspectionSecret: secret });
};

test('introspection: an active token names its user; a dropped one is refused; a wrong gateway secret is the gateway\'s problem (503)', async () => {
  const token = await idp.accessToken('olga');
  const checked = await verifier('introspection').verify(token);
  assert.ok(checked.ok, JSON.stringify(checked));
  assert.equal(checked.identity.user, 'olga');
  assert.ok(checked.expiresAt && checked.expiresAt > Date.now(), 'the IdP said when it ends');

  assert.deepEqual(await verifier('introspection', 'wrong-secret').verify(token), { ok: false, status: 503, reason: 'token introspection answered 401' });
  await idp.dropAccessToken(token);
  assert.deepEqual(await verifier('introspection').verify(token), { ok: false, status: 401, reason: 'the access token is not valid' });
});

test('userinfo: a valid token names its user, a bad one is refused; "reject" refuses opaque tokens outright', async () => {
  const token = await idp.accessToken('pete');
  const checked = await verifier('userinfo').verify(token);
  assert.ok(checked.ok && checked.identity.user === 'pete', JSON.stringify(checked));
  assert.deepEqual(await verifier('userinfo').verify('made-up'), { ok: false, status: 401, reason: 'the access token is not valid' });
  assert.deepEqual(await verifier('reject').verify(token), { ok: false, status: 401, reason: 'the access token is not a JWT for this gateway' });
});

test('introspection needs the gateway\'s client id in the configuration', () => {
  assert.throws(
    () => parseOrgConfig({ oidc: { issuer: idp.issuer, clientId: 'x', opaqueTokens: 'introspection' }, aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/R' } }),
    /oidc\.introspectionClientId: required when opaqueTokens is "introspection"/,
  );
});
