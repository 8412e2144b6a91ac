import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { DEFAULT_EMULATOR_CREDENTIALS } from '../../src/emulator/index.ts';

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
  // The developer's own keychain (the Secret Service is found through either) is no place for test sessions.
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.XDG_RUNTIME_DIR;
  delete env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  delete env.AWS_ENDPOINT_URL_BEDROCK;
  return env;
}

/**
 * A clean environment for `serve` signed in through Identity Center against the emulator at `emulatorUrl`:
 * no AWS credentials of the developer's shell, every AWS endpoint the sign-in uses pointed at the emulator.
 * `overrides` adds or replaces variables; a variable set to `undefined` there is removed.
 */
export function identityCenterServeEnv(home: string, emulatorUrl: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cleanEnv(home);
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_ENDPOINT_URL']) delete env[name];
  Object.assign(env, {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    AWS_ENDPOINT_URL_BEDROCK: emulatorUrl,
    AWS_ENDPOINT_URL_SSO_OIDC: emulatorUrl,
    AWS_ENDPOINT_URL_SSO: emulatorUrl,
    AWS_ENDPOINT_URL_STS: emulatorUrl,
    BROWSER: 'none',
    HOME: home,
  });
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** As identityCenterServeEnv, for `serve --auth env`: the emulator's key pair in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export function envAuthServeEnv(home: string, emulatorUrl: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return identityCenterServeEnv(home, emulatorUrl, {
    AWS_ACCESS_KEY_ID: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey,
    ...overrides,
  });
}

/** `POST /v1/chat/completions` on a started server, with `apiKey` as the Bearer key. */
export function postChat(baseURL: string, apiKey: string, body: unknown): Promise<Response> {
  return fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
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
