import { NativeUsage } from './anthropic-usage.ts';

/**
 * One Claude stream event as Bedrock's InvokeModelWithResponseStream gives it (the JSON of a `chunk`)
 * -> Anthropic's SSE text, byte for byte, with the usage and progress it carries. Only the events that
 * carry usage are parsed; deltas are passed on after a look at their type.
 */

// Anthropic's event JSON starts with its type.
const TYPE_PREFIX = /^\s*\{\s*"type"\s*:\s*"([a-z_]+)"/;
const USAGE_EVENTS = new Set(['message_start', 'message_delta', 'message_stop']);

export interface SseEvent {
  /** `event: <type>\ndata: <json>\n\n` */
  text: string;
  /** Carries model output (for the time to first token). */
  content: boolean;
  /** Set on an error event: the stream ends after it, with this error type. */
  ends?: string;
}

export function sseEvent(type: string, json: string): string {
  return `event: ${type}\ndata: ${json}\n\n`;
}

export class NativeStreamReader {
  readonly usage = new NativeUsage();
  #deltas = 0;

  /** Output tokens so far: Bedrock's count once message_delta brought it, else one per delta. */
  get outputTokens(): number {
    return Math.max(this.usage.outputTokens, this.#deltas);
  }

  read(json: string): SseEvent {
    const type = TYPE_PREFIX.exec(json)?.[1] ?? JSON.parse(json)?.type ?? 'unknown';
    if (USAGE_EVENTS.has(type)) {
      this.usage.addEvent(JSON.parse(json));
      return { text: sseEvent(type, json), content: false };
    }
    if (type === 'error') {
      const error = JSON.parse(json)?.error;
      return { text: sseEvent(type, json), content: false, ends: typeof error?.type === 'string' ? error.type : 'api_error' };
    }
    if (type === 'content_block_delta') this.#deltas++;
    return { text: sseEvent(type, json), content: type === 'content_block_delta' || type === 'content_block_start' };
  }
}
