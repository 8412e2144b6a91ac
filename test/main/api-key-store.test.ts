import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { API_KEY_FILE, safeStorageApiKeyStore } from '../../src/main/api-key-store.ts';
import { fakeSafeStorage } from '../credentials/fake-safe-storage.ts';
import { useTempDirs } from '../support/temp-dirs.ts';

describe('API key store (safeStorage)', () => {
  const dataDir = useTempDirs('bb-key-');

  it('keeps the key across launches, encrypted, mode 0600', async () => {
    const dir = await dataDir();
    const storage = fakeSafeStorage();
    await safeStorageApiKeyStore(storage, dir).save('bb-secret-key-123');
    const file = path.join(dir, API_KEY_FILE);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(!(await readFile(file)).includes('bb-secret-key-123'));
    assert.equal(await safeStorageApiKeyStore(fakeSafeStorage({ key: storage.key }), dir).load(), 'bb-secret-key-123');
  });

  it('another user or machine (other key): no key, a new one replaces it', async () => {
    const dir = await dataDir();
    await safeStorageApiKeyStore(fakeSafeStorage(), dir).save('bb-one');
    assert.equal(await safeStorageApiKeyStore(fakeSafeStorage(), dir).load(), null);
  });

  it('basic_text (no real encryption) or unavailable: nothing written, nothing read', async () => {
    for (const storage of [fakeSafeStorage({ backend: 'basic_text' }), fakeSafeStorage({ available: false })]) {
      const dir = await dataDir();
      const store = safeStorageApiKeyStore(storage, dir);
      await store.save('bb-two');
      await assert.rejects(stat(path.join(dir, API_KEY_FILE)), { code: 'ENOENT' });
      assert.equal(await store.load(), null);
    }
  });
});
