/** Numbers, times and money as the window shows them. Pure: tested under Node. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** 950 -> "950", 12_345 -> "12.3k", 4_200_000 -> "4.2M". */
export function formatTokens(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}k`;
  return `${(value / 1_000_000).toFixed(value < 10_000_000 ? 2 : 1).replace(/\.?0+$/, '')}M`;
}

export { formatUsd } from '../src/usage/format-usd.ts';

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Clock time of an epoch-ms instant, HH:MM:SS in the machine's zone. */
export function formatClock(epochMs: number): string {
  const date = new Date(epochMs);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** "in 9 min", "in 40 s", "expired" — for a deadline such as a device code's expiry. */
export function formatRemaining(deadline: number, now: number): string {
  const seconds = Math.round((deadline - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 90) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/** "12 s ago", "5 min ago", "3 h ago", or the date. */
export function formatAgo(epochMs: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - epochMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(epochMs).toLocaleString();
}

/** The product part of a User-Agent: "OpenAI/JS 7.57.0" of "OpenAI/JS 7.57.0 (node 24)". */
export function shortClient(userAgent: string | null): string {
  if (!userAgent) return 'unknown client';
  return userAgent.split(/\s+\(/)[0]!.slice(0, 40);
}

/**
 * A Bedrock id as people say it: "global.anthropic.claude-sonnet-4-5-20250929-v1:0" -> "claude-sonnet-4-5".
 * Only the API version v1 is dropped (Titan's v2 is the model's own). ARNs keep their last part. Anything
 * not shaped like a Bedrock id comes back unchanged.
 */
export function shortModel(modelId: string): string {
  const tail = modelId.startsWith('arn:') ? (modelId.split('/').pop() ?? modelId) : modelId;
  const match = /^(?:(?:global|us|us-gov|eu|apac|jp|au|ca)\.)?[a-z0-9-]+\.(.+?)(?:-\d{8})?(?:-v1(?::\d+)?)?(?::\d+k?)?$/.exec(tail);
  return match ? match[1]! : tail;
}
