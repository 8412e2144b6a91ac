import type { TokenUsage } from './request-events.ts';

/**
 * Token usage of a Claude answer in Anthropic's native format, for the usage record. A stream spreads
 * it over three places: `message_start.message.usage` (input and cache counts), `message_delta.usage`
 * (output tokens, and on some deployments the cache counts) and the `amazon-bedrock-invocationMetrics`
 * Bedrock adds to `message_stop`; each later report of a count replaces the earlier one, and Bedrock's
 * metrics (what it bills) win.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

type Counts = Record<keyof TokenUsage, string>;
const ANTHROPIC_NAMES: Counts = { inputTokens: 'input_tokens', outputTokens: 'output_tokens', cacheReadTokens: 'cache_read_input_tokens', cacheWriteTokens: 'cache_creation_input_tokens' };
const METRIC_NAMES: Counts = { inputTokens: 'inputTokenCount', outputTokens: 'outputTokenCount', cacheReadTokens: 'cacheReadInputTokenCount', cacheWriteTokens: 'cacheWriteInputTokenCount' };
const FIELDS = Object.keys(ANTHROPIC_NAMES) as (keyof TokenUsage)[];

export class NativeUsage {
  readonly #counts: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

  #add(source: Json, names: Counts): void {
    if (typeof source !== 'object' || source === null) return;
    for (const field of FIELDS) this.#counts[field] = count(source[names[field]]) ?? this.#counts[field];
  }

  /** Anthropic's `usage` object (of a message, message_start's message or message_delta). */
  addAnthropic(usage: Json): void {
    this.#add(usage, ANTHROPIC_NAMES);
  }

  /** Bedrock's `amazon-bedrock-invocationMetrics`. */
  addInvocationMetrics(metrics: Json): void {
    this.#add(metrics, METRIC_NAMES);
  }

  get outputTokens(): number {
    return this.#counts.outputTokens;
  }

  /** One decoded stream event. */
  addEvent(event: Json): void {
    switch (event?.type) {
      case 'message_start':
        this.addAnthropic(event.message?.usage);
        break;
      case 'message_delta':
        this.addAnthropic(event.usage);
        break;
      case 'message_stop':
        this.addInvocationMetrics(event['amazon-bedrock-invocationMetrics']);
        break;
    }
  }

  get usage(): TokenUsage {
    return { ...this.#counts };
  }
}
