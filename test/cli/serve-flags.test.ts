/**
 * `bedrock-bridge serve` flags end to end: a real `serve` process (`--auth env`) against the emulator,
 * whose recorder shows what reached Bedrock (model id, signing region, access key, control-plane calls).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { CredentialRegistry, DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type RecordedRequest, type RunningEmulator } from '../../src/emulator/index.ts';
import { nonLoopbackIPv4Addresses, tcpConnectOutcome } from '../support/http.ts';
import { runCli } from '../support/cli-process.ts';
import { envAuthServeEnv, identityCenterServeEnv, MAIN, postChat, startServe, type Started } from '../support/serve-process.ts';
import { sseReader, type SseReader } from '../support/sse.ts';

const KEY = 'flag-key-0123456789';
/** Small enough that the emulator's inference-profile list spans many pages. */
const PROFILE_PAGE_SIZE = 3;

describe('bedrock-bridge serve flags', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-flags-'));
  const children: ChildProcessWithoutNullStreams[] = [];
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startEmulator({ profilePageSize: PROFILE_PAGE_SIZE });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** `serve --auth env --port 0 ARGS` with the emulator's keys in the environment and every endpoint on it. */
  async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
    const started = await startServe(['--auth', 'env', '--port', '0', ...args], envAuthServeEnv(home, emulator.url, env));
    children.push(started.child);
    return started;
  }

  /** SIGTERM, and the process must exit 0. */
  async function stop(started: Started): Promise<void> {
    started.child.kill('SIGTERM');
    assert.equal(await started.exit, 0);
  }

  /** A settings file for --config. */
  function settingsFile(name: string, settings: object): string {
    const path = join(home, name);
    writeFileSync(path, JSON.stringify(settings));
    return path;
  }

  /** The status of `GET /v1/models/gpt-4o` (an alias: no Bedrock call) with these headers. */
  async function statusWith(started: Started, headers: Record<string, string>): Promise<number> {
    const response = await fetch(`${started.baseURL}/models/gpt-4o`, { headers });
    await response.arrayBuffer();
    return response.status;
  }

  describe('--api-key', () => {
    it('accepts only that key, as Bearer or x-api-key, over BEDROCK_BRIDGE_API_KEY, and never prints it', async () => {
      const started = await serve(['--api-key', KEY], { BEDROCK_BRIDGE_API_KEY: 'env-key-0123456789' });
      assert.match(started.output(), /API key:\s+\(as configured\)/);
      assert.ok(!started.output().includes(KEY), 'a configured key is not printed');
      assert.equal(await statusWith(started, { authorization: `Bearer ${KEY}` }), 200);
      assert.equal(await statusWith(started, { 'x-api-key': KEY }), 200);
      assert.equal(await statusWith(started, { authorization: 'Bearer env-key-0123456789' }), 401, 'the flag beats the environment');
      assert.equal(await statusWith(started, { authorization: `Bearer ${KEY}x` }), 401);
      assert.equal(await statusWith(started, { 'x-api-key': KEY.slice(0, -1) }), 401);
      assert.equal(await statusWith(started, {}), 401);
      await stop(started);
    });

    it('takes BEDROCK_BRIDGE_API_KEY when no flag is given', async () => {
      const started = await serve([], { BEDROCK_BRIDGE_API_KEY: 'env-key-0123456789' });
      assert.match(started.output(), /API key:\s+\(as configured\)/);
      assert.equal(await statusWith(started, { 'x-api-key': 'env-key-0123456789' }), 200);
      assert.equal(await statusWith(started, { authorization: 'Bearer bb-anything' }), 401);
      await stop(started);
    });

    it('without one, prints a new random key each run, and each run accepts only its own', async () => {
      const [first, second] = await Promise.all([serve([]), serve([])]);
      for (const started of [first, second]) {
        assert.match(started.apiKey, /^bb-[A-Za-z0-9_-]{32}$/);
        assert.match(started.output(), /generated for this run/);
      }
      assert.notEqual(first.apiKey, second.apiKey);
      assert.equal(await statusWith(first, { authorization: `Bearer ${first.apiKey}` }), 200);
      assert.equal(await statusWith(first, { 'x-api-key': first.apiKey }), 200);
      assert.equal(await statusWith(first, { authorization: `Bearer ${second.apiKey}` }), 401);
      assert.equal(await statusWith(second, { 'x-api-key': first.apiKey }), 401);
      await Promise.all([stop(first), stop(second)]);
    });
  });

  it('--region signs runtime and control-plane requests for that region, over AWS_REGION', async () => {
    const started = await serve(['--api-key', KEY, '--region', 'eu-west-1'], { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-west-2' });
    assert.match(started.output(), /Region:\s+eu-west-1/);
    const response = await postChat(started.baseURL, KEY, { model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    const converse = emulator.recorder.last('Converse')!;
    assert.equal(converse.signingRegion, 'eu-west-1');
    assert.match(converse.headers.authorization ?? '', new RegExp(`Credential=${DEFAULT_EMULATOR_CREDENTIALS.accessKeyId}/\\d{8}/eu-west-1/bedrock/aws4_request`));
    const models = await fetch(`${started.baseURL}/models`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(models.status, 200);
    assert.equal(emulator.recorder.last('ListFoundationModels')!.signingRegion, 'eu-west-1');
    await stop(started);
  });

  describe('--default-model', () => {
    const nova = 'amazon.nova-lite-v1:0';

    it('sends requests without a model, or with model "default", to that model', async () => {
      const started = await serve(['--api-key', KEY, '--default-model', nova]);
      assert.match(started.output(), new RegExp(`Default:\\s+${nova.replace(/[.:]/g, '\\$&')}`));
      for (const model of [undefined, 'default']) {
        const response = await postChat(started.baseURL, KEY, { model, messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(response.status, 200, `model ${String(model)}`);
        assert.equal((await response.json()).model, model ?? nova);
        assert.equal(emulator.recorder.last('Converse')!.modelId, nova, `model ${String(model)} went to Bedrock as the default`);
      }
      const listed = await fetch(`${started.baseURL}/models/default`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal((await listed.json()).bedrock_model_id, nova);
      await stop(started);
    });

    it('refuses to start when it names neither an alias nor a Bedrock model', async () => {
      const result = await runCli(['serve', '--auth', 'env', '--port', '0', '--default-model', 'no-such-model'], envAuthServeEnv(home, emulator.url));
      assert.equal(result.code, 2);
      assert.match(result.stderr, /no-such-model/);
    });
  });

  describe('--host', () => {
    it('binds 127.0.0.1 by default, without a warning, and is not reachable on other addresses', async (t) => {
      const started = await serve(['--api-key', KEY]);
      assert.match(started.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      assert.doesNotMatch(started.output(), /WARNING/);
      const port = Number(new URL(started.baseURL).port);
      const addresses = nonLoopbackIPv4Addresses();
      if (addresses.length === 0) t.diagnostic('no non-loopback IPv4 address to try');
      for (const address of addresses) assert.notEqual(await tcpConnectOutcome(address, port), 'connected', `reachable on ${address}:${port}`);
      await stop(started);
    });

    it('binds a non-loopback address only when asked, with a warning, and still requires the key', async (t) => {
      const address = nonLoopbackIPv4Addresses()[0];
      if (!address) {
        t.skip('this machine has no non-loopback IPv4 address');
        return;
      }
      const started = await serve(['--api-key', KEY, '--host', address]);
      assert.match(started.output(), new RegExp(`WARNING: listening on ${address.replace(/\./g, '\\.')}, not loopback`));
      assert.match(started.baseURL, new RegExp(`^http://${address.replace(/\./g, '\\.')}:\\d+/v1$`));
      assert.equal(await statusWith(started, { authorization: `Bearer ${KEY}` }), 200);
      assert.equal(await statusWith(started, {}), 401);
      await stop(started);
    });

    it('serves on the printed URL for any loopback address, a bracketed IPv6 one included, without a warning', async () => {
      const runs = await Promise.all(['127.0.0.2', '[::1]'].map((host) => serve(['--api-key', KEY, '--host', host])));
      const [other, ipv6] = runs;
      assert.match(other!.baseURL, /^http:\/\/127\.0\.0\.2:\d+\/v1$/);
      assert.match(ipv6!.baseURL, /^http:\/\/\[::1\]:\d+\/v1$/);
      for (const started of runs) {
        assert.doesNotMatch(started.output(), /WARNING/);
        assert.equal(await statusWith(started, { authorization: `Bearer ${KEY}` }), 200, started.baseURL);
      }
      await Promise.all(runs.map((started) => stop(started)));
    });
  });

  describe('--auth env', () => {
    /** A HOME whose ~/.aws/credentials holds `keys` as the `default` and `other` profiles. */
    function homeWithAwsCredentials(name: string, keys: { accessKeyId: string; secretAccessKey: string }): string {
      const awsHome = join(home, name);
      mkdirSync(join(awsHome, '.aws'), { recursive: true });
      const profile = `aws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`;
      writeFileSync(join(awsHome, '.aws', 'credentials'), `[default]\n${profile}\n[other]\n${profile}`);
      return awsHome;
    }
    // Variables that would point the SDK at other files than HOME's.
    const noFileOverrides = { AWS_SHARED_CREDENTIALS_FILE: undefined, AWS_CONFIG_FILE: undefined };

    it("signs with the environment's keys, not those of ~/.aws/credentials (which the default chain would use)", async () => {
      const HOME = homeWithAwsCredentials('wrong-keys', { accessKeyId: 'OTHERFILEKEY00000000', secretAccessKey: 'other/secret/key/not/the/emulator/one0' });
      const env = { HOME, AWS_PROFILE: 'other', ...noFileOverrides };
      const body = { model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] };

      const withEnv = await serve(['--api-key', KEY], env);
      assert.match(withEnv.output(), /Credentials:\s+env/);
      assert.equal((await postChat(withEnv.baseURL, KEY, body)).status, 200);
      assert.equal(emulator.recorder.last('Converse')!.accessKeyId, DEFAULT_EMULATOR_CREDENTIALS.accessKeyId);
      await stop(withEnv);

      // The contrast: with AWS_PROFILE set, the SDK's default chain (allowed long-lived keys) reads the
      // file, and the emulator refuses its keys.
      const allowFileKeys = settingsFile('allow-long-lived-keys.json', { auth: { allowLongLivedKeys: true } });
      const withDefault = await startServe(['--auth', 'default', '--port', '0', '--api-key', KEY, '--config', allowFileKeys], envAuthServeEnv(home, emulator.url, env));
      children.push(withDefault.child);
      const refused = await postChat(withDefault.baseURL, KEY, body);
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.type, 'authentication_error');
      const converse = emulator.recorder.last('Converse')!;
      assert.equal(converse.accessKeyId, 'OTHERFILEKEY00000000');
      assert.equal(converse.status, 403);
      await stop(withDefault);
    });

    it('refuses to start without keys in the environment, even when ~/.aws/credentials has valid ones', async () => {
      const HOME = homeWithAwsCredentials('valid-keys', DEFAULT_EMULATOR_CREDENTIALS);
      const env = envAuthServeEnv(home, emulator.url, { HOME, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, ...noFileOverrides });
      const result = await runCli(['serve', '--auth', 'env', '--port', '0'], env);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, /No AWS credentials in the environment/);
      assert.doesNotMatch(result.stdout, /Base URL/);
    });

    it('--auth default: long-lived keys in ~/.aws/credentials stop serve at start; finding no credentials only warns', async () => {
      const noEnvKeys = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, ...noFileOverrides };
      const withFileKeys = envAuthServeEnv(home, emulator.url, { HOME: homeWithAwsCredentials('chain-keys', DEFAULT_EMULATOR_CREDENTIALS), ...noEnvKeys });
      const refused = await runCli(['serve', '--auth', 'default', '--port', '0'], withFileKeys);
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /Refusing long-lived AWS access keys \(the AWS SDK default chain/);
      assert.match(refused.stderr, /"allowLongLivedKeys": true/);
      assert.doesNotMatch(refused.stdout, /Base URL/);

      // Nothing anywhere (no instance metadata either): serve starts, says why requests will fail.
      const emptyHome = join(home, 'no-aws');
      mkdirSync(emptyHome, { recursive: true });
      const nothing = envAuthServeEnv(home, emulator.url, { HOME: emptyHome, AWS_EC2_METADATA_DISABLED: 'true', ...noEnvKeys });
      const started = await startServe(['--auth', 'default', '--port', '0', '--api-key', KEY], nothing);
      children.push(started.child);
      assert.match(started.output(), /credential chain found no credentials yet/);
      assert.match(started.output(), /aws sso login/);
      const answer = await postChat(started.baseURL, KEY, { model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(answer.status, 401);
      await stop(started);
    });

    it('--emulator with --auth is refused: the emulator brings its own credentials', async () => {
      const result = await runCli(['serve', '--emulator', '--auth', 'env', '--port', '0'], envAuthServeEnv(home, emulator.url));
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, /--emulator brings its own credentials; leave out --auth env/);
      assert.doesNotMatch(result.stdout, /Base URL/);
    });
  });

  describe('shutdown', () => {
    /** Starts a stream of about 45 events 100 ms apart (4.5 s) and reads its first chunk. */
    async function startLongStream(started: Started): Promise<{ stream: SseReader; upstream: RecordedRequest }> {
      const response = await postChat(started.baseURL, KEY, { model: 'amazon.nova-micro-v1:0', stream: true, messages: [{ role: 'user', content: 'long [[chunks:40]] [[slow:100ms]]' }] });
      assert.equal(response.status, 200);
      const stream = sseReader(response);
      assert.ok(await stream.next());
      return { stream, upstream: emulator.recorder.last('ConverseStream')! };
    }

    it('on SIGINT cuts a stream that outlasts shutdownGraceMs at the grace, aborts it upstream, and exits 0', async (t) => {
      const graceMs = 700;
      const started = await serve(['--api-key', KEY, '--config', settingsFile('short-grace.json', { shutdownGraceMs: graceMs })]);
      const { stream, upstream } = await startLongStream(started);

      const signalledAt = Date.now();
      started.child.kill('SIGINT');
      const [code, { events, cut }] = await Promise.all([started.exit, stream.rest()]);
      const exitMs = Date.now() - signalledAt;
      t.diagnostic(`exited ${exitMs} ms after SIGINT with a grace of ${graceMs} ms`);
      assert.equal(code, 0);
      assert.ok(cut || events.at(-1) !== '[DONE]', 'the stream was cut before its end');
      assert.ok(exitMs >= graceMs - 50, `exited after ${exitMs} ms, before the grace`);
      assert.ok(exitMs < graceMs + 2500, `exited ${exitMs} ms after the signal`);
      await upstream.done;
      assert.equal(upstream.errorType, 'ClientDisconnected', 'the Bedrock stream was abandoned, not read to its end');
      assert.match(started.output(), /Received SIGINT: no longer accepting connections, finishing 1 request\(s\) in flight/);
    });

    it('drains and exits 0 on a SIGTERM sent the moment the ready banner appears', async () => {
      const runs = await Promise.all(
        [1, 2, 3].map(async () => {
          const started = await serve(['--api-key', KEY]);
          started.child.kill('SIGTERM');
          return started;
        }),
      );
      for (const started of runs) {
        assert.equal(await started.exit, 0, started.output());
        assert.match(started.output(), /Bedrock Bridge stopped\./);
      }
    });

    it('a signal while still starting (waiting for a sign-in) ends the process at once', async () => {
      const registry = new CredentialRegistry();
      const signInEmulator = await startEmulator({ registry, services: [createIdentityCenterEmulator(registry).routes] });
      const signInHome = join(home, 'waiting-for-sign-in');
      mkdirSync(signInHome);
      writeFileSync(
        join(signInHome, 'sign-in.json'),
        JSON.stringify({ source: 'identity-center', identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser' } }),
      );
      const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], { env: identityCenterServeEnv(signInHome, signInEmulator.url) });
      children.push(child);
      try {
        const exit = once(child, 'exit');
        let stderr = '';
        await new Promise<void>((resolve) => {
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
            if (stderr.includes(`${signInEmulator.url}/device`)) resolve();
          });
          child.once('exit', () => resolve());
        });
        const signalledAt = Date.now();
        child.kill('SIGINT');
        const [code, signal] = await exit;
        assert.deepEqual([code, signal], [null, 'SIGINT'], stderr);
        assert.ok(Date.now() - signalledAt < 1000);
      } finally {
        await signInEmulator.close();
      }
    });

    it('a second signal stops at once, whatever the grace', async (t) => {
      const started = await serve(['--api-key', KEY]);
      const { stream } = await startLongStream(started);
      const signalledAt = Date.now();
      started.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      started.child.kill('SIGINT');
      const [code, { cut }] = await Promise.all([started.exit, stream.rest()]);
      const exitMs = Date.now() - signalledAt;
      t.diagnostic(`exited ${exitMs} ms after the first signal (grace 10 s)`);
      assert.equal(code, 1);
      assert.ok(cut);
      assert.ok(exitMs < 2000, `exited ${exitMs} ms after the first signal`);
      assert.match(started.output(), /Received SIGINT while stopping: stopping now/);
    });
  });

  it('GET /v1/models reads the control plane once per modelCacheSeconds and follows inference-profile pages', async () => {
    const started = await serve(['--api-key', KEY, '--config', settingsFile('short-cache.json', { modelCacheSeconds: 1 })]);
    const listModels = async () => {
      const response = await fetch(`${started.baseURL}/models`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-bedrock-bridge-models-degraded'), null);
      return ((await response.json()) as { data: { id: string }[] }).data.map((model) => model.id);
    };
    const calls = (operation: 'ListFoundationModels' | 'ListInferenceProfiles') => emulator.recorder.filter(operation).length;
    emulator.recorder.clear();

    const first = await Promise.all([listModels(), listModels(), listModels()]);
    const later = [await listModels(), await listModels()];
    for (const ids of [...first, ...later]) assert.deepEqual(ids, first[0]);
    assert.equal(calls('ListFoundationModels'), 1, 'five listings within the cache time, one read');

    // Every page of both profile types, read once: every profile is listed.
    const pagesOf = (type: string) => Math.ceil(emulator.catalog.profiles.filter((profile) => profile.type === type).length / PROFILE_PAGE_SIZE);
    const pages = pagesOf('SYSTEM_DEFINED') + pagesOf('APPLICATION');
    assert.ok(pages > 3);
    assert.equal(calls('ListInferenceProfiles'), pages);
    assert.equal(emulator.recorder.filter((entry) => entry.operation === 'ListInferenceProfiles' && entry.rawUrl.includes('nextToken=')).length, pages - 2);
    const ids = new Set(first[0]);
    for (const profile of emulator.catalog.profiles) {
      assert.ok(ids.has(profile.type === 'APPLICATION' ? profile.inferenceProfileArn : profile.inferenceProfileId), `${profile.inferenceProfileId} listed`);
    }
    for (const model of emulator.catalog.models) assert.ok(ids.has(model.modelId), `${model.modelId} listed`);

    // Past the cache time the next listing reads again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.deepEqual(await listModels(), first[0]);
    assert.equal(calls('ListFoundationModels'), 2);
    assert.equal(calls('ListInferenceProfiles'), 2 * pages);
    await stop(started);
  });
});
