/** Token usage: Bedrock's counts -> our TokenUsage -> OpenAI's usage object. */
import type { TokenUsage } from './request-events.ts';

export interface BedrockUsageLike {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  cacheReadInputTokens?: number | undefined;
  cacheWriteInputTokens?: number | undefined;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function emptyTokenUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

export function tokenUsageOf(usage: BedrockUsageLike | undefined | null): TokenUsage {
  if (!usage) return emptyTokenUsage();
  return {
    inputTokens: usage.inputTokens ?? 0,
    outputTokens: usage.outputTokens ?? 0,
    cacheReadTokens: usage.cacheReadInputTokens ?? 0,
    cacheWriteTokens: usage.cacheWriteInputTokens ?? 0,
  };
}

/**
 * prompt_tokens counts every prompt token, cached or not (Bedrock's inputTokens excludes cache reads
 * and writes); cached_tokens are the cache reads, as OpenAI reports them.
 */
export function toOpenAIUsage(usage: TokenUsage): OpenAIUsage {
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  };
}
