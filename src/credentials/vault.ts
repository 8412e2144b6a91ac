import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { defaultDataDirectory } from '../core/paths.ts';
import { messageOf } from '../core/error-message.ts';

export type VaultProtection = 'os-keychain' | 'electron-safe-storage' | 'memory-only';

/**
 * Where secrets at rest live (refresh token, access token, client secret). Never a plain-text
 * file, never ~/.aws/sso/cache, never a log line.
 */
export interface TokenVault {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
  readonly protection: VaultProtection;
  /** Shown to the user when secrets cannot be kept safely across restarts. */
  readonly warning: string | null;
}

export const MEMORY_ONLY_WARNING_KEYRING =
  'No OS keychain is available (on Linux: no Secret Service on the D-Bus session), so sign-in tokens are kept in memory only: you will sign in again after each restart.';
export const MEMORY_ONLY_WARNING_KEYRING_UNUSABLE =
  "No OS keychain is available to this process: it answers but is locked or refused to store the sign-in (on Linux: unlock the Secret Service's login keyring, e.g. by signing in to the desktop), so sign-in tokens are kept in memory only: you will sign in again after each restart.";
export const MEMORY_ONLY_WARNING_BASIC_TEXT =
  "Electron's safeStorage has no real encryption on this system (backend 'basic_text'), so sign-in tokens are kept in memory only: you will sign in again after each restart.";
export const MEMORY_ONLY_WARNING_SAFE_STORAGE =
  "Electron's safeStorage encryption is not available, so sign-in tokens are kept in memory only: you will sign in again after each restart.";

export class MemoryVault implements TokenVault {
  readonly protection = 'memory-only' as const;
  readonly warning: string | null;
  readonly #values = new Map<string, string>();

  constructor(warning: string | null = null) {
    this.warning = warning;
  }

  async get(key: string): Promise<string | null> {
    return this.#values.get(key) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    this.#values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#values.delete(key);
  }
  async clear(): Promise<void> {
    this.#values.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// OS keychain through @napi-rs/keyring (macOS Keychain, Windows Credential Manager, Linux Secret
// Service). On Linux the entry is pinned to Secret Service: the library's default silently falls
// back to the kernel keyring (keyutils), which does not survive a reboot, so that is not persistence.

export const KEYRING_SERVICE = 'bedrock-bridge';

interface KeyringEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deleteCredential(): Promise<boolean>;
}

export interface KeyringBackend {
  entry(service: string, account: string): KeyringEntry;
  find(service: string): Promise<Array<{ account: string }>>;
}

async function loadNapiKeyring(): Promise<KeyringBackend> {
  const keyring = await import('@napi-rs/keyring');
  const options = { linux: { store: 'secret-service' as const } };
  return {
    entry: (service, account) => new keyring.AsyncEntry(service, account, options),
    find: async (service) => {
      try {
        return await keyring.findCredentialsAsync(service);
      } catch {
        return [];
      }
    },
  };
}

export class KeyringVault implements TokenVault {
  readonly protection = 'os-keychain' as const;
  readonly warning = null;
  readonly #backend: KeyringBackend;
  readonly #service: string;
  readonly #known = new Set<string>();

  constructor(backend: KeyringBackend, service = KEYRING_SERVICE) {
    this.#backend = backend;
    this.#service = service;
  }

  async get(key: string): Promise<string | null> {
    return this.#backend.entry(this.#service, key).getPassword();
  }
  async set(key: string, value: string): Promise<void> {
    this.#known.add(key);
    await this.#backend.entry(this.#service, key).setPassword(value);
  }
  async delete(key: string): Promise<void> {
    this.#known.delete(key);
    await this.#backend.entry(this.#service, key).deleteCredential();
  }
  async clear(): Promise<void> {
    try {
      await wipeKeyring(this.#backend, this.#service, this.#known);
    } finally {
      this.#known.clear();
    }
  }
}

/** clear() could not remove everything from the OS keychain: sign-out must not claim it did. */
export class VaultWipeError extends Error {
  constructor(detail: string) {
    super(
      `Could not remove the sign-in tokens kept in the OS keychain (${detail}). Unlock it (on Linux: the Secret Service's login keyring) and run \`bedrock-bridge logout\` again.`,
    );
    this.name = 'VaultWipeError';
  }
}

/**
 * Deletes every entry of `service`: the keys written (`known`), the ones the store lists and every key
 * this package writes. Keeps going past a failure, then throws VaultWipeError if any entry that is there
 * could not be deleted (a locked keychain refuses; a missing entry is not a failure).
 */
async function wipeKeyring(backend: KeyringBackend, service: string, known: Iterable<string>): Promise<void> {
  const keys = new Set(known);
  for (const { account } of await backend.find(service)) keys.add(account);
  for (const key of KNOWN_VAULT_KEYS) keys.add(key);
  let failure: string | null = null;
  for (const key of keys) {
    try {
      await backend.entry(service, key).deleteCredential();
    } catch (error) {
      failure ??= messageOf(error);
    }
  }
  if (failure !== null) throw new VaultWipeError(failure);
}

/**
 * Memory only because the OS keychain answers but cannot be used (locked, no collection, refused the
 * probe). A session stored there earlier (a previous login, while it was unlocked) may still be in it,
 * so clear() also wipes this data directory's entries there, and throws VaultWipeError if the keychain
 * refuses: `logout` then fails with a reason instead of reporting a wipe that did not happen.
 */
export class UnusableKeyringVault extends MemoryVault {
  readonly #backend: KeyringBackend;
  readonly #service: string;

  constructor(backend: KeyringBackend, service: string) {
    super(MEMORY_ONLY_WARNING_KEYRING_UNUSABLE);
    this.#backend = backend;
    this.#service = service;
  }

  override async clear(): Promise<void> {
    await super.clear();
    await wipeKeyring(this.#backend, this.#service, []);
  }
}

/** Every key this package writes, so clear() can wipe them even where the store cannot be listed. */
export const KNOWN_VAULT_KEYS = [
  'identity-center/client-secret',
  'identity-center/access-token',
  'identity-center/refresh-token',
  'org-gateway/access-token',
  'org-gateway/refresh-token',
  'org-gateway/id-token',
] as const;

/**
 * Opens the OS keychain if it really is one, else a memory-only vault with a warning. The probe
 * writes, reads back and deletes an entry, so a locked or absent store is detected up front.
 * Two kinds of failure (both seen with a real Secret Service, test/credentials/secret-service-vault.test.ts):
 * no keychain to talk to (no D-Bus session bus, no Secret Service on it: creating the entry fails),
 * and a keychain that answers but refuses (a locked or missing collection: the probe fails), which may
 * still hold an earlier session, so it is wiped on sign-out (UnusableKeyringVault).
 */
export async function openKeyringVault(options: { backend?: KeyringBackend; service?: string } = {}): Promise<TokenVault> {
  const service = options.service ?? KEYRING_SERVICE;
  let backend: KeyringBackend;
  let probe: KeyringEntry;
  try {
    backend = options.backend ?? (await loadNapiKeyring());
    probe = backend.entry(service, 'probe');
  } catch {
    return new MemoryVault(MEMORY_ONLY_WARNING_KEYRING);
  }
  try {
    const marker = `probe-${process.pid}-${Date.now()}`;
    await probe.setPassword(marker);
    const readBack = await probe.getPassword();
    await probe.deleteCredential();
    if (readBack === marker) return new KeyringVault(backend, service);
  } catch {
    // refused: below
  }
  return new UnusableKeyringVault(backend, service);
}

// ---------------------------------------------------------------------------------------------
// Electron safeStorage: src/main passes Electron's safeStorage (it satisfies this interface).

export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<string>;
  getSelectedStorageBackend?(): string;
}

export const SAFE_STORAGE_FILE = 'secrets.enc';

/**
 * Keeps all secrets as one JSON map encrypted by safeStorage, in `<dataDir>/secrets.enc`
 * (mode 0600). The file only ever holds ciphertext.
 */
export class SafeStorageVault implements TokenVault {
  readonly protection = 'electron-safe-storage' as const;
  readonly warning = null;
  readonly #safeStorage: SafeStorageLike;
  readonly #file: string;
  #values: Map<string, string> | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(safeStorage: SafeStorageLike, dataDir: string) {
    this.#safeStorage = safeStorage;
    this.#file = join(dataDir, SAFE_STORAGE_FILE);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #load(): Promise<Map<string, string>> {
    if (this.#values) return this.#values;
    let values = new Map<string, string>();
    try {
      const cipher = await readFile(this.#file);
      const json = await this.#safeStorage.decryptStringAsync(cipher);
      values = new Map(Object.entries(JSON.parse(json) as Record<string, string>));
    } catch {
      // missing or undecryptable (other machine/user): start empty
    }
    this.#values = values;
    return values;
  }

  async #save(values: Map<string, string>): Promise<void> {
    if (values.size === 0) {
      await rm(this.#file, { force: true });
      return;
    }
    const cipher = await this.#safeStorage.encryptStringAsync(JSON.stringify(Object.fromEntries(values)));
    await mkdir(dirname(this.#file), { recursive: true });
    const temp = `${this.#file}.${process.pid}.tmp`;
    await writeFile(temp, cipher, { mode: 0o600 });
    await rename(temp, this.#file);
  }

  get(key: string): Promise<string | null> {
    return this.#serial(async () => (await this.#load()).get(key) ?? null);
  }
  set(key: string, value: string): Promise<void> {
    return this.#serial(async () => {
      const values = await this.#load();
      values.set(key, value);
      await this.#save(values);
    });
  }
  delete(key: string): Promise<void> {
    return this.#serial(async () => {
      const values = await this.#load();
      values.delete(key);
      await this.#save(values);
    });
  }
  clear(): Promise<void> {
    return this.#serial(async () => {
      this.#values = new Map();
      await rm(this.#file, { force: true });
    });
  }
}

/** safeStorage if it truly encrypts; memory only with a warning otherwise (Linux `basic_text`). */
export async function openSafeStorageVault(safeStorage: SafeStorageLike, dataDir: string): Promise<TokenVault> {
  try {
    if (safeStorage.getSelectedStorageBackend?.() === 'basic_text') return new MemoryVault(MEMORY_ONLY_WARNING_BASIC_TEXT);
    if (!(await safeStorage.isAsyncEncryptionAvailable())) return new MemoryVault(MEMORY_ONLY_WARNING_SAFE_STORAGE);
    return new SafeStorageVault(safeStorage, dataDir);
  } catch {
    return new MemoryVault(MEMORY_ONLY_WARNING_SAFE_STORAGE);
  }
}

export interface OpenVaultOptions {
  /** Electron's safeStorage (app shell); absent in the headless shell. */
  safeStorage?: SafeStorageLike;
  dataDir: string;
  /** Force memory only (tests, or a user who wants no secrets at rest). */
  memoryOnly?: boolean;
  keyringBackend?: KeyringBackend;
}

export async function openVault(options: OpenVaultOptions): Promise<TokenVault> {
  if (options.memoryOnly) return new MemoryVault(null);
  if (options.safeStorage) return openSafeStorageVault(options.safeStorage, options.dataDir);
  const service = keyringServiceFor(options.dataDir);
  return openKeyringVault(options.keyringBackend ? { backend: options.keyringBackend, service } : { service });
}

/**
 * The keychain service name for a data directory. Keychain entries are per user, not per directory:
 * a second data directory (BEDROCK_BRIDGE_HOME for a trial, a test, a portable install) gets a
 * service of its own, so signing in there never replaces or wipes the tokens of the usual one.
 */
export function keyringServiceFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const usual = defaultDataDirectory({ ...env, BEDROCK_BRIDGE_HOME: undefined });
  return resolve(dataDir) === resolve(usual) ? KEYRING_SERVICE : `${KEYRING_SERVICE}:${resolve(dataDir)}`;
}
