/**
 * A Bedrock ConverseStream answered as Server-Sent Events, for any OpenAI-style API: the API's
 * translator (an SseEncoder) turns Bedrock events into SSE text; this module calls Bedrock with the
 * client's disconnect wired to the upstream call, writes the text with as few socket writes as keep
 * the first token immediate, and reports progress and the end to the request log.
 */
import { ConverseStreamCommand, type BedrockRuntimeClient, type ConverseStreamCommandInput, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { HttpHandlerOptions } from '@smithy/types';
import type { Context } from 'hono';
import { printable } from '../core/client-text.ts';
import { messageOf } from '../core/error-message.ts';
import { fromBedrockError } from '../core/openai-errors.ts';
import type { TokenUsage } from '../core/request-events.ts';
import { drained } from './drain.ts';
import type { RequestLog } from './request-log.ts';
import { onRawResponse } from './routes/raw-response.ts';

/** What an API's stream translator offers the SSE writer. */
export interface SseEncoder {
  /** SSE text for one Bedrock event ('' for none). May throw (in-stream exceptions). */
  push(event: ConverseStreamOutput): string;
  /** SSE text once Bedrock's stream has ended. */
  end(): string;
  /** SSE text that ends a stream which failed midway, in the API's own error form. */
  fail(error: unknown): string;
  /** True once content (text, reasoning, a tool call) has been produced: the first token's moment. */
  readonly sentContent: boolean;
  /** Output tokens so far, for the live log (an estimate until Bedrock's count arrives). */
  readonly outputTokens: number;
  readonly usage: TokenUsage;
}

const encoder = new TextEncoder();
// An explicit chunked transfer-encoding makes @hono/node-server write the headers and each chunk at
// once, instead of first trying to read the body ahead (and waiting a timer tick) to size it.
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'transfer-encoding': 'chunked',
  'cache-control': 'no-cache',
  // No `connection` header: Node keeps the connection alive unless the client sent `Connection: close`,
  // which a forced keep-alive would override (the socket then lingered until the idle timeout).
  'x-accel-buffering': 'no',
} as const;
/** errorType for a stream the client walked away from. */
export const CLIENT_CLOSED = 'client_closed_request';

/** The error type a stream that failed midway is logged with: the exception's name where it has one. */
export function streamErrorType(error: unknown): string {
  return error instanceof Error && error.name !== 'Error' ? error.name : fromBedrockError(error).type;
}

/** A ConverseStream call in progress, tied to the client's connection. */
export interface OpenedStream {
  iterator: AsyncIterator<ConverseStreamOutput>;
  upstream: AbortController;
  /** Stops following the client's disconnect (the stream has ended). */
  release(): void;
}

/**
 * Calls ConverseStream. The upstream call gets its own controller: the client's disconnect aborts it,
 * and so does a cancel of the response body. Throws what the call throws (before any event).
 */
export async function openConverseStream(runtime: BedrockRuntimeClient, input: ConverseStreamCommandInput, clientSignal: AbortSignal): Promise<OpenedStream> {
  const upstream = new AbortController();
  // The raw HTTP/2 stream of the response: destroyed (RST_STREAM) when the client goes, so it is
  // not read on to a graceful end while an event read is pending.
  let upstreamBody: { destroy?: () => void } | undefined;
  const onClientGone = () => {
    upstreamBody?.destroy?.();
    upstream.abort(new Error('client disconnected'));
  };
  if (clientSignal.aborted) onClientGone();
  else clientSignal.addEventListener('abort', onClientGone, { once: true });
  const release = () => clientSignal.removeEventListener('abort', onClientGone);
  let response;
  try {
    // isEventStream: false lets ConverseStream share the pooled HTTP/2 session: the SDK otherwise
    // opens a connection of its own for every event stream (meant for bidirectional streams;
    // ConverseStream only streams the response). With a non-pooling handler it changes nothing.
    const options: HttpHandlerOptions & { isEventStream: boolean } = { abortSignal: upstream.signal, isEventStream: false };
    const command = new ConverseStreamCommand(input);
    onRawResponse(command, (raw) => {
      upstreamBody = raw.body as { destroy?: () => void } | undefined;
    });
    response = await runtime.send(command, options);
  } catch (error) {
    release();
    throw error;
  }
  const events = response.stream;
  if (!events) {
    release();
    throw new Error('Bedrock returned no event stream');
  }
  return { iterator: events[Symbol.asyncIterator](), upstream, release };
}

/** How often a stream tells the live log its output so far. */
const PROGRESS_EVERY_MS = 250;

/**
 * A stream's output so far for the live log (`request-progress`): the first token at once, then at
 * most every PROGRESS_EVERY_MS, with the encoder's token count (estimated until Bedrock's arrives).
 */
class StreamProgress {
  readonly #log: RequestLog;
  readonly #sse: SseEncoder;
  #reportedAt = 0;

  constructor(log: RequestLog, sse: SseEncoder) {
    this.#log = log;
    this.#sse = sse;
  }

  /** Call after a push that produced text; true when it carried the first token. */
  noteOutput(): boolean {
    const first = this.#sse.sentContent && this.#log.timeToFirstTokenMs === null;
    if (first) this.#log.markFirstToken();
    const now = Date.now();
    if (first || (this.#sse.sentContent && now - this.#reportedAt >= PROGRESS_EVERY_MS)) {
      this.#reportedAt = now;
      this.#log.progress(this.#sse.outputTokens);
    }
    return first;
  }
}

/**
 * Writes the stream straight to the Node response, so a batch of events costs one socket write
 * instead of one per event through a web stream.
 *
 * - The first event that carries content is written at once (time to first token stays minimal),
 *   together with the headers and whatever came before it.
 * - After that, events that are already decoded are collected and written at the end of the current
 *   event-loop turn (setImmediate), i.e. as soon as the next Bedrock event is not already there. A
 *   burst (and the usual messageStop + metadata at the end of a stream) becomes one write.
 *   (Not res.cork(): Node 24 sends the chunked terminator of end() ahead of data still corked.)
 * - A slow client: after a write() that reports a full buffer, wait for 'drain' before going on.
 * - The client going away aborts the upstream call (through the request's signal, wired by
 *   openConverseStream, and here when the response is found closed); `end` is called exactly once.
 */
async function writeSse(
  out: ServerResponse,
  headers: Record<string, string>,
  prelude: string,
  stream: OpenedStream,
  sse: SseEncoder,
  log: RequestLog,
  end: (status: number, errorType: string | null) => void,
): Promise<void> {
  const { iterator, upstream } = stream;
  out.writeHead(200, headers);
  const progress = new StreamProgress(log, sse);
  let pending = prelude;
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
    // Headers (and a prelude) alone, when no event is ready in this turn (a model that thinks first).
    setImmediate(() => {
      if (wroteAny || out.destroyed || out.writableEnded) return;
      if (pending !== '') flush();
      else out.flushHeaders();
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
        finish(sse.end());
        end(200, null);
        return;
      }
      const text = sse.push(next.value);
      if (text === '') continue;
      wroteAny = true;
      pending += text;
      if (progress.noteOutput()) {
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
    // A mid-stream failure: the API's error event, then the end of the stream.
    finish(sse.fail(error));
    end(200, streamErrorType(error));
  }
}

/** Elsewhere than under @hono/node-server (app.request() in a test, another runtime): a web stream. */
function webStream(prelude: string, stream: OpenedStream, sse: SseEncoder, log: RequestLog, end: (status: number, errorType: string | null) => void): ReadableStream<Uint8Array> {
  const { iterator, upstream } = stream;
  const progress = new StreamProgress(log, sse);
  let first = prelude;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) {
              controller.enqueue(encoder.encode(first + sse.end()));
              controller.close();
              end(200, null);
              return;
            }
            const text = sse.push(next.value);
            if (text === '') continue;
            progress.noteOutput();
            controller.enqueue(encoder.encode(first + text));
            first = '';
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
          controller.enqueue(encoder.encode(first + sse.fail(error)));
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
}

/**
 * Answers the request with the opened stream as SSE; `prelude` goes first (Responses' lifecycle
 * events). The log is finished when the stream really ends, with the encoder's usage.
 */
export function respondWithSse(c: Context, log: RequestLog, stream: OpenedStream, sse: SseEncoder, prelude = ''): Response {
  const end = (status: number, errorType: string | null) => {
    stream.release();
    log.usage = sse.usage;
    log.finish(status, errorType);
  };
  log.finishesLater = true;
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (outgoing instanceof ServerResponse) {
    const headers: Record<string, string> = { ...SSE_HEADERS, 'x-request-id': log.id };
    const origin = c.req.header('origin');
    // The Origin guard let it through (it refuses any other), but cannot add its CORS headers to
    // a response we send ourselves.
    if (origin !== undefined) {
      headers['access-control-allow-origin'] = origin;
      headers.vary = 'Origin';
    }
    writeSse(outgoing, headers, prelude, stream, sse, log, end).catch((error: unknown) => {
      console.error(`bedrock-bridge: stream failed: ${printable(messageOf(error), 1000)}`);
      stream.upstream.abort(error);
      outgoing.destroy();
      end(200, 'internal_error');
    });
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(webStream(prelude, stream, sse, log, end), { status: 200, headers: { ...SSE_HEADERS, 'x-request-id': log.id } });
}
