/**
 * The headless vault against a REAL Secret Service (gnome-keyring on a private D-Bus session bus, see
 * ../support/secret-service.ts), through the real CLI in child processes: no fake keyring anywhere.
 * Skipped when dbus-daemon / gnome-keyring-daemon are not installed, unless REQUIRE_SECRET_SERVICE=1 (CI).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import {
  KEYRING_SERVICE,
  keyringServiceFor,
  KeyringVault,
  KNOWN_VAULT_KEYS,
  MEMORY_ONLY_WARNING_KEYRING,
  MEMORY_ONLY_WARNING_KEYRING_UNUSABLE,
  MemoryVault,
  openKeyringVault,
  UnusableKeyringVault,
  VaultWipeError,
  type KeyringBackend,
} from '../../src/credentials/vault.ts';
import { runCli, type CliRun } from '../support/cli-process.ts';
import { identityCenterServeEnv } from '../support/serve-process.ts';
import { filesUnder, runSecretServiceClient, secretServiceRequirement, startSecretService, type StartedSecretService } from '../support/secret-service.ts';

const requirement = secretServiceRequirement();
const LOGIN = ['login', '--start-url', 'https://example.awsapps.com/start', '--sso-region', 'us-east-1'];
/** Generous bounds for a loaded 2-core CI machine; measured times are a few ms to ~2 s. */
const VAULT_OPEN_LIMIT_MS = 5_000;
const LOGIN_LIMIT_MS = 20_000;

function assertAvailable(): void {
  if (requirement.unavailable) assert.fail(`REQUIRE_SECRET_SERVICE=1, but ${requirement.unavailable}`);
}

/** A temp root, the Identity Center + STS emulator, and `cli()` that runs `bedrock-bridge` approving sign-in codes as carol. */
async function setup(extraEnv: NodeJS.ProcessEnv) {
  const root = await mkdtemp(join(tmpdir(), 'bb-secret-service-'));
  const dataDir = join(root, 'bridge-data');
  const home = join(root, 'home');
  await mkdir(home, { recursive: true });
  const registry = new CredentialRegistry();
  const idc = createIdentityCenterEmulator(registry);
  const emulator = await startEmulator({ registry, services: [idc.routes, createStsEmulator(registry)] });
  // The child sees the Secret Service under test (or none), never the fake keyring or the developer's session.
  const env = identityCenterServeEnv(dataDir, emulator.url, { HOME: home, FAKE_KEYRING_FILE: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined, ...extraEnv });
  assert.doesNotMatch(env.NODE_OPTIONS ?? '', /fake-keyring/);
  const output: string[] = [];
  const cli = async (args: string[]): Promise<CliRun & { ms: number }> => {
    const started = performance.now();
    let approved = false;
    const run = await runCli(args, env, {
      onStderr: (stderr) => {
        const code = /confirm the code: (\S+)/.exec(stderr)?.[1];
        if (code && !approved) {
          approved = true;
          idc.control.approve(code, 'carol');
        }
      },
    });
    output.push(run.stdout, run.stderr);
    return { ...run, ms: Math.round(performance.now() - started) };
  };
  return {
    root, dataDir, home, env, idc, cli,
    /** Everything every CLI run printed. */
    output: () => output.join('\n'),
    close: async () => {
      await emulator.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** A sign-in setup whose CLI runs use a private, real Secret Service; both torn down after `run`. */
async function withSecretServiceSetup(run: (s: Setup, secretService: StartedSecretService) => Promise<void>): Promise<void> {
  assertAvailable();
  const keyringRoot = await mkdtemp(join(tmpdir(), 'bb-keyring-'));
  const secretService = await startSecretService(keyringRoot);
  const s = await setup(secretService.env);
  try {
    await run(s, secretService);
  } finally {
    await s.close();
    await secretService.stop();
    await rm(keyringRoot, { recursive: true, force: true });
  }
}

/** `name in place` for every secret found in a file under `dirs` or in `logs`, as raw bytes. */
async function leaks(dirs: string[], logs: string, secrets: Map<string, string>): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file);
      for (const [name, secret] of secrets) if (bytes.includes(Buffer.from(secret))) found.push(`${name} in ${file}`);
    }
  }
  for (const [name, secret] of secrets) if (logs.includes(secret)) found.push(`${name} in the CLI output`);
  return found;
}

function timing(t: TestContext, what: string, ms: number): void {
  t.diagnostic(`${what}: ${ms} ms`);
}

test('real Secret Service: login keeps the tokens and client secret in the keychain only, a new process sees the session, logout wipes them', { skip: requirement.skip, timeout: 120_000 }, (t) =>
  withSecretServiceSetup(async (s, secretService) => {
    timing(t, 'Secret Service ready after', secretService.readyMs);
    const service = keyringServiceFor(s.dataDir, s.env);
    assert.equal(service, `${KEYRING_SERVICE}:${s.dataDir}`, 'a test data directory has a keychain scope of its own');

    const opened = await runSecretServiceClient({ ...s.env }, 'open-vault', s.dataDir);
    assert.deepEqual({ ...(opened.value as object), ms: 0 }, { protection: 'os-keychain', warning: null, ms: 0 }, opened.stderr);
    timing(t, 'openVault with the Secret Service (fresh process)', (opened.value as { ms: number }).ms);

    const login = await s.cli(LOGIN);
    timing(t, 'login', login.ms);
    assert.equal(login.code, 0, login.stdout + login.stderr);
    assert.match(login.stdout, /^Signed in as carol \(identity-center, account 111122223333, role BedrockUser\)\.$/m);
    assert.match(login.stdout, /^Tokens stored in:\s+the OS keychain$/m);
    assert.doesNotMatch(login.stdout + login.stderr, /No OS keychain|memory only|Warning/, 'the vault is the OS keychain: no memory-only notice');

    // The keychain holds exactly the session, under this data directory's scope and nowhere else.
    const entries = await secretService.find(service);
    assert.deepEqual(entries.map((e) => e.account).sort(), ['identity-center/access-token', 'identity-center/client-secret', 'identity-center/refresh-token']);
    assert.ok(entries.every((e) => (KNOWN_VAULT_KEYS as readonly string[]).includes(e.account)), 'logout can wipe every key even where listing fails');
    assert.deepEqual(await secretService.find(KEYRING_SERVICE), [], 'the usual data directory\'s entries are untouched');
    const entry = (account: string) => entries.find((e) => e.account === account)!.password;
    const secrets = new Map<string, string>([
      ['client secret', (JSON.parse(entry('identity-center/client-secret')) as { clientSecret: string }).clientSecret],
      ['access token', (JSON.parse(entry('identity-center/access-token')) as { token: string }).token],
      ['refresh token', entry('identity-center/refresh-token')],
    ]);
    for (const [name, value] of secrets) assert.ok(typeof value === 'string' && value.length >= 16, `${name}: ${value}`);

    // A new process (as after a restart) finds the session in the keychain: no second sign-in, no new registration.
    const status = await s.cli(['status']);
    timing(t, 'status (new process)', status.ms);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^Signed in:\s+yes$/m);
    assert.match(status.stdout, /^User:\s+carol$/m);
    assert.match(status.stdout, /^Tokens stored in:\s+the OS keychain$/m);
    assert.doesNotMatch(status.stdout, /^Warning:/m);
    const json = await s.cli(['status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (({ source, signedIn, user, warning, tokenStorage, error }) => ({ source, signedIn, user, warning, tokenStorage, error }))(JSON.parse(json.stdout) as Record<string, unknown>),
      { source: 'identity-center', signedIn: true, user: 'carol', warning: null, tokenStorage: 'os-keychain', error: null },
    );
    assert.equal(s.idc.control.stats.startDeviceAuthorization, 1, 'signed in once');
    assert.equal(s.idc.control.stats.registerClient, 1, 'the stored registration was reused');

    // Signed in: no secret in the data directory, HOME, the keyring's own files (encrypted) or any output.
    const dataFiles = await readdir(s.dataDir);
    assert.ok(!dataFiles.includes('secrets.enc'), `no ciphertext file in the data directory: ${dataFiles.join(', ')}`);
    const keyringFiles = await filesUnder(secretService.storageDir);
    assert.ok(keyringFiles.some((f) => f.endsWith('.keyring')), `gnome-keyring wrote its keyring: ${keyringFiles.join(', ')}`);
    assert.deepEqual(await leaks([s.dataDir, s.home, secretService.storageDir], s.output(), secrets), []);

    const logout = await s.cli(['logout']);
    timing(t, 'logout', logout.ms);
    assert.equal(logout.code, 0, logout.stdout + logout.stderr);
    assert.match(logout.stdout, /Signed out\. Stored tokens were removed\./);
    assert.equal(s.idc.control.stats.logout, 1, 'the session was ended at Identity Center');
    assert.deepEqual(await secretService.find(service), [], 'every entry of this data directory is gone from the keychain');

    const after = await s.cli(['status', '--json']);
    assert.equal(after.code, 1, after.stdout + after.stderr);
    assert.equal((JSON.parse(after.stdout) as { signedIn: boolean }).signedIn, false);
    assert.deepEqual(await leaks([s.dataDir, s.home, secretService.storageDir], s.output(), secrets), []);
    assert.deepEqual(await readdir(s.home), [], 'nothing under HOME (no ~/.aws/sso/cache)');
  }));

test('real Secret Service: openVault picks the keychain when it works and memory only (with the warning, at once) when the collection is locked, nothing serves secrets, or there is no bus', { skip: requirement.skip, timeout: 120_000 }, async (t) => {
  assertAvailable();
  const keyringRoot = await mkdtemp(join(tmpdir(), 'bb-keyring-'));
  const dataDir = join(keyringRoot, 'bridge-data');
  const secretService = await startSecretService(keyringRoot);
  try {
    const env = { ...process.env, ...secretService.env, DISPLAY: undefined, WAYLAND_DISPLAY: undefined };
    const open = async (label: string) => {
      const result = await runSecretServiceClient(env, 'open-vault', dataDir);
      assert.equal(result.code, 0, result.stderr);
      const value = result.value as { protection: string; warning: string | null; ms: number };
      timing(t, `openVault, ${label}`, value.ms);
      assert.ok(value.ms < VAULT_OPEN_LIMIT_MS, `${label}: ${value.ms} ms`);
      return value;
    };
    const memoryOnly = { protection: 'memory-only', warning: MEMORY_ONLY_WARNING_KEYRING };
    const { ms: _unlocked, ...unlocked } = await open('unlocked keyring');
    assert.deepEqual(unlocked, { protection: 'os-keychain', warning: null });

    // The same keyring after a restart without the password (e.g. an SSH login, no PAM unlock): locked.
    // Nothing can show the unlock prompt here (no display, no prompter), so it is dismissed at once.
    await secretService.restartKeyring({ unlock: false });
    const { ms: _locked, ...locked } = await open('locked collection');
    assert.deepEqual(locked, { protection: 'memory-only', warning: MEMORY_ONLY_WARNING_KEYRING_UNUSABLE });

    await secretService.stopKeyring();
    const { ms: _busOnly, ...busOnly } = await open('a session bus without a Secret Service');
    assert.deepEqual(busOnly, memoryOnly);

    const noBus = { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(keyringRoot, 'no-such-bus')}` };
    const result = await runSecretServiceClient(noBus, 'open-vault', dataDir);
    const { ms, ...value } = result.value as { protection: string; warning: string | null; ms: number };
    timing(t, 'openVault, no bus at DBUS_SESSION_BUS_ADDRESS', ms);
    assert.deepEqual(value, memoryOnly);
    assert.ok(ms < VAULT_OPEN_LIMIT_MS, `${ms} ms`);
    assert.deepEqual(await filesUnder(dataDir), [], 'memory only writes nothing');
  } finally {
    await secretService.stop();
    await rm(keyringRoot, { recursive: true, force: true });
  }
});

test('no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS points at nothing): login falls back to memory only with the warning, at once, and keeps nothing', { skip: process.platform !== 'linux' ? 'the Secret Service is Linux only' : false, timeout: 120_000 }, async (t) => {
  const s = await setup({});
  const noBus = `unix:path=${join(s.root, 'no-such-bus')}`;
  // An empty runtime dir too: libdbus would otherwise try $XDG_RUNTIME_DIR/bus, the developer's real session.
  Object.assign(s.env, { DBUS_SESSION_BUS_ADDRESS: noBus, XDG_RUNTIME_DIR: join(s.root, 'run') });
  try {
    const opened = await runSecretServiceClient(s.env, 'open-vault', s.dataDir);
    const { ms, ...vault } = opened.value as { protection: string; warning: string | null; ms: number };
    timing(t, 'openVault without a bus (fresh process)', ms);
    assert.deepEqual(vault, { protection: 'memory-only', warning: MEMORY_ONLY_WARNING_KEYRING });
    assert.ok(ms < VAULT_OPEN_LIMIT_MS, `${ms} ms`);

    const login = await s.cli(LOGIN);
    timing(t, 'login without a bus', login.ms);
    assert.equal(login.code, 0, login.stdout + login.stderr);
    assert.ok(login.ms < LOGIN_LIMIT_MS, `login took ${login.ms} ms`);
    assert.match(login.stdout, /^Signed in as carol \(identity-center/m);
    assert.match(login.stdout, /^Tokens stored in:\s+memory only \(gone when this process ends\)$/m);
    assert.ok(login.stderr.includes(`Note: ${MEMORY_ONLY_WARNING_KEYRING}`), `the warning is shown:\n${login.stderr}`);
    assert.match(login.stderr, /tokens are kept in memory only, so this sign-in ends with this command/);

    // Nothing was kept: a new process is signed out, and says why.
    const status = await s.cli(['status']);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stdout, /^Signed in:\s+no$/m);
    assert.ok(status.stdout.includes(`Warning:             ${MEMORY_ONLY_WARNING_KEYRING}`), status.stdout);
    assert.deepEqual(await readdir(s.dataDir), ['sign-in.json'], 'only the non-secret settings are on disk');
  } finally {
    await s.close();
  }
});

test('real Secret Service locked after login: status says why, logout fails rather than claim a wipe, and once unlocked logout revokes and wipes', { skip: requirement.skip, timeout: 120_000 }, (t) =>
  withSecretServiceSetup(async (s, secretService) => {
    const service = keyringServiceFor(s.dataDir, s.env);
    const login = await s.cli(LOGIN);
    assert.equal(login.code, 0, login.stdout + login.stderr);
    assert.equal((await secretService.find(service)).length, 3);

    // The keyring daemon restarts without the password: the session is in the keychain, out of reach.
    await secretService.restartKeyring({ unlock: false });
    const status = await s.cli(['status']);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stdout, /^Signed in:\s+no$/m);
    assert.ok(status.stdout.includes(`Warning:             ${MEMORY_ONLY_WARNING_KEYRING_UNUSABLE}`), status.stdout);

    const refused = await s.cli(['logout']);
    timing(t, 'logout with the keychain locked', refused.ms);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.doesNotMatch(refused.stdout, /Signed out/);
    assert.match(refused.stderr, /^bedrock-bridge: Could not remove the sign-in tokens kept in the OS keychain \(.+\)\. Unlock it .* and run `bedrock-bridge logout` again\.$/m);
    assert.equal(s.idc.control.stats.logout, 0);

    // Unlocked again: the session was kept (as the failed logout said) and a logout now really ends it.
    await secretService.restartKeyring({ unlock: true });
    assert.equal((await secretService.find(service)).length, 3);
    const stillSignedIn = await s.cli(['status']);
    assert.equal(stillSignedIn.code, 0, stillSignedIn.stdout + stillSignedIn.stderr);
    const logout = await s.cli(['logout']);
    assert.equal(logout.code, 0, logout.stdout + logout.stderr);
    assert.equal(s.idc.control.stats.logout, 1, 'the session was ended at Identity Center');
    assert.deepEqual(await secretService.find(service), []);
  }));

/**
 * A keychain as the real Secret Service behaves (see the tests above): a locked one refuses to store,
 * to read or to delete an entry that is there; a missing entry reads as null and deletes as false.
 */
function lockableKeychain(initial: Record<string, string> = {}) {
  const store = new Map(Object.entries(initial));
  const state = { locked: false, refuse: new Set<string>() };
  const refused = () => new Error('Couldn\'t access platform storage: Secret Service: unlock prompt was dismissed');
  const backend: KeyringBackend = {
    entry: (service, account) => {
      const key = `${service}/${account}`;
      return {
        getPassword: async () => {
          if (state.locked && store.has(key)) throw refused();
          return store.get(key) ?? null;
        },
        setPassword: async (password) => {
          if (state.locked) throw refused();
          store.set(key, password);
        },
        deleteCredential: async () => {
          if ((state.locked || state.refuse.has(key)) && store.has(key)) throw refused();
          return store.delete(key);
        },
      };
    },
    // As loadNapiKeyring's: a search that fails (locked items) lists nothing.
    find: async (service) => (state.locked ? [] : [...store.keys()].filter((k) => k.startsWith(`${service}/`)).map((k) => ({ account: k.slice(service.length + 1) }))),
  };
  return { store, state, backend };
}

test('a keychain that answers but is locked: memory only with its own warning; clear() wipes memory, then throws rather than leave the keychain\'s session behind unsaid', async () => {
  const keychain = lockableKeychain({ 'svc/identity-center/refresh-token': 'an earlier session' });
  keychain.state.locked = true;
  const vault = await openKeyringVault({ backend: keychain.backend, service: 'svc' });
  assert.ok(vault instanceof UnusableKeyringVault && vault instanceof MemoryVault);
  assert.equal(vault.protection, 'memory-only');
  assert.equal(vault.warning, MEMORY_ONLY_WARNING_KEYRING_UNUSABLE);
  await vault.set('identity-center/access-token', 'in memory');
  assert.equal(await vault.get('identity-center/access-token'), 'in memory');
  assert.deepEqual([...keychain.store.keys()], ['svc/identity-center/refresh-token'], 'nothing written to the keychain');

  await assert.rejects(vault.clear(), (error: unknown) => {
    assert.ok(error instanceof VaultWipeError);
    assert.match(error.message, /^Could not remove the sign-in tokens kept in the OS keychain \(.*unlock prompt was dismissed\)\. Unlock it/);
    return true;
  });
  assert.equal(await vault.get('identity-center/access-token'), null, 'memory is wiped all the same');
  assert.equal(keychain.store.size, 1);
  keychain.state.locked = false;
  await vault.clear();
  assert.equal(keychain.store.size, 0, 'once unlocked, clear() removes the earlier session');

  // Locked but holding nothing of this scope (or a keychain with no collection): nothing to refuse.
  keychain.state.locked = true;
  await (await openKeyringVault({ backend: keychain.backend, service: 'svc' })).clear();

  // No keychain to talk to at all (no bus): a plain memory vault, the usual warning, a quiet clear().
  const unreachable = await openKeyringVault({
    backend: {
      entry: () => {
        throw new Error('Platform failure: DBus error: Failed to connect to socket /run/user/1000/bus');
      },
      find: async () => [],
    },
  });
  assert.equal(unreachable.constructor, MemoryVault);
  assert.equal(unreachable.warning, MEMORY_ONLY_WARNING_KEYRING);
  await unreachable.clear();
});

test('keychain vault: clear() deletes every other entry when one refuses, then throws VaultWipeError', async () => {
  const keychain = lockableKeychain();
  const vault = await openKeyringVault({ backend: keychain.backend, service: 'svc' });
  assert.ok(vault instanceof KeyringVault);
  for (const key of ['identity-center/client-secret', 'identity-center/access-token', 'identity-center/refresh-token']) await vault.set(key, `value of ${key}`);
  keychain.state.refuse.add('svc/identity-center/access-token');
  await assert.rejects(vault.clear(), VaultWipeError);
  assert.deepEqual([...keychain.store.keys()], ['svc/identity-center/access-token']);
  keychain.state.refuse.clear();
  await vault.clear();
  assert.equal(keychain.store.size, 0);
});
