import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** The CLI entry, run from source as `node src/cli/main.ts`. */
export const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface Started {
  child: ChildProcessWithoutNullStreams;
  baseURL: string;
  apiKey: string;
  output: () => string;
  exit: Promise<number | null>;
}

/** This process's environment with its own data directory and none of the settings a developer's shell may carry. */
export function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BEDROCK_BRIDGE_HOME: home };
  delete env.BEDROCK_BRIDGE_API_KEY;
  delete env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  delete env.AWS_ENDPOINT_URL_BEDROCK;
  return env;
}

/** Spawns `bedrock-bridge serve ARGS` and resolves once it has printed its base URL and key. */
export function startServe(args: string[], env: NodeJS.ProcessEnv, readyWithinMs = 20_000): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in time:\n${stdout}\n${stderr}`)), readyWithinMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /Base URL:\s+(http:\/\/\S+\/v1)/.exec(stdout);
      const key = /API key:\s+(\S+)/.exec(stdout);
      if (url && key && stdout.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve({ child, baseURL: url[1]!, apiKey: key[1]!, output: () => stdout + stderr, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited early with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}
