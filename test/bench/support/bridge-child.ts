/**
 * Bedrock Bridge's gateway in a process of its own (so its RSS and CPU are its own), started
 * by gateway.bench.ts with an IPC channel. Wired the way `serve` wires it: real SDK clients
 * pointed at the emulator, the default aliases, the default guards.
 *
 * Env: BENCH_EMULATOR_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN?;
 * BENCH_BRIDGE_HANDLER=h2-pooled | h1-keepalive builds the runtime client with another request
 * handler than the SDK default (experiments for the profiling notes; see docs/benchmark.md).
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DEFAULT_ALIASES } from '../../../src/core/model-catalog.ts';
import { createBedrockClients, startGateway } from '../../../src/server/index.ts';
import { parseHandlerName, requestHandlerOptions } from './handlers.ts';

const endpoint = process.env.BENCH_EMULATOR_URL;
const region = process.env.AWS_REGION ?? 'us-east-1';
if (!endpoint || !process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
  process.send?.({ type: 'error', message: 'BENCH_EMULATOR_URL and AWS credentials are required' });
  process.exit(2);
}
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
};

let runtime: BedrockRuntimeClient;
let control: BedrockClient;
let destroyClients: () => void;
const handler = parseHandlerName(process.env.BENCH_BRIDGE_HANDLER);
if (handler !== 'default') {
  runtime = new BedrockRuntimeClient({ region, credentials, endpoint, maxAttempts: 1, ...requestHandlerOptions(handler) });
  control = new BedrockClient({ region, credentials, endpoint });
  destroyClients = () => {
    runtime.destroy();
    control.destroy();
  };
} else {
  const clients = createBedrockClients({ region, credentials, runtimeEndpoint: endpoint, controlEndpoint: endpoint });
  runtime = clients.runtime;
  control = clients.control;
  destroyClients = () => clients.destroy();
}

const gateway = await startGateway({
  port: 0,
  region,
  runtime,
  control,
  models: { aliases: { ...DEFAULT_ALIASES }, defaultModel: null },
  onModelCatalogError: () => {},
});

process.send!({ type: 'ready', url: `http://127.0.0.1:${gateway.port}`, apiKey: gateway.apiKey });

const stop = async (): Promise<void> => {
  await gateway.close(1000);
  destroyClients();
  process.exit(0);
};
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
