import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { AwsProfileSource, EnvSource, LONG_LIVED_KEYS_WARNING } from '../../src/credentials/aws-sdk-sources.ts';
import { CredentialConfigurationError } from '../../src/credentials/errors.ts';
import { createCredentialSource } from '../../src/credentials/index.ts';
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

test('aws-profile refuses long-lived keys from ~/.aws/credentials by default', async () => {
  await withAwsFiles(STATIC, '', async () => {
    const source = new AwsProfileSource({ profile: 'default' });
    await assert.rejects(source.credentials(), (e: unknown) => e instanceof CredentialConfigurationError && /long-lived/.test(e.message));
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

test('env source reads the environment; long-lived keys there warn (CI), session credentials do not', async () => {
  const saved = { ...process.env };
  try {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAENVEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    process.env.AWS_SESSION_TOKEN = 'token';
    const session = new EnvSource({});
    assert.equal((await session.credentials()).accessKeyId, 'ASIAENVEXAMPLE');
    assert.equal(session.status().warning, null);
    delete process.env.AWS_SESSION_TOKEN;
    const keys = new EnvSource({ allowLongLivedKeys: true });
    await keys.credentials();
    assert.equal(keys.status().warning, LONG_LIVED_KEYS_WARNING);
  } finally {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});
