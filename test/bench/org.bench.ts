/**
 * The org gateway under load (node test/bench/org.bench.ts):
 *  1. audit ingest: 100 simulated laptops (100 people) each send 500-record batches to two
 *     `org serve` replicas sharing one PostgreSQL: records stored per second, and per-POST latency;
 *  2. the credentials broker: JWT check, budget queries, STS AssumeRole (the emulator): requests per
 *     second and latency at concurrency 32.
 * Everything (load generator, replicas, PostgreSQL, IdP, STS) shares this machine's cores.
 * Without PostgreSQL binaries it falls back to one replica on embedded PGlite (PGlite is one process's
 * database) and says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { startTestIdp } from '../credentials/oidc-helpers.ts';
import { wireRecord } from '../org/support.ts';
import { startOrgServe, writeOrgConfig, type OrgServeProcess } from '../org/org-process.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { cleanEnv } from '../support/serve-process.ts';

const LAPTOPS = 100;
const BATCHES_PER_LAPTOP = 4;
const BATCH = 500;
const CREDENTIAL_REQUESTS = 2000;
const CREDENTIAL_CONCURRENCY = 32;
const AUDIENCE = 'urn:bedrock-bridge:gateway';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const home = mkdtempSync(join(tmpdir(), 'bb-org-bench-'));
const idp = await startTestIdp({ jwtAudience: AUDIENCE, groups: {} });
const registry = new CredentialRegistry();
const emulator = await startEmulator({ registry, services: [createStsEmulator(registry)] });
const own = registry.issue('gateway', 'arn:aws:sts::111122223333:assumed-role/BedrockBridgeGateway', 3600_000);
const noPostgres = postgresUnavailable();
let postgres: TestPostgres | null = null;
const replicas: OrgServeProcess[] = [];
try {
  if (!noPostgres) postgres = await startTestPostgres();
  else console.log(`NOTE: ${noPostgres}; falling back to one replica on embedded PGlite.`);
  const configPath = writeOrgConfig(home, 'org.json', {
    dataDir: 'pglite',
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser', stsEndpoint: emulator.url },
    entitlement: { rules: [{ models: ['anthropic.claude-*'], monthlyBudgetUsd: 1_000_000 }] },
    limits: { requestsPerMinute: 1_000_000 },
  });
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(join(home, 'org')), HOME: home, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: own.accessKeyId, AWS_SECRET_ACCESS_KEY: own.secretAccessKey, AWS_SESSION_TOKEN: own.sessionToken,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  };
  replicas.push(...(await Promise.all(Array.from({ length: postgres ? 2 : 1 }, () => startOrgServe(configPath, env)))));

  const tokens: string[] = new Array(LAPTOPS);
  await pool([...tokens.keys()], 8, async (i) => {
    tokens[i] = await idp.accessToken(`user${i}`);
  });

  // 1. Ingest.
  const bodies = Array.from({ length: LAPTOPS }, () => Array.from({ length: BATCHES_PER_LAPTOP }, () => JSON.stringify({ client: { name: 'bench' }, records: Array.from({ length: BATCH }, () => wireRecord()) })));
  const postLatencies: number[] = [];
  let refused = 0;
  const started = performance.now();
  await Promise.all(bodies.map(async (batches, laptop) => {
    for (const [n, body] of batches.entries()) {
      const replica = replicas[(laptop + n) % replicas.length]!;
      const t0 = performance.now();
      const response = await fetch(`${replica.url}/usage`, { method: 'POST', headers: { authorization: `Bearer ${tokens[laptop]}`, 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { accepted?: string[] };
      postLatencies.push(performance.now() - t0);
      if (answer.accepted?.length !== BATCH) refused += 1;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const total = LAPTOPS * BATCHES_PER_LAPTOP * BATCH;
  const sorted = [...postLatencies].sort((a, b) => a - b);
  console.log(`ingest: ${total} records from ${LAPTOPS} laptops in ${BATCH}-record POSTs to ${replicas.length} replica(s) on ${postgres ? 'PostgreSQL 15' : 'PGlite'}: ${seconds.toFixed(1)} s, ${Math.round(total / seconds)} records/s; per POST median ${ms(quantile(sorted, 0.5))}, p99 ${ms(quantile(sorted, 0.99))}, max ${ms(sorted.at(-1)!)}${refused ? `; ${refused} POSTs NOT fully accepted` : ''}`);

  // 2. Credentials.
  const credentialLatencies: number[] = [];
  let failed = 0;
  const credentialsStarted = performance.now();
  await pool(Array.from({ length: CREDENTIAL_REQUESTS }, (_, i) => i), CREDENTIAL_CONCURRENCY, async (i) => {
    const t0 = performance.now();
    const response = await fetch(`${replicas[i % replicas.length]!.url}/credentials`, { method: 'POST', headers: { authorization: `Bearer ${tokens[i % LAPTOPS]}` } });
    await response.arrayBuffer();
    credentialLatencies.push(performance.now() - t0);
    if (response.status !== 200) failed += 1;
  });
  const credentialSeconds = (performance.now() - credentialsStarted) / 1000;
  const sortedCredentials = [...credentialLatencies].sort((a, b) => a - b);
  console.log(`credentials: ${CREDENTIAL_REQUESTS} requests at concurrency ${CREDENTIAL_CONCURRENCY} (JWT check, budget from ${total} records, AssumeRole at the STS emulator): ${Math.round(CREDENTIAL_REQUESTS / credentialSeconds)} requests/s; median ${ms(quantile(sortedCredentials, 0.5))}, p99 ${ms(quantile(sortedCredentials, 0.99))}${failed ? `; ${failed} FAILED` : ''}`);
} finally {
  for (const replica of replicas) await replica.stop();
  await postgres?.close();
  await emulator.close();
  await idp.close();
  rmSync(home, { recursive: true, force: true });
}
