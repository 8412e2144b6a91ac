import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../src/org/audit-store.ts';
import { parseOrgConfig } from '../../src/org/config.ts';
import { CredentialBroker } from '../../src/org/credential-broker.ts';
import { openPostgres } from '../../src/org/database.ts';
import { createOrgGatewayApp } from '../../src/org/gateway-app.ts';
import { TokenVerifier } from '../../src/org/token-verifier.ts';
import { startTestIdp, type TestIdp } from '../credentials/oidc-helpers.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { cleanEnv } from '../support/serve-process.ts';
import { startOrgServe, writeOrgConfig } from './org-process.ts';
import { wireRecord } from './support.ts';

/** The database going away and replicas dying: nothing acknowledged is lost, retries land once. */
const AUDIENCE = 'urn:bedrock-bridge:gateway';
const skip = postgresUnavailable();
let postgres: TestPostgres;
let idp: TestIdp;
let store: AuditStore;
let home: string;

const config = () =>
  parseOrgConfig({
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
    limits: { requestsPerMinute: 100_000 },
  });

before(async () => {
  if (skip) return;
  postgres = await startTestPostgres();
  idp = await startTestIdp({ jwtAudience: AUDIENCE });
  store = await AuditStore.open(await openPostgres(postgres.url, { connectTimeoutMs: 2000 }));
  home = mkdtempSync(join(tmpdir(), 'bb-org-faults-'));
});
after(async () => {
  await store?.close().catch(() => {});
  await postgres?.close();
  await idp?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

function inProcessGateway() {
  const c = config();
  const app = createOrgGatewayApp({ config: c, store, verifier: new TokenVerifier(c.oidc), broker: new CredentialBroker(c.aws), log: () => {} });
  const post = async (token: string, records: unknown[]) =>
    app.request('http://gateway.test/usage', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ client: {}, records }) });
  return { post, ready: async () => (await app.request('http://gateway.test/readyz')).status };
}

const countFor = async (user: string) => (await store.report({ by: ['user'], user }))[0]?.requests ?? 0;

test('database down: 503 with Retry-After and not ready; back up: accepted', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const { post, ready } = inProcessGateway();
  const token = await idp.accessToken('dana');
  await postgres.stop();
  try {
    const down = await post(token, [wireRecord()]);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '5');
    assert.deepEqual(await down.json(), { error: 'temporarily_unavailable', error_description: 'the audit database is unavailable: try again later' });
    assert.equal(await ready(), 503);
  } finally {
    await postgres.start();
  }
  const record = wireRecord();
  const up = await post(token, [record]);
  assert.deepEqual(await up.json(), { accepted: [record.id], rejected: [] });
  assert.equal(await ready(), 200);
});

test('PostgreSQL restarted mid-ingest: every acknowledged record is stored, and retries land each exactly once', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const { post } = inProcessGateway();
  const token = await idp.accessToken('ingrid');
  const batches = Array.from({ length: 40 }, () => Array.from({ length: 100 }, () => wireRecord()));
  const acknowledged = new Set<string>();
  let failures = 0;
  // Each laptop lands its first batch, then waits until the database is down, so the restart always falls
  // mid-ingest whatever the machine's speed (a fixed delay let a fast machine finish first).
  let databaseDown!: () => void;
  const down = new Promise<void>((resolve) => {
    databaseDown = resolve;
  });
  const firstBatches: Promise<void>[] = [];
  // Four laptops: each sends its batches in turn, and retries a batch until it is accepted (as the sync does).
  const laptops = [0, 1, 2, 3].map((lane) => {
    let firstLanded!: () => void;
    firstBatches.push(new Promise<void>((resolve) => {
      firstLanded = resolve;
    }));
    return (async () => {
      for (let i = lane; i < batches.length; i += 4) {
        for (;;) {
          const response = await post(token, batches[i]!).catch(() => null);
          if (response?.status === 200) {
            for (const id of ((await response.json()) as { accepted: string[] }).accepted) acknowledged.add(id);
            break;
          }
          failures += 1;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (i === lane) {
          firstLanded();
          await down;
        }
      }
    })();
  });
  await Promise.all(firstBatches);
  await postgres.stop();
  databaseDown();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await postgres.start();
  await Promise.all(laptops);
  assert.ok(failures > 0, 'the restart was noticed');
  assert.equal(acknowledged.size, 4000);
  assert.equal(await countFor('ingrid'), 4000);
});

test('a replica killed mid-batch: the laptop retries at the other replica and the batch lands once', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const configPath = writeOrgConfig(home, 'org.json', {
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
  });
  const env = { ...cleanEnv(join(home, 'org')), HOME: home, DATABASE_URL: postgres.url };
  const [doomed, survivor] = await Promise.all([startOrgServe(configPath, env), startOrgServe(configPath, env)]);
  try {
    const token = await idp.accessToken('kim');
    const batch = Array.from({ length: 500 }, () => wireRecord());
    const send = (url: string) =>
      fetch(`${url}/usage`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ client: {}, records: batch }) });
    const inFlight = send(doomed.url).then((response) => response.status, () => 'connection lost');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await doomed.kill();
    const first = await inFlight;
    const retry = await send(survivor.url);
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as { accepted: string[] }).accepted.length, 500, `first attempt: ${first}`);
    assert.equal(await countFor('kim'), 500);
  } finally {
    await doomed.kill().catch(() => {});
    await survivor.stop();
  }
});

test('a replica started before its database waits for it, then serves', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const configPath = writeOrgConfig(home, 'waiting.json', {
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
  });
  await postgres.stop();
  let restarted = false;
  try {
    const starting = startOrgServe(configPath, { ...cleanEnv(join(home, 'org')), HOME: home, DATABASE_URL: postgres.url });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await postgres.start();
    restarted = true;
    const replica = await starting;
    try {
      assert.match(replica.output(), /"level":"warn","msg":"database not reachable yet; retrying"/);
      assert.equal((await fetch(`${replica.url}/readyz`)).status, 200);
    } finally {
      await replica.stop();
    }
  } finally {
    if (!restarted) await postgres.start();
  }
});
