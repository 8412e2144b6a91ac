/**
 * Stands in for `@napi-rs/keyring` in CLI child processes (loaded through ./fake-keyring-hooks.ts), so a
 * sign-in made by one `bedrock-bridge` process is there for the next, as with a real OS keychain; test
 * machines usually have none (no Secret Service on the D-Bus session). The "keychain" is the JSON file
 * named by FAKE_KEYRING_FILE, outside the data directory: a test reads it to check what was kept.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

type Store = Record<string, Record<string, string>>;

function file(): string {
  const path = process.env.FAKE_KEYRING_FILE;
  if (!path) throw new Error('FAKE_KEYRING_FILE is not set');
  return path;
}

function load(): Store {
  return existsSync(file()) ? (JSON.parse(readFileSync(file(), 'utf8')) as Store) : {};
}

// Synchronous reads and writes: each call sees the file as the last call left it.
function update(change: (store: Store) => void): void {
  const store = load();
  change(store);
  writeFileSync(file(), JSON.stringify(store), { mode: 0o600 });
}

export class AsyncEntry {
  readonly #service: string;
  readonly #account: string;

  constructor(service: string, account: string) {
    this.#service = service;
    this.#account = account;
  }

  async getPassword(): Promise<string | null> {
    return load()[this.#service]?.[this.#account] ?? null;
  }

  async setPassword(password: string): Promise<void> {
    update((store) => {
      (store[this.#service] ??= {})[this.#account] = password;
    });
  }

  async deleteCredential(): Promise<boolean> {
    let found = false;
    update((store) => {
      found = store[this.#service]?.[this.#account] !== undefined;
      delete store[this.#service]?.[this.#account];
    });
    return found;
  }
}

export async function findCredentialsAsync(service: string): Promise<Array<{ account: string; password: string }>> {
  return Object.entries(load()[service] ?? {}).map(([account, password]) => ({ account, password }));
}
