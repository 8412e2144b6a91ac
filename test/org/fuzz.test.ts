import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { AuditStore } from '../../src/org/audit-store.ts';
import { parseOrgConfig } from '../../src/org/config.ts';
import { CredentialBroker } from '../../src/org/credential-broker.ts';
import { openPglite } from '../../src/org/database.ts';
import { createOrgGatewayApp } from '../../src/org/gateway-app.ts';
import { TokenVerifier } from '../../src/org/token-verifier.ts';
import { startTestIdp, type TestIdp } from '../credentials/oidc-helpers.ts';
import { auditEndpointProperty } from '../fuzz/audit-fuzz.ts';
import { checkProperty, watchUnhandled } from '../fuzz/support.ts';

/** The org gateway's audit endpoint under the same mutated batches as the test collector (test/fuzz/audit.test.ts). */
const AUDIENCE = 'urn:bedrock-bridge:gateway';
let idp: TestIdp;
let store: AuditStore;
let server: ServerType;
let port: number;
let token: string;
const unhandled = watchUnhandled();

before(async () => {
  idp = await startTestIdp({ jwtAudience: AUDIENCE });
  // The sample records name alice (test/usage/fixtures/records.ts): the token must be hers for any to be stored.
  token = await idp.accessToken('alice');
  store = await AuditStore.open(await openPglite('memory://'));
  const config = parseOrgConfig({
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    identityCenter: { region: 'us-east-1', stsEndpoint: 'http://127.0.0.1:9' },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
    limits: { requestsPerMinute: 100_000 },
  });
  const app = createOrgGatewayApp({ config, store, verifier: new TokenVerifier(config.oidc), broker: new CredentialBroker(config.aws), log: () => {} });
  server = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await store?.close();
  await idp?.close();
  unhandled.stop();
});

test('fuzz: mutated batches get answers within the contract: every id accepted or rejected, OAuth-style errors, no 5xx, no token echoed', { timeout: 300_000 }, async () => {
  await checkProperty(auditEndpointProperty({ port, path: '/usage', token, errorShape: 'oauth' }), 300);
  assert.ok(((await store.report({ by: ['user'] }))[0]?.requests ?? 0) > 0, 'some batches were valid and stored');
  assert.deepEqual(unhandled.errors(), []);
});
