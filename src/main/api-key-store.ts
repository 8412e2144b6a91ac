/**
 * Keeps the local API key across launches, so editors configured once keep working. Encrypted with
 * Electron's safeStorage in `<dataDir>/api-key.enc` (0600); where safeStorage does not really encrypt
 * (Linux `basic_text`) nothing is written and each launch gets a new key, as headless `serve` does.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiKeyStore } from '../app/types.ts';
import type { SafeStorageLike } from '../credentials/vault.ts';

export const API_KEY_FILE = 'api-key.enc';

export function safeStorageApiKeyStore(safeStorage: SafeStorageLike, dataDir: string): ApiKeyStore {
  const file = path.join(dataDir, API_KEY_FILE);
  const encrypts = async () => safeStorage.getSelectedStorageBackend?.() !== 'basic_text' && (await safeStorage.isAsyncEncryptionAvailable());
  return {
    async load() {
      if (!(await encrypts())) return null;
      try {
        return await safeStorage.decryptStringAsync(await readFile(file));
      } catch {
        return null; // none yet, or encrypted by another user or machine: a new key replaces it
      }
    },
    async save(apiKey) {
      if (!(await encrypts())) return;
      const cipher = await safeStorage.encryptStringAsync(apiKey);
      await mkdir(dataDir, { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, cipher, { mode: 0o600 });
      await rename(temp, file);
    },
  };
}
