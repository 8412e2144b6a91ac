import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { AwsProfileSource, EnvSource, LONG_LIVED_KEYS_WARNING, defaultChainProvider } from '../../src/credentials/aws-sdk-sources.ts';
import { CredentialConfigurationError } from '../../src/credentials/errors.ts';
import { createCredentialSource } from '../../src/credentials/index.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { startTestBridge } from '../support/bridge.ts';
import { openAIErrorOf, rawRequest } from '../support/http.ts';
import { NO_AWS_ENV, withEnv } from '../support/env.ts';
import { serveApps } from './helpers.ts';

async function withAwsFiles<T>(credentials: string, config: string, run: (files: { filepath: string; configFilepath: string }) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bb-aws-'));
  const saved = { c: process.env.AWS_SHARED_CREDENTIALS_FILE, f: process.env.AWS_CONFIG_FILE };
  try {
    const filepath = join(dir, 'credentials');
    const configFilepath = join(dir, 'config');
    await writeFile(filepath, credentials);
    await writeFile(configFilepath, config);
    process.env.AWS_SHARED_CREDENTIALS_FILE = filepath;
    process.env.AWS_CONFIG_FILE = configFilepath;
    return await run({ filepath, configFilepath });
  } finally {
    if (saved.c === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE;
    else process.env.AWS_SHARED_CREDENTIALS_FILE = saved.c;
    if (saved.f === undefined) delete process.env.AWS_CONFIG_FILE;
    else process.env.AWS_CONFIG_FILE = saved.f;
    await rm(dir, { recursive: true, force: true });
  }
}

const STATIC = '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n';

/** An IAM user key that only serves to assume a role: `work` (role_arn + source_profile) over `base` (the key). */
const SOURCE_KEY = { accessKeyId: 'SOURCEUSERKEY0000000', secretAccessKey: 'source/secret/key/of/an/iam/user000000' };
const SOURCE_KEY_FILE = `[base]\naws_access_key_id = ${SOURCE_KEY.accessKeyId}\naws_secret_access_key = ${SOURCE_KEY.secretAccessKey}\n`;
const ROLE_PROFILE = (name: string, source: string) => `[profile ${name}]\nrole_arn = arn:aws:iam::444455556666:role/Dev\nsource_profile = ${source}\nrole_session_name = bob\nregion = us-east-1\n`;

const namesTheSetting = (source: RegExp) => (e: unknown) =>
  e instanceof CredentialConfigurationError && /Refusing long-lived AWS access keys/.test(e.message) && source.test(e.message) && /"allowLongLivedKeys": true/.test(e.message);

test('aws-profile refuses long-lived keys from ~/.aws/credentials by default', async () => {
  await withAwsFiles(STATIC, '', async () => {
    const source = new AwsProfileSource({ profile: 'default' });
    await assert.rejects(source.credentials(), namesTheSetting(/aws-profile "default"/));
    await assert.rejects(createCredentialSource({ source: 'aws-profile', awsProfile: { profile: 'default' } }, { dataDir: tmpdir() }), CredentialConfigurationError);
  });
});

test('aws-profile accepts long-lived keys only when settings allow them, with a warning', async () => {
  await withAwsFiles(STATIC, '', async () => {
    const source = new AwsProfileSource({ profile: 'default', allowLongLivedKeys: true });
    const creds = await source.credentials();
    assert.equal(creds.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    assert.equal(source.status().warning, LONG_LIVED_KEYS_WARNING);
  });
});

test('aws-profile with credential_process: short-lived credentials accepted, user from STS', async () => {
  const registry = new CredentialRegistry();
  const issued = registry.issue('erin', 'arn:aws:sts::444455556666:assumed-role/Dev', 3600_000);
  const server = await serveApps([createStsEmulator(registry)]);
  const json = JSON.stringify({ Version: 1, AccessKeyId: issued.accessKeyId, SecretAccessKey: issued.secretAccessKey, SessionToken: issued.sessionToken, Expiration: issued.expiration.toISOString() });
  const dir = await mkdtemp(join(tmpdir(), 'bb-proc-'));
  const script = join(dir, 'creds.mjs');
  await writeFile(script, `process.stdout.write(${JSON.stringify(json)});`);
  try {
    await withAwsFiles('', `[profile work]\ncredential_process = "${process.execPath}" "${script}"\n`, async () => {
      const source = new AwsProfileSource({ profile: 'work', stsEndpoint: server.url });
      const creds = await source.credentials();
      assert.equal(creds.accessKeyId, issued.accessKeyId);
      assert.ok(creds.expiration instanceof Date);
      assert.equal(source.status().warning, null);
      const identity = await source.identity();
      assert.equal(identity?.user, 'erin');
      assert.equal(identity?.roleName, 'Dev');
    });
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('env source reads the environment; long-lived keys there warn (CI), session credentials do not; settings can refuse them', () =>
  withEnv({ ...NO_AWS_ENV, AWS_ACCESS_KEY_ID: 'ASIAENVEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }, async () => {
    const session = new EnvSource({});
    assert.equal((await session.credentials()).accessKeyId, 'ASIAENVEXAMPLE');
    assert.equal(session.status().warning, null);
    delete process.env.AWS_SESSION_TOKEN;
    const keys = new EnvSource({ allowLongLivedKeys: true });
    await keys.credentials();
    assert.equal(keys.status().warning, LONG_LIVED_KEYS_WARNING);
    const byDefault = new EnvSource({});
    await byDefault.credentials();
    assert.equal(byDefault.status().warning, LONG_LIVED_KEYS_WARNING);
    await assert.rejects(new EnvSource({ allowLongLivedKeys: false }).credentials(), namesTheSetting(/\(env\)/));
  }));

test('env never falls back to ~/.aws files, whatever AWS_PROFILE says', () =>
  withAwsFiles(STATIC, '[profile other]\nregion = us-east-1\n', ({ filepath }) =>
    withEnv({ ...NO_AWS_ENV, AWS_PROFILE: 'default' }, async () => {
      await assert.rejects(new EnvSource({}).credentials(), (e: unknown) => e instanceof CredentialConfigurationError && /No AWS credentials in the environment/.test(e.message));
      await assert.rejects(createCredentialSource({ source: 'env' }, { dataDir: dirname(filepath) }), /No AWS credentials in the environment/);
      process.env.AWS_ACCESS_KEY_ID = 'ASIAENVEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      process.env.AWS_SESSION_TOKEN = 'token';
      const source = await createCredentialSource({ source: 'env' }, { dataDir: dirname(filepath) });
      assert.equal((await source.credentials()).accessKeyId, 'ASIAENVEXAMPLE', "the environment's keys, not the file's");
    })));

test('aws-profile: long-lived keys used only to assume the profile role (source_profile) are refused too, unless allowed', async () => {
  const registry = new CredentialRegistry();
  registry.add({ ...SOURCE_KEY, user: 'bob', assumedRoleArn: 'arn:aws:iam::444455556666:user/bob' });
  const session = registry.issue('sso-user', 'arn:aws:sts::444455556666:assumed-role/Base', 3600_000);
  const server = await serveApps([createStsEmulator(registry)]);
  const files = `${SOURCE_KEY_FILE}[session]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\n`;
  try {
    await withAwsFiles(files, ROLE_PROFILE('work', 'base') + ROLE_PROFILE('via-session', 'session'), () =>
      withEnv({ ...NO_AWS_ENV, AWS_ENDPOINT_URL_STS: server.url }, async () => {
        await assert.rejects(new AwsProfileSource({ profile: 'work' }).credentials(), namesTheSetting(/aws-profile "work", to assume arn:aws:iam::444455556666:role\/Dev/));

        // Allowed: the SDK assumes the role with the key (through STS), and the warning shows.
        const allowed = new AwsProfileSource({ profile: 'work', allowLongLivedKeys: true, stsEndpoint: server.url });
        const assumed = await allowed.credentials();
        assert.ok(assumed.sessionToken && assumed.expiration, 'role credentials');
        assert.notEqual(assumed.accessKeyId, SOURCE_KEY.accessKeyId);
        assert.equal(allowed.status().warning, LONG_LIVED_KEYS_WARNING);
        assert.equal((await allowed.identity())?.arn, 'arn:aws:sts::444455556666:assumed-role/Dev/bob');

        // A role assumed with session credentials is short-lived all the way: accepted, no warning.
        const viaSession = new AwsProfileSource({ profile: 'via-session' });
        assert.ok((await viaSession.credentials()).sessionToken);
        assert.equal(viaSession.status().warning, null);
      }),
    );
  } finally {
    await server.close();
  }
});

test('default chain (`serve --auth default`): long-lived keys from ~/.aws refused unless allowed; the environment\'s pass with a warning', async () => {
  await withAwsFiles(STATIC + SOURCE_KEY_FILE, ROLE_PROFILE('work', 'base'), () =>
    withEnv(NO_AWS_ENV, async () => {
      await assert.rejects(defaultChainProvider()(), namesTheSetting(/the AWS SDK default chain, profile "default"/));
      process.env.AWS_PROFILE = 'work';
      await assert.rejects(defaultChainProvider()(), namesTheSetting(/profile "work", to assume arn:aws:iam::444455556666:role\/Dev/));
      delete process.env.AWS_PROFILE;

      const warnings: string[] = [];
      const allowed = defaultChainProvider({ allowLongLivedKeys: true, onWarning: (w) => warnings.push(w) });
      assert.equal((await allowed()).accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
      await allowed();
      assert.deepEqual(warnings, [LONG_LIVED_KEYS_WARNING], 'warned once');

      process.env.AWS_ACCESS_KEY_ID = 'AKIAENVEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      const fromEnv = defaultChainProvider({ onWarning: (w) => warnings.push(w) });
      assert.equal((await fromEnv()).accessKeyId, 'AKIAENVEXAMPLE', 'the environment comes first in the chain');
      assert.equal(warnings.length, 2);
      await assert.rejects(defaultChainProvider({ allowLongLivedKeys: false })(), namesTheSetting(/default chain/));
    }),
  );
});

test('default chain through the gateway: refused keys answer 401 naming the setting, and never reach Bedrock', () =>
  // The bridge starts inside: its model-catalog call already goes through the chain.
  withAwsFiles(STATIC, '', () =>
    withEnv(NO_AWS_ENV, async () => {
      const emulator = await startEmulator();
      const bridge = await startTestBridge({ upstream: { emulator, credentials: defaultChainProvider() } });
      try {
        const response = await rawRequest({
          port: bridge.port,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: bridge.headers(),
          body: JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] }),
        });
        assert.equal(response.status, 401);
        const error = openAIErrorOf(response);
        assert.equal(error.code, 'aws_credentials_refused');
        assert.ok(namesTheSetting(/default chain/)(new CredentialConfigurationError(error.message)), error.message);
        assert.equal(emulator.recorder.last('Converse'), undefined, 'nothing was signed with the refused keys');
      } finally {
        await bridge.close();
        await emulator.close();
      }
    }),
  ));
