import type { SseEvent } from '../core/anthropic-native-stream.ts';
import { anthropicErrorEvent, anthropicFailureOf } from './anthropic-errors.ts';
import type { RequestLog } from './request-log.ts';
import { CLIENT_CLOSED, SSE_HEADERS } from './converse-sse.ts';

// The same headers as the OpenAI routes' streams.
export { SSE_HEADERS };

/**
 * An upstream Bedrock stream as Anthropic's SSE: each upstream event is rendered and written as soon as
 * it arrives. Bedrock sends no pings, and Claude Code gives up on a stream silent for 300 s (long
 * thinking can be), so the bridge writes `event: ping` after a ping interval without a byte written
 * (a ping follows between one and two intervals of silence).
 */

const PING = 'event: ping\ndata: {"type": "ping"}\n\n';
const PROGRESS_EVERY_MS = 250;
const encoder = new TextEncoder();

export interface SseStreamOptions<T> {
  events: AsyncIterable<T>;
  /** The SSE of one upstream event; an empty text writes nothing. */
  render: (event: T) => SseEvent;
  /** Output tokens so far, for the live log. */
  outputTokens: () => number;
  log: RequestLog;
  pingIntervalMs: number;
  /** Aborts the upstream call (and its HTTP/2 stream) when the client goes. */
  abortUpstream: () => void;
  /** Called exactly once, when the stream ends for whatever reason. */
  end: (status: number, errorType: string | null) => void;
}

export function anthropicSseStream<T>(options: SseStreamOptions<T>): ReadableStream<Uint8Array> {
  const { log, render } = options;
  const iterator = options.events[Symbol.asyncIterator]();
  let lastProgress = 0;
  let wrote = false;
  let ended = false;
  let ping: NodeJS.Timeout | undefined;

  const finish = (status: number, errorType: string | null) => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    options.end(status, errorType);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        ping = setInterval(() => {
          if (!wrote) controller.enqueue(encoder.encode(PING));
          wrote = false;
        }, options.pingIntervalMs);
        ping.unref();
      },
      async pull(controller) {
        try {
          for (;;) {
            const next = await iterator.next();
            if (ended) return;
            if (next.done) {
              controller.close();
              finish(200, null);
              return;
            }
            const event = render(next.value);
            if (event.text === '') continue;
            if (event.content) log.markFirstToken();
            controller.enqueue(encoder.encode(event.text));
            wrote = true;
            if (event.ends !== undefined) {
              controller.close();
              finish(200, event.ends);
              return;
            }
            const now = Date.now();
            if (now - lastProgress >= PROGRESS_EVERY_MS) {
              lastProgress = now;
              log.progress(options.outputTokens());
            }
            return;
          }
        } catch (error) {
          if (ended) return;
          // A failure after the stream started: one Anthropic error event, then the end.
          controller.enqueue(encoder.encode(anthropicErrorEvent(anthropicFailureOf(error))));
          controller.close();
          finish(200, error instanceof Error && error.name !== 'Error' ? error.name : 'api_error');
        }
      },
      cancel() {
        options.abortUpstream();
        finish(200, CLIENT_CLOSED);
        Promise.resolve()
          .then(() => iterator.return?.())
          .catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
