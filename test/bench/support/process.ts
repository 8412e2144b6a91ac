import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { AwsCredentials } from './clients.ts';

/** What emulator-child.ts reports when it is listening. */
export interface EmulatorReady {
  type: 'ready';
  url: string;
  region: string;
  credentials: AwsCredentials;
}

/** What bridge-child.ts reports when it is listening. */
export interface BridgeReady {
  type: 'ready';
  url: string;
  apiKey: string;
}

/** A child process the bench started; measured through /proc/<pid>. */
export interface BenchChild<Ready> {
  name: string;
  pid: number;
  ready: Ready;
  child: ChildProcess;
  stop(): Promise<void>;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (utime/stime unit in /proc/<pid>/stat). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident memory of a live process, from /proc/<pid>/status, in MiB. */
export function memoryOf(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : Number.NaN;
  };
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/** User + system CPU time a process has used so far, in milliseconds. */
export function cpuTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** A port that was free a moment ago (for programs that cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts a TypeScript/JS module in a child Node process with an IPC channel and waits for
 * its first `{ type: 'ready', ... }` message. On stop it sends `{ type: 'stop' }` so the
 * child can close its servers and exit normally (which is what lets --cpu-prof write).
 */
export async function startIpcChild<Ready extends { type: 'ready' }>(
  name: string,
  modulePath: string,
  options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number; args?: string[] } = {},
): Promise<BenchChild<Ready>> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), modulePath, ...(options.args ?? [])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready`)), options.timeoutMs ?? 30_000);
    child.on('message', (message: { type?: string; message?: string }) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolve(message as Ready);
      } else if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${name}: ${message.message}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before ready (code ${code}, signal ${signal})`));
    });
  });
  return {
    name,
    pid: child.pid!,
    ready,
    child,
    async stop() {
      if (child.connected) child.send({ type: 'stop' });
      await waitForExit(child, 10_000);
    },
  };
}

/** Starts a plain program (no IPC) and polls `probeUrl` until it answers 2xx. */
export async function startPolledChild(
  name: string,
  args: string[],
  probeUrl: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<BenchChild<{ type: 'ready' }>> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 20_000) stderr += chunk;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (code ${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const response = await fetch(probeUrl, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer ${probeUrl}: ${stderr.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name,
    pid: child.pid!,
    ready: { type: 'ready' },
    child,
    async stop() {
      child.kill('SIGTERM');
      await waitForExit(child, 5_000);
    },
  };
}

/** Busy (non-idle) CPU time of the whole machine so far, in milliseconds, from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[5] ?? 0) + (fields[6] ?? 0) + (fields[7] ?? 0);
  return (busy * 1000) / ticksPerSecond();
}
