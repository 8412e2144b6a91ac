/**
 * Starts the real gateway in-process against the wire-level Bedrock emulator, for tests and the
 * benchmark: `const bridge = await startTestBridge(); ... await bridge.close();`
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator } from '../../src/emulator/index.ts';
import type { RequestFinishedEvent } from '../../src/core/request-events.ts';
import { modelMappingOf } from '../../src/core/settings.ts';
import { createBedrockClients, type BedrockClients } from '../../src/server/bedrock-clients.ts';
import { startGateway, type RunningGateway, type StartGatewayOptions } from '../../src/server/gateway.ts';

export const TEST_API_KEY = 'test-key-0123456789abcdef';
export const TEST_REGION = 'us-east-1';

export type TestEmulator = Awaited<ReturnType<typeof startEmulator>>;

export interface TestBridgeOptions {
  /** Extra aliases over the built-in ones. */
  models?: Record<string, string>;
  defaultModel?: string;
  allowedOrigins?: string[];
  bodyLimitBytes?: number;
  apiKey?: string;
  /** Passed to startEmulator. */
  emulator?: Parameters<typeof startEmulator>[0];
  /**
   * Bedrock is this running emulator instead of a new one, signed with these credentials (a credential
   * source's provider). Its owner closes it; the bridge's close() does not.
   */
  upstream?: { emulator: TestEmulator; credentials: AwsCredentialIdentityProvider };
  /** Anything else startGateway takes. */
  gateway?: Partial<StartGatewayOptions>;
}

export interface TestBridge {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseURL: string;
  /** e.g. http://127.0.0.1:PORT (no /v1) */
  origin: string;
  port: number;
  apiKey: string;
  emulator: TestEmulator;
  gateway: RunningGateway;
  clients: BedrockClients;
  /** Every request-finished event so far, in order. */
  events: RequestFinishedEvent[];
  /** Resolves with the first request-finished event emitted after this call. */
  nextEvent(): Promise<RequestFinishedEvent>;
  /** Authorization + JSON headers for fetch. */
  headers(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const emulator = options.upstream?.emulator ?? (await startEmulator({ port: 0, host: '127.0.0.1', region: TEST_REGION, ...options.emulator }));
  const clients = createBedrockClients({
    region: TEST_REGION,
    credentials: options.upstream?.credentials ?? { accessKeyId: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, secretAccessKey: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey },
    runtimeEndpoint: emulator.url,
    controlEndpoint: emulator.url,
  });
  const apiKey = options.apiKey ?? TEST_API_KEY;
  const gateway = await startGateway({
    port: 0,
    host: '127.0.0.1',
    apiKey,
    region: TEST_REGION,
    models: modelMappingOf({ models: options.models ?? {}, defaultModel: options.defaultModel }),
    allowedOrigins: options.allowedOrigins ?? [],
    runtime: clients.runtime,
    control: clients.control,
    onModelCatalogError: () => {},
    ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...options.gateway,
  });
  const events: RequestFinishedEvent[] = [];
  let waiters: ((event: RequestFinishedEvent) => void)[] = [];
  gateway.events.on('request-finished', (event) => {
    events.push(event);
    const ready = waiters;
    waiters = [];
    for (const waiter of ready) waiter(event);
  });
  return {
    baseURL: gateway.url,
    origin: gateway.url.replace(/\/v1$/, ''),
    port: gateway.port,
    apiKey,
    emulator,
    gateway,
    clients,
    events,
    nextEvent() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    headers(extra = {}) {
      return { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...extra };
    },
    async close() {
      await gateway.close(1000);
      clients.destroy();
      if (!options.upstream) await emulator.close();
    },
  };
}
