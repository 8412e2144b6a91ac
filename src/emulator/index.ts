import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { awsError } from './aws-errors.ts';
import { createBedrockApp, type NodeBindings } from './bedrock-app.ts';
import { ModelCatalog } from './catalog.ts';
import { CredentialRegistry } from './credential-registry.ts';
import { listenDualProtocol } from './listener.ts';
import { RequestRecorder } from './recorder.ts';

export { CredentialRegistry } from './credential-registry.ts';
export type { IssuedCredentials, KnownCredentials } from './credential-registry.ts';
export { RequestRecorder, type RecordedRequest, type EmulatorOperation } from './recorder.ts';
export { ModelCatalog, EMULATED_MODELS, EMULATOR_ACCOUNT_ID, APPLICATION_PROFILE_ID, type EmulatedModel, type InferenceProfileSummary } from './catalog.ts';
export { verifySigV4Request, parseSigV4Authorization, type SigV4RequestParts, type SigV4Result, type SigV4VerifyOptions, type SigV4FailureReason } from './sigv4.ts';
export { awsError, EmulatedAwsError, BEDROCK_ERROR_STATUS, type AwsErrorSpec, type AwsErrorResponse } from './aws-errors.ts';
export { listenDualProtocol, type DualProtocolServer } from './listener.ts';
export { countWords, type EmulatedUsage } from './scripted-model.ts';
export { deterministicVector } from './embeddings.ts';
export { encodeEvent, encodeException, encodeFrame, encodeStringHeaders } from './eventstream.ts';

/**
 * A fixed, obviously fake key pair for `serve --emulator` and tests. Registered by startEmulator. Not in
 * the AKIA… shape of a real IAM user key, so secret scanners have nothing to flag.
 */
export const DEFAULT_EMULATOR_CREDENTIALS: { accessKeyId: string; secretAccessKey: string } = {
  accessKeyId: 'EMULATORACCESSKEY000',
  secretAccessKey: 'emulator/secret/key/not/a/real/aws/secret0',
};

/** A Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) the emulator accepts. Registered by startEmulator. */
export const DEFAULT_EMULATOR_BEARER_TOKEN = 'bedrock-api-key-emulator-not-a-real-key';

export interface EmulatorOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Region of ARNs and inference profiles; default us-east-1. */
  region?: string;
  /** Shared with other emulated services; a new one by default. */
  registry?: CredentialRegistry;
  /** Extra emulated services (Identity Center, STS, org gateway) mounted on the same port, after Bedrock's routes. */
  services?: Hono<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** How many requests the recorder keeps (default 1000). */
  recorderLimit?: number;
  /**
   * Most inference profiles per ListInferenceProfiles page (default 1000, the API's cap), whatever the
   * client's `maxResults`: a small value makes a client that asks for everything follow `nextToken`.
   */
  profilePageSize?: number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:43121 — use as the SDK's `endpoint` (runtime and control plane alike). */
  url: string;
  port: number;
  region: string;
  registry: CredentialRegistry;
  recorder: RequestRecorder;
  catalog: ModelCatalog;
  close(): Promise<void>;
}

/** Starts the emulator (HTTP/2 cleartext and HTTP/1.1 on one port) and registers the default credentials. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const registry = options.registry ?? new CredentialRegistry();
  registry.add({
    ...DEFAULT_EMULATOR_CREDENTIALS,
    user: 'emulator',
    assumedRoleArn: 'arn:aws:iam::111122223333:user/emulator',
  });
  registry.addBearerToken(DEFAULT_EMULATOR_BEARER_TOKEN);
  const recorder = new RequestRecorder(options.recorderLimit ?? 1000);
  const catalog = new ModelCatalog(region);

  const app = new Hono<NodeBindings>();
  const { profilePageSize } = options;
  if (profilePageSize !== undefined && !(Number.isInteger(profilePageSize) && profilePageSize >= 1)) {
    throw new RangeError(`profilePageSize must be a positive integer, got ${profilePageSize}`);
  }
  app.route('/', createBedrockApp({ registry, recorder, catalog, profilePageSize }));
  for (const service of options.services ?? []) app.route('/', service);
  app.notFound((c) => {
    const err = awsError({ type: 'UnknownOperationException', message: `No operation matches ${c.req.method} ${c.req.path}`, status: 404 });
    return new Response(err.body, { status: err.status, headers: err.headers });
  });
  app.onError((error) => {
    const err = awsError({ type: 'InternalServerException', message: `Emulator error: ${error.message}` });
    return new Response(err.body, { status: err.status, headers: err.headers });
  });

  const server = await listenDualProtocol(getRequestListener(app.fetch), { host, port: options.port ?? 0 });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${server.port}`,
    port: server.port,
    region,
    registry,
    recorder,
    catalog,
    close: () => server.close(),
  };
}
