import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { createCredentialSource, CredentialConfigurationError } from '../../src/credentials/index.ts';
import { SafeStorageVault } from '../../src/credentials/vault.ts';
import { fakeSafeStorage } from './fake-safe-storage.ts';
import { serveApps } from './helpers.ts';

test('createCredentialSource: restores a stored session, signs in again when the org ended it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bb-create-'));
  const registry = new CredentialRegistry();
  const idc = createIdentityCenterEmulator(registry);
  const server = await serveApps([idc.routes, createStsEmulator(registry)]);
  const vault = new SafeStorageVault(fakeSafeStorage(), dir);
  let prompts = 0;
  const settings = {
    source: 'identity-center' as const,
    identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', oidcEndpoint: server.url, portalEndpoint: server.url, stsEndpoint: server.url },
  };
  const deps = {
    dataDir: dir,
    vault,
    log: () => {},
    ui: { prompt: (p: { userCode: string }) => { prompts += 1; idc.control.approve(p.userCode, 'heidi'); } },
  };
  try {
    const first = await createCredentialSource(settings, deps);
    assert.equal(prompts, 1);
    assert.equal((await first.identity())?.user, 'heidi');

    const restored = await createCredentialSource(settings, deps);
    assert.equal(prompts, 1, 'the stored session is reused: no new sign-in');
    assert.equal(restored.status().signedIn, true);

    idc.control.revokeSession('heidi');
    idc.control.expireAccessTokens();
    const again = await createCredentialSource(settings, deps);
    assert.equal(prompts, 2, 'the ended session led to a new sign-in at start-up');
    assert.ok((await again.credentials()).sessionToken);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('createCredentialSource: several roles and none chosen -> a clear configuration error at start-up', async () => {
  const registry = new CredentialRegistry();
  const idc = createIdentityCenterEmulator(registry, {
    accounts: [
      { accountId: '111111111111', accountName: 'Dev', emailAddress: 'd@example.com', roles: ['A', 'B'] },
      { accountId: '222222222222', accountName: 'Prod', emailAddress: 'p@example.com', roles: ['A'] },
    ],
  });
  const server = await serveApps([idc.routes]);
  try {
    await assert.rejects(
      createCredentialSource(
        { source: 'identity-center', identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', oidcEndpoint: server.url, portalEndpoint: server.url } },
        { dataDir: tmpdir(), vault: new (await import('../../src/credentials/vault.ts')).MemoryVault(), log: () => {}, ui: { prompt: (p) => idc.control.approve(p.userCode, 'ivan') } },
      ),
      (e: unknown) => e instanceof CredentialConfigurationError && /account and role/.test(e.message),
    );
  } finally {
    await server.close();
  }
});
