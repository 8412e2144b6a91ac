import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator, type IdentityCenterControl, type IdentityCenterEmulatorOptions } from '../../src/emulator/identity-center.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { IdentityCenterSource } from '../../src/credentials/identity-center.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { rawRequest, type RawResponse } from '../support/http.ts';

export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Mounts Hono apps on one plain HTTP/1.1 server on 127.0.0.1, port 0. */
export async function serveApps(apps: Hono[]): Promise<TestServer> {
  const root = new Hono();
  for (const app of apps) root.route('/', app);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: root.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

export interface SignedInIdentityCenter {
  /** Bedrock, STS, Identity Center (and any extra services) on one port, sharing `registry`. */
  emulator: RunningEmulator;
  registry: CredentialRegistry;
  idc: IdentityCenterControl;
  source: IdentityCenterSource;
  close(): Promise<void>;
}

/**
 * A real IdentityCenterSource signed in through the device flow against the emulators, approved as
 * `user` as soon as it shows the code (about one polling interval, 1 s). For tests that need a
 * signed-in session rather than the sign-in itself.
 */
export async function signedInIdentityCenter(
  options: { user: string; emulator?: IdentityCenterEmulatorOptions; services?: Hono[] },
): Promise<SignedInIdentityCenter> {
  const registry = new CredentialRegistry();
  const { routes, control: idc } = createIdentityCenterEmulator(registry, options.emulator);
  const emulator = await startEmulator({ registry, services: [routes, createStsEmulator(registry), ...(options.services ?? [])] });
  const source = new IdentityCenterSource({
    settings: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', oidcEndpoint: emulator.url, portalEndpoint: emulator.url, stsEndpoint: emulator.url },
    vault: new MemoryVault(),
    ui: { prompt: (p) => idc.approve(p.userCode, options.user) },
  });
  const close = async () => {
    source.destroy();
    await emulator.close();
  };
  try {
    await source.signIn();
  } catch (error) {
    await close();
    throw error;
  }
  return { emulator, registry, idc, source, close };
}

/**
 * The gateway (startTestBridge) signing with a signed-in Identity Center session's credentials
 * (signedInIdentityCenter, role credentials living `credentialTtlMs`); both closed after `body`.
 */
export async function withSignedInBridge(
  user: string,
  credentialTtlMs: number,
  body: (t: SignedInIdentityCenter, bridge: TestBridge) => Promise<void>,
): Promise<void> {
  const t = await signedInIdentityCenter({ user, emulator: { credentialTtlMs } });
  try {
    const bridge = await startTestBridge({ upstream: { emulator: t.emulator, credentials: t.source.credentials } });
    try {
      await body(t, bridge);
    } finally {
      await bridge.close();
    }
  } finally {
    await t.close();
  }
}

/** A chat model of the emulator. */
export const CHAT_MODEL = 'amazon.nova-micro-v1:0';

/** POST /v1/chat/completions with one user message, over HTTP/1.1. */
export function chat(bridge: TestBridge, content: string, stream = false): Promise<RawResponse> {
  return rawRequest({
    port: bridge.port,
    method: 'POST',
    path: '/v1/chat/completions',
    headers: bridge.headers(),
    body: JSON.stringify({ model: CHAT_MODEL, stream, messages: [{ role: 'user', content }] }),
  });
}
