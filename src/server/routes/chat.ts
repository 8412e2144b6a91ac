import {
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClient,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { HttpHandlerOptions } from '@smithy/types';
import type { Context } from 'hono';
import { buildConverseRequest, type ImageResolver } from '../../core/chat-request.ts';
import { toChatCompletion } from '../../core/chat-response.ts';
import { ChatStreamTranslator } from '../../core/chat-stream.ts';
import type { ModelMapping } from '../../core/model-catalog.ts';
import { resolveRequestModel, type EffectiveModelOf } from './model-resolution.ts';
import { fromBedrockError } from '../../core/openai-errors.ts';
import { parseChatCompletionRequest } from '../../core/openai-schemas.ts';
import { tokenUsageOf } from '../../core/usage.ts';
import { printable } from '../../core/client-text.ts';
import { messageOf } from '../../core/error-message.ts';
import type { JsonBodyVariables } from '../guards/json-body.ts';
import { modelNameOf, openAIErrorResponse, jsonResponse, type RequestLog, type RequestLogVariables } from '../request-log.ts';
import { drained } from '../drain.ts';
import { onRawResponse } from './raw-response.ts';

export interface ChatRouteDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  resolveImage: ImageResolver;
  effectiveModelOf: EffectiveModelOf;
}

const encoder = new TextEncoder();
// An explicit chunked transfer-encoding makes @hono/node-server write the headers and each chunk at
// once, instead of first trying to read the body ahead (and waiting a timer tick) to size it.
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'transfer-encoding': 'chunked',
  'cache-control': 'no-cache',
  // No `connection` header: Node keeps the connection alive unless the client sent `Connection: close`,
  // which a forced keep-alive would override (the socket then lingered until the idle timeout).
  'x-accel-buffering': 'no',
} as const;
const DONE = 'data: [DONE]\n\n';
/** errorType for a stream the client walked away from. */
export const CLIENT_CLOSED = 'client_closed_request';

interface ChunkLike {
  choices?: ReadonlyArray<{ delta?: { content?: unknown; tool_calls?: unknown; reasoning_content?: unknown } }>;
}

function carriesContent(chunk: ChunkLike): boolean {
  const delta = chunk.choices?.[0]?.delta;
  if (!delta) return false;
  return (typeof delta.content === 'string' && delta.content.length > 0) ||
    delta.tool_calls !== undefined ||
    (typeof delta.reasoning_content === 'string' && delta.reasoning_content.length > 0);
}

/** Characters of output a chunk carries (answer, reasoning, tool arguments). */
function outputCharsOf(chunk: ChunkLike): number {
  const delta = chunk.choices?.[0]?.delta;
  if (!delta) return 0;
  let chars = 0;
  if (typeof delta.content === 'string') chars += delta.content.length;
  if (typeof delta.reasoning_content === 'string') chars += delta.reasoning_content.length;
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls as Array<{ function?: { arguments?: unknown } }>) {
      if (typeof call.function?.arguments === 'string') chars += call.function.arguments.length;
    }
  }
  return chars;
}

/** How often a stream tells the live log its output so far. */
const PROGRESS_EVERY_MS = 250;
/** Bedrock counts tokens only at the end; until then ~4 characters make a token (English text, code). */
const CHARS_PER_TOKEN = 4;

/**
 * A stream's output so far for the live log (`request-progress`): the first token at once, then at
 * most every PROGRESS_EVERY_MS, with tokens estimated from characters until Bedrock's count arrives.
 */
class StreamProgress {
  readonly #log: RequestLog;
  #chars = 0;
  #reportedAt = 0;

  constructor(log: RequestLog) {
    this.#log = log;
  }

  /** Notes what `chunks` carry; true when the first token is among them. */
  push(chunks: readonly unknown[]): boolean {
    let chars = 0;
    let content = false;
    for (const chunk of chunks) {
      chars += outputCharsOf(chunk as ChunkLike);
      content ||= carriesContent(chunk as ChunkLike);
    }
    this.#chars += chars;
    const first = content && this.#log.timeToFirstTokenMs === null;
    if (first) this.#log.markFirstToken();
    const now = Date.now();
    if (first || (chars > 0 && now - this.#reportedAt >= PROGRESS_EVERY_MS)) {
      this.#reportedAt = now;
      this.#log.progress(Math.ceil(this.#chars / CHARS_PER_TOKEN));
    }
    return first;
  }
}

function sse(chunks: readonly unknown[]): string {
  let text = '';
  for (const chunk of chunks) text += `data: ${JSON.stringify(chunk)}\n\n`;
  return text;
}

/** The OpenAI-shaped error event that ends a stream which failed midway. */
function midStreamError(error: unknown): string {
  // (The openai SDK throws an APIError when it reads an event carrying `error`.)
  return `data: ${JSON.stringify(fromBedrockError(error).toJSON())}\n\n`;
}

/** The error type a stream that failed midway is logged with: the exception's name where it has one. */
export function streamErrorType(error: unknown): string {
  return error instanceof Error && error.name !== 'Error' ? error.name : fromBedrockError(error).type;
}

/**
 * Writes a ConverseStream as SSE straight to the Node response, so a batch of events costs one
 * socket write instead of one per event through a web stream.
 *
 * - The first event that carries content is written at once (time to first token stays minimal),
 *   together with the headers and whatever came before it.
 * - After that, events that are already decoded are collected and written at the end of the current
 *   event-loop turn (setImmediate), i.e. as soon as the next Bedrock event is not already there. A
 *   burst (and the usual messageStop + metadata at the end of a stream) becomes one write.
 *   (Not res.cork(): Node 24 sends the chunked terminator of end() ahead of data still corked.)
 * - A slow client: after a write() that reports a full buffer, wait for 'drain' before going on.
 * - The client going away aborts the upstream call (through the request's signal, wired by the
 *   caller, and here when the response is found closed); `end` is called exactly once.
 */
async function writeSse(
  out: ServerResponse,
  headers: Record<string, string>,
  iterator: AsyncIterator<ConverseStreamOutput>,
  translator: ChatStreamTranslator,
  log: RequestLog,
  upstream: AbortController,
  end: (status: number, errorType: string | null) => void,
): Promise<void> {
  out.writeHead(200, headers);
  const progress = new StreamProgress(log);
  let pending = '';
  let flushScheduled = false;
  let wroteAny = false;
  const flush = () => {
    flushScheduled = false;
    if (pending === '' || out.destroyed || out.writableEnded) return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  const finish = (text: string) => {
    const all = pending + text;
    pending = '';
    out.end(all);
  };
  try {
    // Headers alone, when no event is ready in this turn (a model that thinks first).
    setImmediate(() => {
      if (!wroteAny && !out.destroyed && !out.writableEnded) out.flushHeaders();
    });
    for (;;) {
      const next = await iterator.next();
      if (out.destroyed) {
        upstream.abort(new Error('client disconnected'));
        Promise.resolve()
          .then(() => iterator.return?.())
          .catch(() => {});
        end(200, CLIENT_CLOSED);
        return;
      }
      if (next.done) {
        finish(sse(translator.finish()) + DONE);
        end(200, null);
        return;
      }
      const chunks = translator.push(next.value);
      if (chunks.length === 0) continue;
      wroteAny = true;
      pending += sse(chunks);
      if (progress.push(chunks)) {
        // The first token goes out now.
        flush();
      } else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      // The last write filled the socket's buffer (the client reads slower than Bedrock sends).
      if (out.writableNeedDrain) await drained(out);
    }
  } catch (error) {
    if (upstream.signal.aborted || out.destroyed) {
      upstream.abort(new Error('client disconnected'));
      if (!out.destroyed) finish('');
      end(200, CLIENT_CLOSED);
      return;
    }
    // A mid-stream failure: one OpenAI-shaped error event, then the end of the stream.
    finish(midStreamError(error));
    end(200, streamErrorType(error));
  }
}

/** POST /v1/chat/completions: Converse for plain requests, ConverseStream -> SSE for `stream: true`. */
export function chatCompletionsHandler(deps: ChatRouteDeps) {
  const { runtime, models, resolveImage, effectiveModelOf } = deps;

  return async function chatCompletions(c: Context<{ Variables: JsonBodyVariables & RequestLogVariables }>): Promise<Response> {
    const log = c.get('requestLog');
    const body = c.get('jsonBody');
    log.requestedModel = modelNameOf(body);
    try {
      const request = parseChatCompletionRequest(body);
      log.stream = request.stream === true;
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      const plan = await buildConverseRequest(request, resolved.modelId, resolveImage, resolved.effectiveModelId);
      const context = {
        id: `chatcmpl-${log.id}`,
        created: Math.floor(log.startedAt / 1000),
        model: resolved.requested ?? resolved.modelId,
      };

      if (!log.stream) {
        const output = await runtime.send(new ConverseCommand(plan.input), { abortSignal: c.req.raw.signal });
        const completion = toChatCompletion(output, plan, context);
        log.usage = tokenUsageOf(output.usage);
        log.finish(200, null);
        return jsonResponse(completion, { 'x-request-id': log.id });
      }

      // Streaming. The upstream call gets its own controller: the client's disconnect aborts it, and
      // so does a cancel of the response body.
      const upstream = new AbortController();
      const clientSignal = c.req.raw.signal;
      // The raw HTTP/2 stream of the response: destroyed (RST_STREAM) when the client goes, so it is
      // not read on to a graceful end while an event read is pending.
      let upstreamBody: { destroy?: () => void } | undefined;
      const onClientGone = () => {
        upstreamBody?.destroy?.();
        upstream.abort(new Error('client disconnected'));
      };
      if (clientSignal.aborted) onClientGone();
      else clientSignal.addEventListener('abort', onClientGone, { once: true });
      let response;
      try {
        // isEventStream: false lets ConverseStream share the pooled HTTP/2 session: the SDK otherwise
        // opens a connection of its own for every event stream (meant for bidirectional streams;
        // ConverseStream only streams the response). With a non-pooling handler it changes nothing.
        const options: HttpHandlerOptions & { isEventStream: boolean } = { abortSignal: upstream.signal, isEventStream: false };
        const command = new ConverseStreamCommand(plan.input);
        onRawResponse(command, (raw) => {
          upstreamBody = raw.body as { destroy?: () => void } | undefined;
        });
        response = await runtime.send(command, options);
      } catch (error) {
        clientSignal.removeEventListener('abort', onClientGone);
        throw error;
      }
      const events = response.stream;
      if (!events) throw new Error('Bedrock returned no event stream');
      const iterator = events[Symbol.asyncIterator]();
      const translator = new ChatStreamTranslator(plan, {
        ...context,
        includeUsage: request.stream_options?.include_usage === true,
      });

      const end = (status: number, errorType: string | null) => {
        clientSignal.removeEventListener('abort', onClientGone);
        log.usage = translator.usage;
        log.finish(status, errorType);
      };

      const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
      if (outgoing instanceof ServerResponse) {
        // Under @hono/node-server: write the SSE straight to the Node response (see writeSse).
        const headers: Record<string, string> = { ...SSE_HEADERS, 'x-request-id': log.id };
        const origin = c.req.header('origin');
        // The Origin guard let it through (it refuses any other), but cannot add its CORS headers to
        // a response we send ourselves.
        if (origin !== undefined) {
          headers['access-control-allow-origin'] = origin;
          headers.vary = 'Origin';
        }
        log.finishesLater = true;
        writeSse(outgoing, headers, iterator, translator, log, upstream, end).catch((error: unknown) => {
          console.error(`bedrock-bridge: stream failed: ${printable(messageOf(error), 1000)}`);
          upstream.abort(error);
          outgoing.destroy();
          end(200, 'internal_error');
        });
        return RESPONSE_ALREADY_SENT;
      }

      // Elsewhere (app.request() in a test, another runtime): a web stream.
      const progress = new StreamProgress(log);
      const stream = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            try {
              for (;;) {
                const next = await iterator.next();
                if (next.done) {
                  const text = sse(translator.finish()) + DONE;
                  controller.enqueue(encoder.encode(text));
                  controller.close();
                  end(200, null);
                  return;
                }
                const chunks = translator.push(next.value as ConverseStreamOutput);
                if (chunks.length === 0) continue;
                progress.push(chunks);
                controller.enqueue(encoder.encode(sse(chunks)));
                return;
              }
            } catch (error) {
              if (upstream.signal.aborted) {
                end(200, CLIENT_CLOSED);
                try {
                  controller.close();
                } catch {
                  // already cancelled
                }
                return;
              }
              controller.enqueue(encoder.encode(midStreamError(error)));
              controller.close();
              end(200, streamErrorType(error));
            }
          },
          cancel() {
            upstream.abort(new Error('client disconnected'));
            end(200, CLIENT_CLOSED);
          },
        },
        { highWaterMark: 0 },
      );
      log.finishesLater = true;
      return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, 'x-request-id': log.id } });
    } catch (error) {
      const failure = fromBedrockError(error);
      const clientGone = c.req.raw.signal.aborted;
      log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
      return openAIErrorResponse(failure, log.id);
    }
  };
}
