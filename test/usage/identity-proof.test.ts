import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditCollector } from '../../src/emulator/audit-collector.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { AuditSync } from '../../src/usage/audit-sync.ts';
import { createIdentityProof, createIdentityProofHeader, decodeIdentityProof, encodeIdentityProof, IDENTITY_HEADER, resolveStsEndpoint, signedHeadersOf, userFromArn } from '../../src/usage/identity-proof.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { makeRecord } from './fixtures/records.ts';
import { signedInIdentityCenter } from '../credentials/helpers.ts';
import { assertExactlyOnce, waitFor } from './support.ts';

const ROLE = 'arn:aws:sts::111122223333:assumed-role/Developer';

test('STS endpoint resolution follows the SDK: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, regional default', () => {
  assert.equal(resolveStsEndpoint('eu-west-1', {}), 'https://sts.eu-west-1.amazonaws.com');
  assert.equal(resolveStsEndpoint('cn-north-1', {}), 'https://sts.cn-north-1.amazonaws.com.cn');
  assert.equal(resolveStsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
  assert.equal(resolveStsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'https://vpce.example/' }), 'https://vpce.example');
  assert.equal(userFromArn('arn:aws:sts::111122223333:assumed-role/Developer/alice@example.com'), 'alice@example.com');
  assert.equal(userFromArn('arn:aws:iam::111122223333:user/bob'), 'bob');
});

test('the proof is a signed GetCallerIdentity whose signed headers include the audience', async () => {
  const proof = await createIdentityProof({
    credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
    audience: 'https://audit.example.com/usage',
    stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
    region: 'us-east-1',
  });
  assert.equal(proof.method, 'POST');
  assert.equal(proof.url, 'https://sts.us-east-1.amazonaws.com/');
  assert.equal(proof.body, 'Action=GetCallerIdentity&Version=2011-06-15');
  assert.equal(proof.headers['x-bedrock-bridge-audience'], 'https://audit.example.com/usage');
  assert.match(proof.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/us-east-1\/sts\/aws4_request/);
  const signed = signedHeadersOf(proof.headers.authorization);
  for (const header of ['host', 'x-bedrock-bridge-audience', 'x-amz-date', 'x-amz-security-token', 'content-type']) assert.ok(signed.includes(header), header);
  assert.deepEqual(decodeIdentityProof(encodeIdentityProof(proof)), proof);
  assert.equal(decodeIdentityProof('not base64 json'), null);
  assert.doesNotMatch(JSON.stringify(proof), /"secret"/, 'the secret key is never in the proof');
});

test('Identity Center mode: the collector verifies the proof through the STS emulator and records the session user', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-proof-'));
  const registry = new CredentialRegistry();
  let current = registry.issue('alice@example.com', ROLE, 3_600_000);
  const collector = createAuditCollector({ databasePath: join(dir, 'collector.sqlite') });
  const emulator = await startEmulator({ registry, services: [createStsEmulator(registry), collector.app] });
  const usageUrl = `${emulator.url}${collector.path}`;
  collector.setAudience(usageUrl);
  collector.setStsEndpoint(emulator.url);
  const ledger = new UsageLedger({ dataDir: join(dir, 'app') });
  const forced: unknown[] = [];
  try {
    const records = Array.from({ length: 620 }, (_, i) => makeRecord(i));
    for (const r of records) ledger.record(r);
    ledger.flushSync();
    // The first credentials are revoked before the sync: the 401 makes it renew them (forceRefresh) once.
    const stale = current;
    registry.revokeUser('alice@example.com');
    current = registry.issue('alice@example.com', ROLE, 3_600_000);
    const sync = new AuditSync({
      ledger,
      endpoint: usageUrl,
      region: 'us-east-1',
      stsEndpoint: emulator.url,
      intervalMs: 0,
      backoffBaseMs: 20,
      backoffCapMs: 100,
      source: {
        kind: 'identity-center',
        credentials: async (options?: Record<string, unknown>) => {
          forced.push(options ?? null);
          return options?.forceRefresh ? current : stale;
        },
      },
    });
    sync.start();
    await waitFor(() => sync.status().pending === 0, 15_000, 'sync');
    await sync.stop();
    assertExactlyOnce(collector, records);
    assert.ok(collector.records().every((r) => r.authenticatedUser === 'alice@example.com'));
    assert.deepEqual(forced.slice(0, 2), [null, { forceRefresh: true }]);

    const post = async (proofHeader: string) =>
      (await fetch(usageUrl, { method: 'POST', headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: proofHeader }, body: JSON.stringify({ client: {}, records: [] }) })).json() as Promise<{ error?: { message: string }; accepted?: string[] }>;
    const proofFor = (audience: string, stsEndpoint = emulator.url, credentials = current) => createIdentityProofHeader({ credentials, audience, stsEndpoint, region: 'us-east-1' });

    assert.deepEqual(await post(await proofFor(usageUrl)), { accepted: [], rejected: [] });
    assert.match((await post(await proofFor('https://another-collector.example/usage'))).error!.message, /audience is not this endpoint/);
    assert.match((await post(await proofFor(usageUrl, 'http://127.0.0.1:9'))).error!.message, /another STS endpoint/);
    assert.match((await post(await proofFor(usageUrl, emulator.url, stale))).error!.message, /STS refused the identity proof \(InvalidClientTokenId\)/);
    // Tampering with the audience after signing breaks the signature at STS.
    const proof = decodeIdentityProof(await proofFor('https://another-collector.example/usage'))!;
    proof.headers['x-bedrock-bridge-audience'] = usageUrl;
    assert.match((await post(encodeIdentityProof(proof))).error!.message, /STS refused the identity proof \(SignatureDoesNotMatch\)/);
    assert.match((await post('e30')).error!.message, /malformed identity proof/);
  } finally {
    ledger.close();
    await emulator.close();
    collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Identity Center end to end: after the collector answers 401, forceRefresh fetches new role credentials and the retry proves with them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-proof-idc-'));
  const collector = createAuditCollector({ databasePath: join(dir, 'collector.sqlite') });
  const t = await signedInIdentityCenter({ user: 'erin@example.com', services: [collector.app] });
  const usageUrl = `${t.emulator.url}${collector.path}`;
  collector.setAudience(usageUrl);
  collector.setStsEndpoint(t.emulator.url);
  const ledger = new UsageLedger({ dataDir: join(dir, 'app') });
  const proofKeys: string[] = [];
  let sync: AuditSync | null = null;
  try {
    const records = Array.from({ length: 20 }, (_, i) => makeRecord(i));
    for (const r of records) ledger.record(r);
    ledger.flushSync();
    const stale = await t.source.credentials();
    // The role credentials in hand die before their expiry (the session itself lives on): only a forced refresh helps.
    t.registry.revokeUser('erin@example.com');
    sync = new AuditSync({
      ledger,
      endpoint: usageUrl,
      region: 'us-east-1',
      stsEndpoint: t.emulator.url,
      intervalMs: 0,
      backoffBaseMs: 20,
      backoffCapMs: 100,
      source: t.source,
      fetch: (input, init) => {
        const proof = decodeIdentityProof(String((init?.headers as Record<string, string>)[IDENTITY_HEADER]));
        proofKeys.push(/Credential=([^/]+)\//.exec(proof?.headers.authorization ?? '')?.[1] ?? '?');
        return fetch(input, init);
      },
    });
    sync.start();
    await waitFor(() => sync!.status().pending === 0, 10_000, 'sync');
    assertExactlyOnce(collector, records);
    assert.ok(collector.records().every((r) => r.authenticatedUser === 'erin@example.com'));
    assert.equal(collector.stats().unauthorized, 1, 'one 401, then accepted');
    const fresh = await t.source.credentials();
    assert.notEqual(fresh.accessKeyId, stale.accessKeyId, 'the source holds new credentials');
    assert.deepEqual(proofKeys.slice(0, 2), [stale.accessKeyId, fresh.accessKeyId], 'the retry proved with the renewed credentials');
    assert.equal(t.idc.stats.roleCredentials, 2, 'one GetRoleCredentials for the forced refresh');
  } finally {
    await sync?.stop();
    ledger.close();
    await t.close();
    collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
