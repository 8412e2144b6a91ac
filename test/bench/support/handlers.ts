import http from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * How a BedrockRuntimeClient talks to Bedrock, for experiments:
 * - `default`: whatever src/server/bedrock-clients.ts (createBedrockClients) builds, i.e. what
 *   `bedrock-bridge serve` uses (the caller builds that client; no options here);
 * - `sdk-default`: what the SDK builds on its own (NodeHttp2Handler with disableConcurrentStreams:
 *   true: a new HTTP/2 connection for every request);
 * - `h2-pooled`: NodeHttp2Handler with disableConcurrentStreams: false (passed as an options
 *   object, which NodeHttp2Handler.create() turns into a handler): non-streaming calls share one
 *   session; event streams still get a connection each;
 * - `h1-keepalive`: HTTP/1.1 with a keep-alive agent: sockets are reused for streams too.
 */
export type HandlerName = 'default' | 'sdk-default' | 'h2-pooled' | 'h1-keepalive';

export function parseHandlerName(value: string | undefined): HandlerName {
  if (value === undefined || value === '' || value === 'default') return 'default';
  if (value === 'sdk-default' || value === 'h2-pooled' || value === 'h1-keepalive') return value;
  throw new Error(`unknown request handler '${value}' (default, sdk-default, h2-pooled, h1-keepalive)`);
}

/** Extra BedrockRuntimeClient options for a handler choice other than `default`. */
export function requestHandlerOptions(
  name: Exclude<HandlerName, 'default'>,
): { requestHandler?: NodeHttpHandler | { disableConcurrentStreams: boolean } } {
  switch (name) {
    case 'sdk-default':
      return {};
    case 'h2-pooled':
      return { requestHandler: { disableConcurrentStreams: false } };
    case 'h1-keepalive':
      return { requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }) }) };
  }
}
