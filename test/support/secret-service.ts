/**
 * A real, private Linux Secret Service for tests: a D-Bus session bus of its own (dbus-daemon) and
 * gnome-keyring-daemon's secrets component on it, with HOME and the XDG directories in a temp dir, so the
 * real user's keyring and session bus are never touched. Child processes given `env` see it as their
 * session's Secret Service, which is what `@napi-rs/keyring` (and so the headless vault) uses.
 *
 * The bus has no service directories: nothing is D-Bus-activated (no second keyring daemon, no prompter,
 * no dconf), so what answers is exactly what the test started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { runNodeScript } from './cli-process.ts';

const CLIENT = new URL('./secret-service-client.ts', import.meta.url).pathname;
const DAEMONS = ['dbus-daemon', 'gnome-keyring-daemon'] as const;
/** The keyring password given to gnome-keyring-daemon --unlock (the collection is created with it). */
const KEYRING_PASSWORD = 'bedrock-bridge-test-keyring';

/** Why a real Secret Service cannot be started here (not Linux, a daemon not installed), or null if it can. */
export function secretServiceUnavailable(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux') return `the Secret Service is Linux only (this is ${process.platform})`;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const missing = DAEMONS.filter((name) => !dirs.some((dir) => isExecutable(join(dir, name))));
  if (missing.length === 0) return null;
  return `${missing.join(' and ')} not found on PATH (Debian/Ubuntu: apt-get install --no-install-recommends gnome-keyring dbus-daemon)`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * How a test treats a missing Secret Service: `skip` is the reason to skip (false to run). With
 * REQUIRE_SECRET_SERVICE=1 (CI) it never skips: the test runs and fails with `unavailable` as the reason.
 */
export function secretServiceRequirement(env: NodeJS.ProcessEnv = process.env): { skip: string | false; unavailable: string | null } {
  const unavailable = secretServiceUnavailable(env);
  const required = env.REQUIRE_SECRET_SERVICE === '1';
  return { skip: unavailable && !required ? `no real Secret Service: ${unavailable} (set REQUIRE_SECRET_SERVICE=1 to fail instead)` : false, unavailable };
}

export interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The parsed JSON the client printed (undefined if it failed). */
  value: unknown;
}

/** Runs ./secret-service-client.ts OP ARG in a child process with `env` (its own D-Bus connection). */
export async function runSecretServiceClient(env: NodeJS.ProcessEnv, op: 'ready' | 'find' | 'open-vault', arg: string, timeoutMs = 30_000): Promise<ClientResult> {
  const run = await runNodeScript(CLIENT, [op, arg], env, { timeoutMs });
  let value: unknown;
  try {
    value = run.code === 0 ? JSON.parse(run.stdout) : undefined;
  } catch {
    value = undefined;
  }
  return { ...run, value };
}

export interface StartedSecretService {
  /** What a child process needs to use this Secret Service (add it to its environment). */
  readonly env: { DBUS_SESSION_BUS_ADDRESS: string; XDG_RUNTIME_DIR: string };
  /** gnome-keyring's storage (`$XDG_DATA_HOME/keyrings`): the encrypted keyring files. */
  readonly storageDir: string;
  /** How long the keyring took to answer a probe entry after it was started. */
  readonly readyMs: number;
  /** Every entry under `service`, read in a fresh process. */
  find(service: string): Promise<Array<{ account: string; password: string }>>;
  /** gnome-keyring-daemon's output so far (for failure messages). */
  output(): string;
  /** Stops the keyring daemon, keeping the bus and the keyring files (see `restartKeyring`). */
  stopKeyring(): Promise<void>;
  /** Starts gnome-keyring-daemon again on the same bus and files; `unlock: false` leaves its collection locked. */
  restartKeyring(options: { unlock: boolean }): Promise<void>;
  /** Stops both daemons (their process groups); the temp dir is the caller's. */
  stop(): Promise<void>;
}

export interface StartSecretServiceOptions {
  /**
   * Start gnome-keyring-daemon with --unlock (default): it creates and unlocks a `login` collection, as a
   * desktop session's PAM module does. Without it there is no usable collection (a headless login).
   */
  unlock?: boolean;
  /** Start only the bus, no Secret Service on it. */
  busOnly?: boolean;
  readyTimeoutMs?: number;
}

interface Daemon {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort if the test process exits without stop(): no daemon outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function startDaemon(command: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Daemon {
  // A process group of its own (detached), so stopping it takes anything it started with it.
  const child = spawn(command, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  installExitHook();
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdin!.on('error', () => {});
  child.stdin!.end(stdin ?? '');
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      output += `\n${command}: ${error.message}`;
      resolve();
    });
    child.once('exit', () => resolve());
  });
  void exited.then(() => running.delete(child));
  return { child, exited, output: () => output };
}

async function stopDaemon(daemon: Daemon | null): Promise<void> {
  if (!daemon) return;
  killGroup(daemon.child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(daemon.child, 'SIGKILL'), 3_000);
  await daemon.exited;
  clearTimeout(timer);
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A session bus that only routes messages: no service activation, every name ownable (it is ours alone). */
function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=${xmlEscape(socket)}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/** Resolves with the first line `daemon` prints on stdout (dbus-daemon's address), or rejects if it exits first. */
function firstLine(daemon: Daemon, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within ${timeoutMs} ms:\n${daemon.output()}`)), timeoutMs);
    let stdout = '';
    daemon.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, newline).trim());
      }
    });
    void daemon.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited (${daemon.child.exitCode ?? daemon.child.signalCode}):\n${daemon.output()}`));
    });
  });
}

/**
 * Starts the private bus and (unless `busOnly`) gnome-keyring-daemon on it, under `root` (an empty temp
 * dir), and waits until the Secret Service answers. Call `stop()` when done, also on failure.
 */
export async function startSecretService(root: string, options: StartSecretServiceOptions = {}): Promise<StartedSecretService> {
  const unavailable = secretServiceUnavailable();
  if (unavailable) throw new Error(`cannot start a Secret Service: ${unavailable}`);
  const home = join(root, 'home');
  const runtimeDir = join(root, 'run');
  const dataHome = join(root, 'data');
  const configHome = join(root, 'config');
  for (const dir of [home, runtimeDir, dataHome, configHome]) await mkdir(dir, { recursive: true });
  await chmod(runtimeDir, 0o700);
  const socket = join(runtimeDir, 'bus');
  const configFile = join(root, 'session-bus.conf');
  await writeFile(configFile, busConfig(socket));

  // Nothing from the developer's session: no DISPLAY (no GUI prompts), no session bus, no real HOME.
  const daemonEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_DATA_HOME: dataHome,
    XDG_CONFIG_HOME: configHome,
    XDG_RUNTIME_DIR: runtimeDir,
  };
  const bus = startDaemon('dbus-daemon', [`--config-file=${configFile}`, '--nofork', '--nopidfile', '--print-address=1'], daemonEnv);
  let keyring: Daemon | null = null;
  const stop = async () => {
    await stopDaemon(keyring);
    keyring = null;
    await stopDaemon(bus);
  };
  try {
    const address = await firstLine(bus, 10_000);
    daemonEnv.DBUS_SESSION_BUS_ADDRESS = address;
    const env = { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtimeDir };
    const clientEnv: NodeJS.ProcessEnv = { ...daemonEnv, ...env };
    const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;

    const startKeyring = async (unlock: boolean): Promise<number> => {
      const args = ['--foreground', '--components=secrets', ...(unlock ? ['--unlock'] : [])];
      keyring = startDaemon('gnome-keyring-daemon', args, daemonEnv, unlock ? KEYRING_PASSWORD : undefined);
      if (!unlock) {
        // Nothing can be stored without an unlocked collection, so the readiness probe cannot be used;
        // wait for the daemon to own its name (a search answers) instead.
        const started = performance.now();
        while (performance.now() - started < readyTimeoutMs) {
          const found = await runSecretServiceClient(clientEnv, 'find', 'bedrock-bridge-test-readiness');
          if (found.code === 0) return Math.round(performance.now() - started);
          if (keyring.child.exitCode !== null) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`gnome-keyring-daemon did not answer within ${readyTimeoutMs} ms:\n${keyring.output()}`);
      }
      const ready = await runSecretServiceClient(clientEnv, 'ready', String(readyTimeoutMs), readyTimeoutMs + 15_000);
      const value = ready.value as { ok: boolean; ms: number; error?: string } | undefined;
      if (!value?.ok) {
        throw new Error(`the Secret Service did not store a probe entry: ${value?.error ?? ready.stderr}\ngnome-keyring-daemon:\n${keyring.output()}`);
      }
      return value.ms;
    };

    const readyMs = options.busOnly ? 0 : await startKeyring(options.unlock ?? true);
    return {
      env,
      storageDir: join(dataHome, 'keyrings'),
      readyMs,
      async find(service) {
        const result = await runSecretServiceClient(clientEnv, 'find', service);
        if (result.code !== 0) throw new Error(`listing "${service}" in the Secret Service failed: ${result.stderr}`);
        return result.value as Array<{ account: string; password: string }>;
      },
      output: () => `${bus.output()}${keyring?.output() ?? ''}`,
      async stopKeyring() {
        await stopDaemon(keyring);
        keyring = null;
      },
      async restartKeyring({ unlock }) {
        await stopDaemon(keyring);
        await startKeyring(unlock);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every regular file under `dir` (recursively); [] if it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
