/**
 * Token usage read from Bedrock-native responses the bridge relays untouched (the passthrough): the
 * event-stream frames of ConverseStream and InvokeModelWithResponseStream, and Converse's JSON body.
 * A copy of the bytes is decoded after they went to the client; nothing here changes what it gets.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { TokenUsage } from './request-events.ts';
import { tokenUsageOf, type BedrockUsageLike } from './usage.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const codec = new EventStreamCodec(toUtf8, fromUtf8);
/** total length, headers length, prelude CRC; the message CRC follows the payload. */
const PRELUDE_BYTES = 12;

/** The fields that hold a token count (a non-negative integer); the others are left out. */
function knownCounts(values: Record<keyof TokenUsage, unknown>): Partial<TokenUsage> {
  const known: Partial<TokenUsage> = {};
  for (const key of Object.keys(values) as (keyof TokenUsage)[]) {
    const value = values[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) known[key] = value;
  }
  return known;
}

/** Converse's non-streamed answer: `usage` in its JSON body; zero when absent or not JSON. */
export function converseBodyUsage(body: Uint8Array): TokenUsage {
  try {
    return tokenUsageOf((JSON.parse(toUtf8(body)) as { usage?: BedrockUsageLike }).usage);
  } catch {
    return tokenUsageOf(null);
  }
}

/** Frames kept from the end of a stream: where the usage, the invocation metrics and an exception are. */
const TAIL_FRAMES = 3;

/**
 * Follows one relayed event stream: frames may be split across or packed into chunks. Only the frame
 * boundaries are tracked as chunks pass; the first frame and the last few are kept and decoded (with
 * their CRCs checked) when the usage is asked for, so the cost per streamed event stays a length read.
 *
 * - ConverseStream: the last event, `metadata`, carries `usage`.
 * - InvokeModelWithResponseStream: each `chunk` carries one model event as base64 JSON. The last one
 *   carries `amazon-bedrock-invocationMetrics` (Bedrock's billed counts, every model); Claude's own
 *   `message_start` (first) and `message_delta` (next to last) usage fills in what the metrics lack.
 * - An exception frame (`:message-type: exception`) ends a failed stream and names the failure.
 * A frame that does not decode (a bad CRC, a broken length) yields no usage; the relay goes on regardless.
 */
export class EventStreamUsage {
  /** Events after the first (the message start): the live log's estimate of the output so far. */
  events = 0;
  #pending: Buffer | null = null;
  #broken = false;
  #first: Buffer | null = null;
  #tail: Buffer[] = [];
  #decoded: { usage: TokenUsage; exception: string | null } | null = null;

  /** Takes the next chunk of the stream; true when it completed events after the first (content is flowing). */
  push(chunk: Uint8Array): boolean {
    if (this.#broken) return false;
    let buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#pending) buffer = Buffer.concat([this.#pending, buffer]);
    const before = this.events;
    let offset = 0;
    while (buffer.length - offset >= PRELUDE_BYTES) {
      const total = buffer.readUInt32BE(offset);
      if (total < PRELUDE_BYTES + 4) {
        this.#broken = true;
        break;
      }
      if (buffer.length - offset < total) break;
      this.#keep(buffer.subarray(offset, offset + total));
      offset += total;
    }
    // Copies: the chunk's memory may be reused once it has been written out.
    this.#pending = offset < buffer.length && !this.#broken ? Buffer.from(buffer.subarray(offset)) : null;
    this.#decoded = null;
    return this.events > before;
  }

  /** The usage known so far (all of it once the stream has ended). */
  get usage(): TokenUsage {
    return this.#decode().usage;
  }

  /** The in-stream exception's name (e.g. throttlingException), when the stream ended with one. */
  get exception(): string | null {
    return this.#decode().exception;
  }

  #keep(frame: Buffer): void {
    if (this.#first === null) {
      this.#first = Buffer.from(frame);
      return;
    }
    this.events += 1;
    this.#tail.push(Buffer.from(frame));
    if (this.#tail.length > TAIL_FRAMES) this.#tail.shift();
  }

  #decode(): { usage: TokenUsage; exception: string | null } {
    if (this.#decoded) return this.#decoded;
    const reading = new FrameReading();
    try {
      for (const frame of this.#first ? [this.#first, ...this.#tail] : []) reading.frame(frame);
    } catch {
      return (this.#decoded = { usage: tokenUsageOf(null), exception: null });
    }
    return (this.#decoded = { usage: reading.usage, exception: reading.exception });
  }
}

/** What the decoded frames of one stream say. */
class FrameReading {
  exception: string | null = null;
  #converse: TokenUsage | null = null;
  #metrics: Partial<TokenUsage> = {};
  #claude: Partial<TokenUsage> = {};

  get usage(): TokenUsage {
    if (this.#converse) return this.#converse;
    const metrics = this.#metrics;
    const claude = this.#claude;
    return {
      inputTokens: metrics.inputTokens ?? claude.inputTokens ?? 0,
      outputTokens: metrics.outputTokens ?? claude.outputTokens ?? 0,
      cacheReadTokens: metrics.cacheReadTokens ?? claude.cacheReadTokens ?? 0,
      cacheWriteTokens: metrics.cacheWriteTokens ?? claude.cacheWriteTokens ?? 0,
    };
  }

  frame(frame: Buffer): void {
    const message = codec.decode(frame);
    if (message.headers[':message-type']?.value !== 'event') {
      const name = message.headers[':exception-type']?.value ?? message.headers[':error-code']?.value;
      this.exception = typeof name === 'string' ? name : 'streamError';
      return;
    }
    const eventType = message.headers[':event-type']?.value;
    if (eventType === 'metadata') {
      this.#converse = tokenUsageOf((JSON.parse(toUtf8(message.body)) as { usage?: BedrockUsageLike }).usage);
    } else if (eventType === 'chunk') {
      const bytes = (JSON.parse(toUtf8(message.body)) as { bytes?: string }).bytes;
      if (typeof bytes === 'string') this.#modelEvent(JSON.parse(Buffer.from(bytes, 'base64').toString('utf8')));
    }
  }

  #modelEvent(event: Json): void {
    const usage = event?.type === 'message_start' ? event.message?.usage : event?.usage;
    if (usage) {
      Object.assign(
        this.#claude,
        knownCounts({
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          cacheReadTokens: usage.cache_read_input_tokens,
          cacheWriteTokens: usage.cache_creation_input_tokens,
        }),
      );
    }
    const metrics = event?.['amazon-bedrock-invocationMetrics'];
    if (metrics) {
      this.#metrics = knownCounts({
        inputTokens: metrics.inputTokenCount,
        outputTokens: metrics.outputTokenCount,
        cacheReadTokens: metrics.cacheReadInputTokenCount,
        cacheWriteTokens: metrics.cacheWriteInputTokenCount,
      });
    }
  }
}
