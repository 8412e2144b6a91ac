import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLogin, runStatus } from '../../src/cli/auth-commands.ts';
import { runServe } from '../../src/cli/serve.ts';
import { CredentialConfigurationError } from '../../src/credentials/errors.ts';
import { loadCredentialSettings, saveCredentialSettings, type CredentialSettings } from '../../src/credentials/settings.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';

async function withDataDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bb-settings-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function cliIo(dir: string) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { env: { BEDROCK_BRIDGE_HOME: dir }, stdout: (line: string) => out.push(line), stderr: (line: string) => err.push(line), vault: new MemoryVault() },
  };
}

test('sign-in settings: none yet is null; saved settings come back as written, in a 0600 file', async () => {
  await withDataDir(async (dir) => {
    assert.equal(await loadCredentialSettings(dir), null);
    const settings: CredentialSettings = {
      source: 'identity-center',
      identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'eu-west-1', accountId: '111122223333', roleName: 'BedrockUser' },
    };
    await saveCredentialSettings(dir, settings);
    assert.deepEqual(await loadCredentialSettings(dir), settings);
    assert.equal((await stat(join(dir, 'sign-in.json'))).mode & 0o777, 0o600);
  });
});

test('sign-in settings: a field nobody knows (a pasted token) is refused by name, and its value is not echoed', async () => {
  await withDataDir(async (dir) => {
    const secret = 'aoa-SECRET-refresh-token-value-0123456789';
    const pasted = { source: 'org-gateway', orgGateway: { url: 'https://gw.example.com', refreshToken: secret } };
    await assert.rejects(saveCredentialSettings(dir, pasted as unknown as CredentialSettings), (error: Error) => {
      assert.ok(error instanceof CredentialConfigurationError);
      assert.match(error.message, /orgGateway/);
      assert.match(error.message, /refreshToken/);
      assert.doesNotMatch(error.message, /SECRET/);
      return true;
    });
    await assert.rejects(readFile(join(dir, 'sign-in.json')), { code: 'ENOENT' }, 'nothing was written');

    await writeFile(join(dir, 'sign-in.json'), JSON.stringify(pasted));
    await assert.rejects(loadCredentialSettings(dir), (error: Error) => /refreshToken/.test(error.message) && !error.message.includes(secret));
  });
});

test('sign-in settings: a broken file is an error that names the file and the field, not "not configured"', async () => {
  await withDataDir(async (dir) => {
    const file = join(dir, 'sign-in.json');
    await writeFile(file, '{"source": "identity-center", "identityCenter": {"startUrl": "not a url", "region": "us-east-1", "accountId": "12"}}');
    await assert.rejects(loadCredentialSettings(dir), (error: Error) => {
      assert.match(error.message, /identityCenter\.startUrl: must be an http\(s\) URL/);
      assert.match(error.message, /identityCenter\.accountId: must be a 12-digit AWS account id/);
      assert.ok(error.message.includes(file));
      return true;
    });

    const status = cliIo(dir);
    assert.equal(await runStatus([], status.io), 1);
    assert.deepEqual(status.out, [], 'status does not claim "Not configured"');
    assert.match(status.err.join('\n'), /sign-in\.json is not valid sign-in settings .*startUrl/);

    // serve does not fall back to the SDK's default credentials (somebody else's) past a broken file.
    const serveErr: string[] = [];
    const serveIo = { env: { BEDROCK_BRIDGE_HOME: dir }, stdout: () => {}, stderr: (line: string) => serveErr.push(line) };
    assert.equal(await runServe(['--port', '0'], serveIo), 2);
    assert.match(serveErr.join('\n'), /bedrock-bridge serve: .*sign-in\.json is not valid sign-in settings/);

    await writeFile(file, '{"source": "identity-center",');
    const login = cliIo(dir);
    assert.equal(await runLogin(['--auth', 'org-gateway', '--gateway', 'https://gw.example.com'], login.io), 1);
    assert.match(login.err.join('\n'), /sign-in\.json is not valid JSON at line \d+, column \d+\. Fix or delete it/);
  });
});

test('sign-in settings: an unknown credential source is refused with the list of known ones', async () => {
  await withDataDir(async (dir) => {
    await writeFile(join(dir, 'sign-in.json'), '{"source": "static-keys"}');
    await assert.rejects(loadCredentialSettings(dir), /source: .*"env".*"aws-profile".*"identity-center".*"org-gateway"/);
  });
});
