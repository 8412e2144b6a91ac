import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridgeApp, type BridgeAppHandle } from '../../src/app/bridge-app.ts';
import type { BridgeAppOptions } from '../../src/app/types.ts';
import { rawRequest, type RawResponse } from '../support/http.ts';

export interface AppUnderTest {
  app: BridgeAppHandle;
  dataDirectory: string;
  log: string[];
  close(): Promise<void>;
}

/** A fresh data directory for one test, removed by close(). */
export function tempDataDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The app core on port 0 with its notices collected; `serve --emulator` unless options say otherwise. */
export async function startApp(options: Partial<BridgeAppOptions> & { dataDirectory: string }): Promise<AppUnderTest> {
  const log: string[] = [];
  const app = createBridgeApp({ emulator: true, overrides: { port: 0 }, env: {}, log: (line) => log.push(line), ...options });
  await app.start();
  return {
    app,
    dataDirectory: options.dataDirectory,
    log,
    close: () => app.stop({ graceMs: 0 }),
  };
}

/** The port of a running app. */
export function portOf(app: BridgeAppHandle): number {
  const port = app.gateway?.port;
  if (port === undefined) throw new Error(`not serving: ${app.state.message}`);
  return port;
}

/** Exchanges a one-time link for the UI cookie, as a browser following serve's link does. Returns `bb_ui=...`. */
export async function uiCookieFrom(app: BridgeAppHandle): Promise<string> {
  const link = new URL(app.uiLink()!);
  const answer = await rawRequest({ port: Number(link.port), path: `${link.pathname}${link.search}` });
  const setCookie = answer.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0];
  if (answer.status !== 303 || !cookie) throw new Error(`token exchange answered ${answer.status}`);
  return cookie;
}

/** A control API call as the window makes it: cookie, own Origin, the CSRF header on writes. */
export function controlCall(
  app: BridgeAppHandle,
  cookie: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const port = portOf(app);
  const write = method !== 'GET';
  return rawRequest({
    port,
    method,
    path: `/control/v1${path}`,
    headers: {
      cookie,
      ...(write ? { origin: `http://127.0.0.1:${port}`, 'x-bedrock-bridge': '1', 'sec-fetch-site': 'same-origin' } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/**
 * A data directory set up as `bedrock-bridge login` leaves it for Identity Center (sign-in.json, tokens in
 * memory only), with Bedrock at `endpoints.bedrock`: the settings a test app starts with.
 */
export function identityCenterHome(home: string, endpoints: { identityCenter: string; sts: string; bedrock: string }): void {
  writeFileSync(
    join(home, 'sign-in.json'),
    JSON.stringify({
      source: 'identity-center',
      identityCenter: {
        startUrl: 'https://example.awsapps.com/start',
        region: 'us-east-1',
        accountId: '111122223333',
        roleName: 'BedrockUser',
        oidcEndpoint: endpoints.identityCenter,
        portalEndpoint: endpoints.identityCenter,
        stsEndpoint: endpoints.sts,
      },
      memoryOnlyVault: true,
    }),
  );
  writeFileSync(join(home, 'settings.json'), JSON.stringify({ port: 0, endpoints: { bedrockRuntime: endpoints.bedrock, bedrock: endpoints.bedrock } }));
}

/** One small chat request with the app's own URL and key; the status and OpenAI error code. */
export async function chatThrough(app: BridgeAppHandle, model = 'amazon.nova-micro-v1:0'): Promise<{ status: number; code: string | null; modelId: string | null }> {
  const { baseUrl, apiKey } = app.connection()!;
  const answer = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...(model ? { model } : {}), messages: [{ role: 'user', content: 'hello' }] }),
  });
  const body = (await answer.json()) as { error?: { code?: string }; model?: string };
  return { status: answer.status, code: body.error?.code ?? null, modelId: body.model ?? null };
}
