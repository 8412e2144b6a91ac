import type { HttpRequest, HttpResponse, MiddlewareStack } from '@smithy/types';
import { CREDENTIAL_REJECTIONS } from './credential-retry.ts';

/** What a relayed command resolves to: Bedrock's HTTP response, its body not read yet. */
export interface RawOutput {
  $metadata: { httpStatusCode: number };
  response: HttpResponse;
}

/** A command of the runtime client, as far as relayRaw needs it. */
export interface RelayedCommand {
  middlewareStack: MiddlewareStack<any, any>;
}

/** A request header the client set that Bedrock reads: the body's media types and the operation's options. */
export function isRelayedRequestHeader(name: string): boolean {
  return name === 'content-type' || name === 'accept' || name.startsWith('x-amzn-bedrock-');
}

/** The exception name of an AWS error response (`x-amzn-errortype: Name:namespace`), or ''. */
export function awsErrorTypeOf(headers: Record<string, string | undefined>): string {
  const value = headers['x-amzn-errortype'] ?? '';
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

/** The whole body of a raw response (a Node stream, or nothing). */
export async function readRawBody(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Makes a Bedrock Runtime command carry the client's own request body and headers, and resolve to
 * Bedrock's raw HTTP response: the SDK still resolves the endpoint, builds the path from the model id,
 * signs with the user's credentials, sends on the pooled HTTP/2 session and retries a credential
 * rejection (credential-retry.ts), but neither serialises a body of its own nor parses the answer.
 *
 * - The body replaces the serialised one ahead of the content-length middleware, which sizes it;
 *   `headers` (lower-case names) replace the serialiser's of the same name.
 * - The deserializer is replaced (same name, `override`) for this command only. Any status comes
 *   back as output, so errors reach the client as Bedrock sent them; only a credential rejection is
 *   thrown, by its AWS name, for the retry to see.
 */
export function relayRaw(command: RelayedCommand, body: Uint8Array, headers: Readonly<Record<string, string>>): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as HttpRequest;
      // The client's headers win over the serialiser's (which keeps those the client left out).
      for (const name of Object.keys(request.headers)) {
        const lower = name.toLowerCase();
        if (lower === 'content-length' || Object.hasOwn(headers, lower)) delete request.headers[name];
      }
      Object.assign(request.headers, headers);
      request.body = body;
      return next(args);
    },
    { step: 'build', priority: 'high', name: 'bedrockBridgeRawRequest' },
  );
  command.middlewareStack.add(
    (next) => async (args) => {
      const { response } = (await next(args)) as { response: HttpResponse };
      const type = response.statusCode >= 400 ? awsErrorTypeOf(response.headers) : '';
      if (CREDENTIAL_REJECTIONS.has(type)) {
        const text = (await readRawBody(response.body)).toString('utf8');
        let message = type;
        try {
          message = (JSON.parse(text) as { message?: string; Message?: string }).message ?? message;
        } catch {
          // not JSON: the type alone says it
        }
        throw Object.assign(new Error(message), { name: type, $metadata: { httpStatusCode: response.statusCode }, $response: response });
      }
      const output: RawOutput = { $metadata: { httpStatusCode: response.statusCode }, response };
      return { response, output };
    },
    { step: 'deserialize', name: 'deserializerMiddleware', tags: ['DESERIALIZER'], override: true },
  );
}
