import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { retryOnRefusedCredentials } from './credential-retry.ts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Endpoint } from '@smithy/types';

export interface BedrockClientsOptions {
  region: string;
  /** A provider (refreshed by the SDK before expiry) or static credentials; omit for the SDK's default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Endpoint overrides. When absent the SDK resolves the endpoint itself, which honours
   * AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK (and AWS_ENDPOINT_URL).
   */
  runtimeEndpoint?: string;
  controlEndpoint?: string;
  /** SDK attempts per call (default 1: throttling goes straight to the client, which retries itself). */
  maxAttempts?: number;
  /**
   * Runtime transport. `pooled` (default): requests share HTTP/2 sessions, up to
   * `maxConcurrentStreams` streams each. `sdk-default`: the SDK's own choice for Bedrock runtime,
   * which opens a new connection (TCP + TLS handshake) for every request.
   */
  http2?: 'pooled' | 'sdk-default';
  /** Streams per pooled HTTP/2 session before another session is opened (default 100). */
  maxConcurrentStreams?: number;
}

export interface BedrockClients {
  runtime: BedrockRuntimeClient;
  control: BedrockClient;
  destroy(): void;
}

/**
 * An endpoint override, parsed once. Given as a string, the SDK parses it again (`new URL`) on every
 * call; an endpoint object is used as is.
 */
export function parsedEndpoint(url: string): Endpoint {
  const parsed = new URL(url);
  const query: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams) query[name] = value;
  return {
    protocol: parsed.protocol,
    hostname: parsed.hostname,
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    path: parsed.pathname,
    ...(parsed.search ? { query } : {}),
  };
}

/**
 * Builds the two clients once per server. The runtime client speaks HTTP/2 and keeps its session
 * open between requests; reusing it is most of the latency budget.
 */
export function createBedrockClients(options: BedrockClientsOptions): BedrockClients {
  const common = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 1,
    // SigV4 with the user's credentials, always. The SDK otherwise prefers a Bearer token whenever
    // AWS_BEARER_TOKEN_BEDROCK is set, and clients of the Bedrock-native routes set it to the bridge's
    // local key: a bridge started from the same shell would send that key to Bedrock.
    authSchemePreference: ['sigv4'],
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const runtime = new BedrockRuntimeClient({
    ...common,
    ...(options.runtimeEndpoint ? { endpoint: parsedEndpoint(options.runtimeEndpoint) } : {}),
    // The SDK's default for this client is disableConcurrentStreams: true, a new connection per
    // request. Pooling keeps the HTTP/2 session (and its TLS handshake) between requests.
    ...(options.http2 === 'sdk-default'
      ? {}
      : { requestHandler: { disableConcurrentStreams: false, maxConcurrentStreams: options.maxConcurrentStreams ?? 100 } }),
  });
  const control = new BedrockClient({
    ...common,
    // The catalog is not on the hot path; let the SDK retry it.
    maxAttempts: Math.max(3, common.maxAttempts),
    // The runtime client's memoized provider rather than a second SDK cache around ours: credentials
    // renewed after Bedrock refused them (credential-retry.ts) then sign catalog reads too.
    ...(options.credentials ? { credentials: runtime.config.credentials } : {}),
    ...(options.controlEndpoint ? { endpoint: options.controlEndpoint } : {}),
  });
  retryOnRefusedCredentials(runtime);
  retryOnRefusedCredentials(control);
  return {
    runtime,
    control,
    destroy() {
      runtime.destroy();
      control.destroy();
    },
  };
}
