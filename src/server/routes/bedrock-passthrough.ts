import {
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClient,
} from '@aws-sdk/client-bedrock-runtime';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { HttpHandlerOptions, HttpResponse } from '@smithy/types';
import type { Context } from 'hono';
import { converseBodyUsage, EventStreamUsage } from '../../core/bedrock-native-usage.ts';
import { baseModelId, type ModelMapping } from '../../core/model-catalog.ts';
import { fromBedrockError } from '../../core/openai-errors.ts';
import { BEDROCK_NATIVE_OPERATIONS, type BedrockNativeOperation, type TokenUsage } from '../../core/request-events.ts';
import { dialectErrorResponse } from '../dialect.ts';
import { drained, type DrainableResponse } from '../drain.ts';
import { awsErrorTypeOf, isRelayedRequestHeader, readRawBody, relayRaw, type RawOutput, type RelayedCommand } from '../raw-relay.ts';
import type { RequestLog, RequestLogVariables } from '../request-log.ts';
import { CLIENT_CLOSED, streamErrorType } from '../converse-sse.ts';
import { resolveRequestModel, type EffectiveModelOf } from './model-resolution.ts';
import { tokenCountHeader } from './raw-response.ts';

export interface PassthroughDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  effectiveModelOf: EffectiveModelOf;
}

type RuntimeCommand = new (input: { modelId: string }) => RelayedCommand;

const COMMANDS: Record<BedrockNativeOperation, RuntimeCommand> = {
  invoke: InvokeModelCommand,
  'invoke-with-response-stream': InvokeModelWithResponseStreamCommand,
  converse: ConverseCommand,
  'converse-stream': ConverseStreamCommand,
  'count-tokens': CountTokensCommand as unknown as RuntimeCommand,
};

const STREAMED = new Set<BedrockNativeOperation>(['invoke-with-response-stream', 'converse-stream']);

/** Response headers Bedrock sets that a client reads: the body's type, request id, token counts, retry-after. */
function isRelayedResponseHeader(name: string): boolean {
  return name === 'content-type' || name === 'retry-after' || name === 'x-amzn-errortype' || name === 'x-amzn-requestid' || name.startsWith('x-amzn-bedrock-');
}

function relayedResponseHeaders(response: HttpResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && isRelayedResponseHeader(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  return headers;
}

/** InvokeModel's counts, in its response headers. */
function invokeHeaderUsage(response: HttpResponse): TokenUsage {
  return {
    inputTokens: tokenCountHeader(response, 'x-amzn-bedrock-input-token-count') ?? 0,
    outputTokens: tokenCountHeader(response, 'x-amzn-bedrock-output-token-count') ?? 0,
    cacheReadTokens: tokenCountHeader(response, 'x-amzn-bedrock-cache-read-input-token-count') ?? 0,
    cacheWriteTokens: tokenCountHeader(response, 'x-amzn-bedrock-cache-write-input-token-count') ?? 0,
  };
}

/** The part of ServerResponse and Http2ServerResponse the relay writes to. */
interface NodeResponse extends DrainableResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
  destroyed: boolean;
  writableEnded: boolean;
}

interface UpstreamBody extends AsyncIterable<Uint8Array> {
  destroy?(error?: Error): void;
}

/**
 * Writes Bedrock's event stream to the client chunk by chunk, as it arrives and as it is: the usage
 * reader gets each chunk after it was written. A client that reads slower than Bedrock sends holds
 * the upstream (backpressure); a client that goes away ends the upstream HTTP/2 stream.
 */
async function relayEventStream(out: NodeResponse, status: number, headers: Record<string, string>, body: UpstreamBody, log: RequestLog): Promise<void> {
  const reader = new EventStreamUsage();
  out.writeHead(status, headers);
  const onClose = () => {
    if (!out.writableEnded) body.destroy?.(new Error('client disconnected'));
  };
  out.on('close', onClose);
  let failure: unknown = null;
  try {
    for await (const chunk of body) {
      if (out.destroyed) break;
      const full = !out.write(chunk);
      if (reader.push(chunk)) {
        log.markFirstToken();
        log.progress(reader.events);
      }
      if (full && !out.destroyed) await drained(out);
    }
  } catch (error) {
    failure = error;
  } finally {
    out.off('close', onClose);
  }
  log.usage = reader.usage;
  if (out.destroyed) {
    log.finish(200, CLIENT_CLOSED);
  } else if (failure !== null) {
    // Bedrock's stream broke off: the client must see a cut stream, not a clean end.
    out.destroy();
    log.finish(200, streamErrorType(failure));
  } else {
    out.end();
    log.finish(status, reader.exception);
  }
}

/**
 * POST /model/{modelId}/(invoke|invoke-with-response-stream|converse|converse-stream|count-tokens):
 * the Bedrock Runtime API, relayed. The model in the path may be an alias or any name the other
 * routes accept; the request body and Bedrock's answer (event streams included) pass byte for byte,
 * signed with the user's credentials on the way out. Usage comes from the invocation metrics, the
 * token-count headers or Converse's usage; Bedrock's errors reach the client as Bedrock sent them.
 */
export function bedrockPassthroughHandler(deps: PassthroughDeps) {
  const { runtime, models, effectiveModelOf } = deps;

  return async function bedrockPassthrough(c: Context<{ Variables: RequestLogVariables }>): Promise<Response> {
    const log = c.get('requestLog');
    const operation = c.req.param('operation') as BedrockNativeOperation;
    const stream = STREAMED.has(operation);
    log.stream = stream;
    const clientSignal = c.req.raw.signal;
    try {
      const resolved = await resolveRequestModel(c.req.param('modelId'), models, effectiveModelOf, log);
      log.progress();
      // CountTokens takes a foundation model id, never an inference profile (Bedrock refuses those).
      const modelId = operation === 'count-tokens' ? baseModelId(resolved.effectiveModelId) : resolved.modelId;
      log.modelId = modelId;
      const body = new Uint8Array(await c.req.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(c.req.header())) if (isRelayedRequestHeader(name)) headers[name] = value;

      const command = new COMMANDS[operation]({ modelId });
      relayRaw(command, body, headers);
      // isEventStream: false keeps the streams on the pooled HTTP/2 session (see chat.ts).
      const options: HttpHandlerOptions & { isEventStream: boolean } = { abortSignal: clientSignal, isEventStream: false };
      const { response } = (await runtime.send(command as never, options)) as RawOutput;
      const status = response.statusCode;
      const responseHeaders = relayedResponseHeaders(response);
      const outgoing = (c.env as { outgoing?: NodeResponse } | undefined)?.outgoing;

      if (stream && status === 200 && outgoing) {
        log.finishesLater = true;
        relayEventStream(outgoing, status, responseHeaders, response.body as UpstreamBody, log).catch((error: unknown) => {
          console.error('bedrock-bridge: relay failed:', error instanceof Error ? error.message : error);
          log.finish(200, 'internal_error');
        });
        return RESPONSE_ALREADY_SENT;
      }

      const bytes = await readRawBody(response.body);
      if (status >= 400) {
        log.finish(status, awsErrorTypeOf(response.headers) || 'bedrock_error');
      } else {
        if (operation === 'invoke') log.usage = invokeHeaderUsage(response);
        else if (operation === 'converse') log.usage = converseBodyUsage(bytes);
        else if (stream) {
          // A stream read whole: no Node response to relay it to as it comes (app.request() in tests).
          const reader = new EventStreamUsage();
          reader.push(bytes);
          log.usage = reader.usage;
        }
        log.finish(status, null);
      }
      return new Response(new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength), { status, headers: responseHeaders });
    } catch (error) {
      const failure = fromBedrockError(error);
      const clientGone = clientSignal.aborted;
      log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
      return dialectErrorResponse('bedrock', {
        status: clientGone ? 500 : failure.status,
        message: failure.message,
        type: failure.type,
        code: failure.code,
        ...(Object.keys(failure.headers).length > 0 ? { headers: failure.headers } : {}),
      });
    }
  };
}

export const BEDROCK_NATIVE_PATH_PATTERN = `/model/:modelId/:operation{${BEDROCK_NATIVE_OPERATIONS.join('|')}}`;
