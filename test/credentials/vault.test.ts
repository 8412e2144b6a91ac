import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultDataDirectory } from '../../src/core/paths.ts';
import {
  keyringServiceFor,
  KeyringVault,
  MemoryVault,
  openKeyringVault,
  openSafeStorageVault,
  openVault,
  SAFE_STORAGE_FILE,
} from '../../src/credentials/vault.ts';
import type { KeyringBackend } from '../../src/credentials/vault.ts';
import { fakeSafeStorage } from './fake-safe-storage.ts';

test('safeStorage vault: only ciphertext on disk, survives a restart, clear() removes the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bb-vault-'));
  try {
    const safe = fakeSafeStorage();
    const vault = await openSafeStorageVault(safe, dir);
    assert.equal(vault.protection, 'electron-safe-storage');
    assert.equal(vault.warning, null);
    const secret = 'refresh-token-SECRET-1234567890';
    await vault.set('org-gateway/refresh-token', secret);
    await vault.set('identity-center/access-token', 'access-SECRET');
    const file = join(dir, SAFE_STORAGE_FILE);
    const bytes = await readFile(file);
    assert.ok(!bytes.includes(Buffer.from(secret)), 'plaintext not on disk');
    assert.ok(!bytes.includes(Buffer.from('refresh-token')), 'not even the key names');
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);

    const reopened = await openSafeStorageVault(safe, dir);
    assert.equal(await reopened.get('org-gateway/refresh-token'), secret);
    await reopened.delete('org-gateway/refresh-token');
    assert.equal(await reopened.get('org-gateway/refresh-token'), null);
    await reopened.clear();
    await assert.rejects(stat(file));
    assert.equal(await reopened.get('identity-center/access-token'), null);

    // Another key (another machine/user) cannot read it: starts empty instead of failing.
    await vault.set('x', 'y');
    const foreign = await openSafeStorageVault(fakeSafeStorage(), dir);
    assert.equal(await foreign.get('x'), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('safeStorage with basic_text or without encryption: memory only, with a warning, nothing written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bb-vault-'));
  try {
    for (const safe of [fakeSafeStorage({ backend: 'basic_text' }), fakeSafeStorage({ available: false })]) {
      const vault = await openSafeStorageVault(safe, dir);
      assert.equal(vault.protection, 'memory-only');
      assert.match(vault.warning ?? '', /memory only/);
      await vault.set('k', 'secret');
      assert.equal(await vault.get('k'), 'secret');
    }
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('OS keychain: used when the probe round-trips; memory only with a warning when unavailable', async () => {
  const store = new Map<string, string>();
  const backend: KeyringBackend = {
    entry: (service, account) => ({
      getPassword: async () => store.get(`${service}/${account}`) ?? null,
      setPassword: async (p) => void store.set(`${service}/${account}`, p),
      deleteCredential: async () => store.delete(`${service}/${account}`),
    }),
    find: async (service) => [...store.keys()].filter((k) => k.startsWith(`${service}/`)).map((k) => ({ account: k.slice(service.length + 1) })),
  };
  const vault = await openKeyringVault({ backend });
  assert.ok(vault instanceof KeyringVault);
  assert.equal(vault.protection, 'os-keychain');
  assert.equal(store.size, 0, 'the probe cleaned up');
  await vault.set('org-gateway/refresh-token', 'r');
  await vault.set('identity-center/client-secret', 'c');
  assert.equal(await vault.get('org-gateway/refresh-token'), 'r');
  await vault.clear();
  assert.equal(store.size, 0);

  const broken: KeyringBackend = {
    entry: () => ({
      getPassword: async () => null,
      setPassword: async () => {
        throw new Error('Platform failure: DBus error');
      },
      deleteCredential: async () => false,
    }),
    find: async () => [],
  };
  const fallback = await openKeyringVault({ backend: broken });
  assert.ok(fallback instanceof MemoryVault);
  assert.match(fallback.warning ?? '', /No OS keychain/);
});

test('the real @napi-rs/keyring pinned to Secret Service: memory only when there is no D-Bus session (this machine)', { skip: process.platform !== 'linux' || Boolean(process.env.DBUS_SESSION_BUS_ADDRESS) }, async () => {
  const vault = await openVault({ dataDir: tmpdir() });
  assert.equal(vault.protection, 'memory-only');
  assert.match(vault.warning ?? '', /Secret Service/);
});

test('OS keychain: each data directory has its own entries; the usual one keeps the plain service name', async () => {
  const store = new Map<string, string>();
  const backend: KeyringBackend = {
    entry: (service, account) => ({
      getPassword: async () => store.get(`${service}\u0000${account}`) ?? null,
      setPassword: async (p) => void store.set(`${service}\u0000${account}`, p),
      deleteCredential: async () => store.delete(`${service}\u0000${account}`),
    }),
    find: async (service) => [...store.keys()].filter((k) => k.startsWith(`${service}\u0000`)).map((k) => ({ account: k.split('\u0000')[1]! })),
  };
  const usualDir = defaultDataDirectory({ ...process.env, BEDROCK_BRIDGE_HOME: undefined });
  const usual = await openVault({ dataDir: usualDir, keyringBackend: backend });
  const trial = await openVault({ dataDir: join(tmpdir(), 'bb-trial-home'), keyringBackend: backend });
  await usual.set('identity-center/refresh-token', 'the real one');
  await trial.set('identity-center/refresh-token', 'a trial');
  assert.equal(await usual.get('identity-center/refresh-token'), 'the real one', 'a sign-in elsewhere did not replace it');
  await trial.clear();
  assert.equal(await usual.get('identity-center/refresh-token'), 'the real one', 'signing out elsewhere did not wipe it');
  assert.equal(await trial.get('identity-center/refresh-token'), null);
  assert.equal(keyringServiceFor(usualDir), 'bedrock-bridge');
  assert.equal(keyringServiceFor(`${usualDir}/`), 'bedrock-bridge');
  assert.equal(keyringServiceFor('/tmp/x', { BEDROCK_BRIDGE_HOME: '/tmp/x' }), `bedrock-bridge:${resolve('/tmp/x')}`);
});

