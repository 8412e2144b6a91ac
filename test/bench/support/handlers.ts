import http from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * How a BedrockRuntimeClient talks to Bedrock, for experiments:
 * - `default`: what the SDK builds (NodeHttp2Handler with disableConcurrentStreams: true, i.e. a
 *   new HTTP/2 connection for every request, and always one per event stream);
 * - `h2-pooled`: NodeHttp2Handler with disableConcurrentStreams: false (passed as an options
 *   object, which NodeHttp2Handler.create() turns into a handler): non-streaming calls share one
 *   session; event streams still get a connection each;
 * - `h1-keepalive`: HTTP/1.1 with a keep-alive agent: sockets are reused for streams too.
 */
export type HandlerName = 'default' | 'h2-pooled' | 'h1-keepalive';

export function parseHandlerName(value: string | undefined): HandlerName {
  if (value === undefined || value === '' || value === 'default') return 'default';
  if (value === 'h2-pooled' || value === 'h1-keepalive') return value;
  throw new Error(`unknown request handler '${value}' (default, h2-pooled, h1-keepalive)`);
}

/** Extra BedrockRuntimeClient options for a handler choice. */
export function requestHandlerOptions(name: HandlerName): { requestHandler?: NodeHttpHandler | { disableConcurrentStreams: boolean } } {
  switch (name) {
    case 'default':
      return {};
    case 'h2-pooled':
      return { requestHandler: { disableConcurrentStreams: false } };
    case 'h1-keepalive':
      return { requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }) }) };
  }
}
