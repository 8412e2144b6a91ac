import { spawn } from 'node:child_process';
import { MAIN } from './serve-process.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Node options before the script, e.g. `['--import', hooks]`. */
  nodeArgs?: string[];
  /** Sees all of stderr so far whenever more arrives (to answer a sign-in prompt). */
  onStderr?: (stderr: string) => void;
  timeoutMs?: number;
}

/** Runs `node [nodeArgs] SCRIPT ARGS` to its exit (killed after `timeoutMs`), collecting its output. */
export function runNodeScript(script: string, args: string[], env: NodeJS.ProcessEnv, options: RunCliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onStderr?.(stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `bedrock-bridge ARGS` from source to its exit (killed after `timeoutMs`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, options: RunCliOptions = {}): Promise<CliRun> {
  return runNodeScript(MAIN, args, env, options);
}
