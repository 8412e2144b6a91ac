import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator, type AssumedRoleSession } from '../../src/emulator/sts.ts';
import { startTestIdp } from '../credentials/oidc-helpers.ts';
import { runCli } from '../support/cli-process.ts';
import { postgresUnavailable, startTestPostgres } from '../support/postgres.ts';
import { cleanEnv, postChat, startServe } from '../support/serve-process.ts';
import { startOrgServe, writeOrgConfig } from './org-process.ts';
import { wireRecord } from './support.ts';

/**
 * The org side as deployed: two `org serve` replicas on one PostgreSQL, a real IdP issuing JWT access
 * tokens, STS and Bedrock emulators; laptops are real `bedrock-bridge login --gateway` + `serve`
 * processes. What they do shows up in `org report`, attributed to the right person, exactly once.
 */
const KEYRING_HOOKS = new URL('../support/fake-keyring-hooks.ts', import.meta.url).pathname;
const AUDIENCE = 'urn:bedrock-bridge:gateway';
const REQUESTS_PER_LAPTOP = 4;

interface ReportJsonRow { user: string; requests: number; cost_usd: number }

test('org end to end: two replicas, laptops signing in and syncing, reports, budgets, forged records', { skip: postgresUnavailable() ?? false, timeout: 300_000 }, async () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const postgres = await startTestPostgres();
    cleanup.push(() => postgres.close());
    const idp = await startTestIdp({ jwtAudience: AUDIENCE, pollIntervalSeconds: 1, groups: { alice: ['eng'], bob: ['eng'], carol: ['eng'] } });
    cleanup.push(() => idp.close());
    const registry = new CredentialRegistry();
    const sessions: AssumedRoleSession[] = [];
    const emulator = await startEmulator({ registry, services: [createStsEmulator(registry, { requireSourceIdentity: true, onAssumeRole: (s) => sessions.push(s) })] });
    cleanup.push(() => emulator.close());
    const home = mkdtempSync(join(tmpdir(), 'bb-org-e2e-'));
    cleanup.push(async () => rmSync(home, { recursive: true, force: true }));

    const configPath = writeOrgConfig(home, 'org.json', {
      oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
      aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser', stsEndpoint: emulator.url, sessionDurationSeconds: 900 },
      entitlement: { rules: [{ groups: ['eng'], models: ['*'], monthlyBudgetUsd: 1 }], notEntitledReason: 'not in eng' },
    });
    const own = registry.issue('gateway', 'arn:aws:sts::111122223333:assumed-role/BedrockBridgeGateway', 3600_000);
    const orgEnv: NodeJS.ProcessEnv = {
      ...cleanEnv(join(home, 'org-home')), HOME: home, DATABASE_URL: postgres.url, AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: own.accessKeyId, AWS_SECRET_ACCESS_KEY: own.secretAccessKey, AWS_SESSION_TOKEN: own.sessionToken,
    };
    delete orgEnv.AWS_PROFILE;
    const replicas = await Promise.all([startOrgServe(configPath, orgEnv), startOrgServe(configPath, orgEnv)]);
    for (const replica of replicas) cleanup.push(() => replica.stop());

    /** A laptop: its own home, keychain file and data directory. */
    const laptop = (user: string) => {
      const dir = join(home, `laptop-${user}`);
      mkdirSync(dir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        ...cleanEnv(join(dir, 'data')), HOME: dir, BROWSER: 'none', FAKE_KEYRING_FILE: join(dir, 'keyring.json'),
        AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url, AWS_ENDPOINT_URL_BEDROCK: emulator.url,
      };
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_BEARER_TOKEN_BEDROCK']) delete env[name];
      return {
        login: async (gateway: string) => {
          let approved: Promise<void> | null = null;
          const run = await runCli(['login', '--gateway', gateway], env, {
            nodeArgs: ['--import', KEYRING_HOOKS],
            timeoutMs: 60_000,
            onStderr: (stderr) => {
              const code = /confirm the code: (\S+)/.exec(stderr)?.[1];
              if (code && !approved) approved = idp.approve(code, user);
            },
          });
          await approved;
          return run;
        },
        serve: () => startServe(['--port', '0'], { ...env, NODE_OPTIONS: `--import ${KEYRING_HOOKS}` }, 60_000),
      };
    };

    const report = async (): Promise<Map<string, ReportJsonRow>> => {
      const run = await runCli(['org', 'report', '--by', 'user', '--format', 'json', '--database-url', postgres.url], orgEnv, { timeoutMs: 60_000 });
      assert.equal(run.code, 0, run.stderr);
      return new Map((JSON.parse(run.stdout) as ReportJsonRow[]).map((row) => [row.user, row]));
    };
    const waitFor = async (what: string, ready: () => Promise<boolean>) => {
      const deadline = Date.now() + 60_000;
      while (!(await ready())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };

    // Alice signs in at one replica, Bob at the other; each makes requests through their own serve.
    const people = [{ user: 'alice', replica: replicas[0]! }, { user: 'bob', replica: replicas[1]! }];
    for (const person of people) {
      const login = await laptop(person.user).login(person.replica.url);
      assert.equal(login.code, 0, login.stdout + login.stderr);
      // The app names the person from the JWT access token (the IdP refuses such tokens at userinfo).
      assert.match(login.stdout, new RegExp(`^Signed in as ${person.user} \\(org-gateway\\)\\.$`, 'm'));
      const server = await laptop(person.user).serve();
      cleanup.push(async () => {
        server.child.kill('SIGTERM');
        await server.exit;
      });
      for (let i = 0; i < REQUESTS_PER_LAPTOP; i += 1) {
        const response = await postChat(server.baseURL, server.apiKey, { model: 'default', messages: [{ role: 'user', content: `hello ${i}` }] });
        assert.equal(response.status, 200, await response.text());
      }
    }
    await waitFor('both laptops to sync', async () => {
      const rows = await report();
      return rows.get('alice')?.requests === REQUESTS_PER_LAPTOP && rows.get('bob')?.requests === REQUESTS_PER_LAPTOP;
    });
    // CloudTrail would name them: each session's SourceIdentity is the person.
    assert.deepEqual([...new Set(sessions.map((s) => s.sourceIdentity))].sort(), ['alice', 'bob']);

    // The same batch posted to both replicas at once is stored once; a forged record for someone else is rejected.
    const aliceToken = await idp.accessToken('alice');
    const batch = Array.from({ length: 499 }, () => wireRecord({ cost_usd: 0.0001 }));
    const forged = wireRecord({ user: 'bob', cost_usd: 50 });
    const answers = await Promise.all(replicas.map(async (replica) => {
      const response = await fetch(`${replica.url}/usage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client: { name: 'test' }, records: [...batch, forged] }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as { accepted: string[]; rejected: { id: string; reason: string }[] };
    }));
    for (const answer of answers) {
      assert.equal(answer.accepted.length, 499);
      assert.deepEqual(answer.rejected, [{ id: forged.id, reason: 'the record names user "bob", but you are signed in as "alice"' }]);
    }
    const rows = await report();
    assert.equal(rows.get('alice')?.requests, REQUESTS_PER_LAPTOP + 499);
    assert.equal(rows.get('bob')?.requests, REQUESTS_PER_LAPTOP, 'nothing filed under bob by alice');

    // Carol has spent her $1 budget: signing in fails with the gateway's reason.
    const carolToken = await idp.accessToken('carol');
    const spent = await fetch(`${replicas[1]!.url}/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carolToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client: { name: 'test' }, records: [wireRecord({ cost_usd: 1.5 })] }),
    });
    assert.equal(spent.status, 200);
    const carol = await laptop('carol').login(replicas[0]!.url);
    assert.equal(carol.code, 1, carol.stdout + carol.stderr);
    assert.match(carol.stderr, /Not entitled: .*budget reached: \$1\.50 of \$1\.00 this month/);

    // The report's other views and formats, from the same store.
    const csv = await runCli(['org', 'report', '--by', 'user,model', '--format', 'csv', '--database-url', postgres.url], orgEnv, { timeoutMs: 60_000 });
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^"user","model","requests","errors","input_tokens","output_tokens","cost_usd","unpriced_requests"\r\n/);
    assert.match(csv.stdout, /\r\n"bob","[^"]+",4,0,/);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
});
