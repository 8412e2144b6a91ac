import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator, type AssumedRoleSession } from '../../src/emulator/sts.ts';
import { AuditStore } from '../../src/org/audit-store.ts';
import { parseOrgConfig, type OrgConfigInput } from '../../src/org/config.ts';
import { CredentialBroker } from '../../src/org/credential-broker.ts';
import { openPglite } from '../../src/org/database.ts';
import { createOrgGatewayApp } from '../../src/org/gateway-app.ts';
import { TokenVerifier } from '../../src/org/token-verifier.ts';
import { createIdentityProofHeader, IDENTITY_HEADER } from '../../src/usage/identity-proof.ts';
import { startTestIdp, type TestIdp } from '../credentials/oidc-helpers.ts';
import { wireRecord } from './support.ts';

/**
 * The gateway's HTTP surface in process, against a real IdP issuing JWT access tokens, the STS
 * emulator (AssumeRole checked on the wire) and an embedded PGlite store.
 */
const AUDIENCE = 'urn:bedrock-bridge:gateway';
const PUBLIC_URL = 'http://gateway.test';
const ROLE_ARN = 'arn:aws:iam::111122223333:role/BedrockBridgeUser';

let idp: TestIdp;
let impostor: TestIdp;
let signingKey: CryptoKey;
let emulator: RunningEmulator;
let store: AuditStore;
const sessions: AssumedRoleSession[] = [];
const logLines: string[] = [];
const registry = new CredentialRegistry();

function gateway(overrides: Partial<OrgConfigInput> = {}) {
  const config = parseOrgConfig({
    publicUrl: PUBLIC_URL,
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE, clockSkewSeconds: 1 },
    identityCenter: { region: 'us-east-1', stsEndpoint: emulator.url },
    aws: { region: 'us-east-1', roleArn: ROLE_ARN, stsEndpoint: emulator.url, sessionDurationSeconds: 1800 },
    models: { sonnet: 'anthropic.claude-sonnet-4-20250514-v1:0', haiku: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
    defaultModel: 'sonnet',
    entitlement: {
      rules: [
        { users: ['mallory'], allow: false, reason: 'suspended: ask #it-help' },
        { groups: ['eng'], models: ['sonnet', 'haiku'], monthlyBudgetUsd: 1 },
        { groups: ['contractors'], models: ['haiku'] },
      ],
      groupBudgetsUsd: { contractors: 2 },
      notEntitledReason: 'not in the bedrock-users group: ask #it-help',
    },
    ...overrides,
  });
  const app = createOrgGatewayApp({
    config,
    store,
    verifier: new TokenVerifier(config.oidc),
    broker: new CredentialBroker(config.aws),
    log: (level, msg, fields) => logLines.push(JSON.stringify({ level, msg, ...fields })),
  });
  return {
    credentials: (token: string) => app.request(`${PUBLIC_URL}/credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
    usage: (headers: Record<string, string>, body: unknown) =>
      app.request(`${PUBLIC_URL}/usage`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    get: (path: string) => app.request(`${PUBLIC_URL}${path}`),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const APP = { name: 'bedrock-bridge', version: 'test' };

before(async () => {
  // One signing key for two IdPs at different URLs (as multi-tenant IdPs share keys): only the issuer tells them apart.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = privateKey;
  const jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: 'shared', use: 'sig', alg: 'RS256' }] };
  const groups = { alice: ['eng'], bob: ['eng'], carl: ['contractors'], dora: ['contractors'] };
  idp = await startTestIdp({ jwtAudience: AUDIENCE, groups, jwks });
  impostor = await startTestIdp({ jwtAudience: AUDIENCE, groups, jwks });
  emulator = await startEmulator({ registry, services: [createStsEmulator(registry, { requireSourceIdentity: true, onAssumeRole: (session) => sessions.push(session) })] });
  // The gateway's own AWS credentials, from its environment: short-lived (a role's).
  const own = registry.issue('gateway', 'arn:aws:sts::111122223333:assumed-role/BedrockBridgeGateway', 3600_000);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: own.accessKeyId, AWS_SECRET_ACCESS_KEY: own.secretAccessKey, AWS_SESSION_TOKEN: own.sessionToken, AWS_REGION: 'us-east-1' });
  store = await AuditStore.open(await openPglite('memory://'));
});

after(async () => {
  await store?.close();
  await emulator?.close();
  await idp?.close();
  await impostor?.close();
});

test('discovery describes the org from configuration', async () => {
  const response = await gateway().get('/.well-known/bedrock-bridge');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    issuer: idp.issuer,
    client_id: idp.clientId,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    credentials_endpoint: `${PUBLIC_URL}/credentials`,
    usage_endpoint: `${PUBLIC_URL}/usage`,
    region: 'us-east-1',
    models: { sonnet: 'anthropic.claude-sonnet-4-20250514-v1:0', haiku: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
    default_model: 'sonnet',
  });
});

test('credentials: AssumeRole with the user as SourceIdentity, user and group tags, a policy for the entitled models only', async () => {
  const response = await gateway().credentials(await idp.accessToken('carl'));
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken', 'Version']);
  const expiresIn = Date.parse(String(body.Expiration)) - Date.now();
  assert.ok(expiresIn > 1700_000 && expiresIn <= 1800_000, `expires in ${expiresIn} ms`);

  const session = sessions.find((s) => s.accessKeyId === body.AccessKeyId);
  assert.ok(session, 'STS saw the AssumeRole');
  assert.equal(session.roleArn, ROLE_ARN);
  assert.equal(session.sourceIdentity, 'carl');
  assert.deepEqual(session.tags, { user: 'carl', groups: 'contractors' });
  assert.equal(session.durationSeconds, 1800);
  const statements = (session.policy as { Statement: { Sid: string; Resource: string[] | string }[] }).Statement;
  assert.deepEqual(statements.find((s) => s.Sid === 'InvokeEntitledModels')?.Resource, [
    'arn:aws:bedrock:*::foundation-model/us.anthropic.claude-3-5-haiku-20241022-v1:0',
    'arn:aws:bedrock:*:*:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
    'arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
  ]);
  // The credentials are real session credentials, named after the person.
  const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { accessKeyId: String(body.AccessKeyId), secretAccessKey: String(body.SecretAccessKey), sessionToken: String(body.SessionToken) } });
  assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:sts::111122223333:assumed-role/BedrockBridgeUser/carl');
});

test('credentials: not entitled users are refused 403 with the configured one-line reason', async () => {
  const nobody = await gateway().credentials(await idp.accessToken('nobody'));
  assert.equal(nobody.status, 403);
  assert.deepEqual(await nobody.json(), { error: 'access_denied', error_description: 'not in the bedrock-users group: ask #it-help' });
  const mallory = await gateway().credentials(await idp.accessToken('mallory'));
  assert.deepEqual(await mallory.json(), { error: 'access_denied', error_description: 'suspended: ask #it-help' });
});

test('credentials: a user at their monthly budget, or in a group at its budget, is refused with what was spent', async () => {
  const g = gateway();
  const bob = await idp.accessToken('bob');
  assert.equal((await g.credentials(bob)).status, 200);
  const spent = await g.usage(bearer(bob), { client: APP, records: [wireRecord({ cost_usd: 0.75 }), wireRecord({ cost_usd: 0.5 })] });
  assert.equal(((await spent.json()) as { accepted: string[] }).accepted.length, 2);
  const refused = await g.credentials(bob);
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), { error: 'access_denied', error_description: 'budget reached: $1.25 of $1.00 this month' });

  // Contractors share $2: dora's spend stops carl too.
  const dora = await idp.accessToken('dora');
  await g.usage(bearer(dora), { client: APP, records: [wireRecord({ cost_usd: 2.5 })] });
  const carl = await g.credentials(await idp.accessToken('carl'));
  assert.equal(carl.status, 403);
  assert.match(((await carl.json()) as { error_description: string }).error_description, /^budget reached for group contractors: \$2\.50 of \$2\.00 this month$/);
});

test('tokens for another audience, from another issuer, expired, tampered or missing are refused 401', async () => {
  const g = gateway();
  const reasonOf = async (response: Response) => {
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    return ((await response.json()) as { error_description: string }).error_description;
  };
  assert.equal(await reasonOf(await g.credentials(await idp.accessToken('alice', { resource: 'urn:another:api' }))), 'the access token is for another audience');
  assert.equal(await reasonOf(await g.credentials(await impostor.accessToken('alice'))), 'the access token is from another issuer');
  const good = await idp.accessToken('alice');
  const [header, payload, signature] = good.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, preferred_username: 'bob', sub: 'bob' })).toString('base64url')}.${signature}`;
  assert.equal(await reasonOf(await g.credentials(tampered)), 'the access token signature is not valid');
  assert.equal(await reasonOf(await g.credentials('not-a-jwt')), 'the access token is not valid');
  // Signed with the IdP's key, for the right audience, but without scopes: an ID token, not an access token.
  const idToken = await new SignJWT({ sub: 'alice', preferred_username: 'alice', groups: ['eng'], nonce: 'n' })
    .setProtectedHeader({ alg: 'RS256', kid: 'shared' }).setIssuer(idp.issuer).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m')
    .sign(signingKey);
  assert.equal(await reasonOf(await g.credentials(idToken)), 'the token is not an access token (it has no scope)');
  assert.equal(await reasonOf(await g.usage({}, { client: APP, records: [] })), 'missing bearer token');

  idp.setAccessTokenTtl(1);
  try {
    const shortLived = await idp.accessToken('alice');
    assert.equal((await g.credentials(shortLived)).status, 200, 'valid while fresh');
    await new Promise((resolve) => setTimeout(resolve, 3500)); // 1 s life + 1 s allowed skew, and a margin
    assert.equal(await reasonOf(await g.credentials(shortLived)), 'the access token has expired');
  } finally {
    idp.setAccessTokenTtl(3600);
  }
  const logged = logLines.join('\n');
  assert.ok(!logged.includes(good) && !logged.includes(tampered), 'no token in the logs');
});

test('usage: records are filed under the authenticated caller; one naming someone else is rejected; invalid ones rejected with a reason', async () => {
  const g = gateway();
  const alice = await idp.accessToken('alice');
  const own = wireRecord({ user: 'alice' });
  const unnamed = wireRecord({ user: null });
  const forged = wireRecord({ user: 'bob', cost_usd: 99 });
  const invalid = { ...wireRecord(), input_tokens: -1 };
  const response = await g.usage(bearer(alice), { client: APP, records: [own, unnamed, forged, invalid] });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    accepted: [own.id, unnamed.id],
    rejected: [
      { id: forged.id, reason: 'the record names user "bob", but you are signed in as "alice"' },
      { id: invalid.id, reason: 'invalid record: input_tokens: Too small: expected number to be >=0' },
    ],
  });
  const rows = await store.report({ by: ['user'], user: 'alice' });
  assert.equal(rows[0]?.requests, 2);
  // Re-sent: accepted again, stored once.
  const again = await g.usage(bearer(alice), { client: APP, records: [own] });
  assert.deepEqual(((await again.json()) as { accepted: string[] }).accepted, [own.id]);
  assert.equal((await store.report({ by: ['user'], user: 'alice' }))[0]?.requests, 2);
});

test('usage: an Identity Center identity proof files records under the STS session name; one for another endpoint is refused', async () => {
  const g = gateway();
  const erin = registry.issue('erin', 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Bedrock_abc', 3600_000);
  const proof = (audience: string) => createIdentityProofHeader({ credentials: erin, audience, stsEndpoint: emulator.url, region: 'us-east-1' });
  const record = wireRecord({ user: 'erin', identity_source: 'identity-center' });
  const ok = await g.usage({ [IDENTITY_HEADER]: await proof(`${PUBLIC_URL}/usage`) }, { client: APP, records: [record] });
  assert.deepEqual(await ok.json(), { accepted: [record.id], rejected: [] });
  assert.equal((await store.report({ by: ['user'], user: 'erin' }))[0]?.requests, 1);
  const elsewhere = await g.usage({ [IDENTITY_HEADER]: await proof('https://other.example/usage') }, { client: APP, records: [wireRecord()] });
  assert.equal(elsewhere.status, 401);
  assert.equal(((await elsewhere.json()) as { error_description: string }).error_description, 'identity proof audience is not this endpoint');
});

test('usage: bad bodies are refused whole with a clear reason (not JSON, over 500 records, over the body limit, nested too deep)', async () => {
  const g = gateway({ limits: { maxBodyBytes: 200_000 } });
  const alice = bearer(await idp.accessToken('alice'));
  const notJson = await g.usage(alice, '{');
  assert.equal(notJson.status, 400);
  const tooMany = await g.usage(alice, { client: APP, records: Array.from({ length: 501 }, (_, i) => ({ id: `id-${i}` })) });
  assert.equal(tooMany.status, 400);
  assert.match(((await tooMany.json()) as { error_description: string }).error_description, /records: Too big: expected array to have <=500 items/);
  const huge = await g.usage(alice, { client: APP, records: Array.from({ length: 400 }, () => wireRecord({ client: 'x'.repeat(900) })) });
  assert.equal(huge.status, 413);
  const wrongType = await g.usage({ ...alice, 'content-type': 'text/plain' }, '{}');
  assert.equal(wrongType.status, 415);
  const deep = await g.usage(alice, `{"client":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"records":[]}`);
  assert.equal(deep.status, 400);
  assert.equal(((await deep.json()) as { error_description: string }).error_description, 'invalid body: nested more than 32 levels deep');
});

test('a caller over the rate limit gets 429 with Retry-After; others are not affected', async () => {
  const g = gateway({ limits: { requestsPerMinute: 3 } });
  const alice = bearer(await idp.accessToken('alice'));
  const statuses = [];
  for (let i = 0; i < 4; i += 1) statuses.push((await g.usage(alice, { client: APP, records: [] })).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const limited = await g.usage(alice, { client: APP, records: [] });
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await g.usage(bearer(await idp.accessToken('bob')), { client: APP, records: [] })).status, 200);
});

test('health and readiness', async () => {
  const g = gateway();
  assert.deepEqual(await (await g.get('/healthz')).json(), { ok: true });
  assert.deepEqual(await (await g.get('/readyz')).json(), { ready: true, database: 'pglite' });
});

test('usage: a record the database could not hold is rejected alone, and a client object it refuses answers 400 (no endless retries)', async () => {
  const g = gateway();
  const alice = bearer(await idp.accessToken('alice'));
  const good = wireRecord();
  const nul = wireRecord({ client: 'curl\u0000/8' });
  const ancient = wireRecord({ started_at: '1970-01-01T00:00:00Z' });
  const costly = wireRecord({ cost_usd: 1e12 });
  const answer = await g.usage(alice, { client: APP, records: [good, nul, ancient, costly] });
  assert.deepEqual(await answer.json(), {
    accepted: [good.id],
    rejected: [
      { id: nul.id, reason: 'invalid record: client: contains a NUL character' },
      { id: ancient.id, reason: 'invalid record: started_at: must be between 2000 and 2100' },
      { id: costly.id, reason: 'invalid record: cost_usd: too large' },
    ],
  });
  // Not a database outage (503 would have the laptop retry the same batch forever): 400, which its sync bisects.
  const refused = await g.usage(alice, { client: { name: 'bedrock\u0000bridge' }, records: [wireRecord()] });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { error_description: string }).error_description, /^the batch could not be stored: /);
});
