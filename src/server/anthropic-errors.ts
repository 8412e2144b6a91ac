import { fromBedrockError } from '../core/openai-errors.ts';
import { anthropicErrorType } from './dialect.ts';
import { rememberErrorType } from './error-response.ts';

/**
 * Failures on /v1/messages in Anthropic's envelope and wording, which Claude Code's recovery matches
 * on: `prompt is too long: N tokens > M maximum` (compact and retry), 429 `rate_limit_error` with
 * `retry-after`, 529 `overloaded_error` (retried), 504 `timeout_error`.
 */
export interface AnthropicFailure {
  status: number;
  type: string;
  message: string;
  headers: Record<string, string>;
}

/** Bedrock's context-overflow wording ("Input is too long for requested model.", and the like). */
const CONTEXT_OVERFLOW = /input is too long|too many (?:input )?tokens|context (?:length|window)|prompt is too long/i;

export function isContextOverflow(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && CONTEXT_OVERFLOW.test(error.message);
}

/** Bedrock's answer to an `anthropic_beta` value it does not take. */
export function isInvalidBeta(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /invalid beta flag/i.test(error.message);
}

/** Where Anthropic's status differs from the one the bridge gives OpenAI clients. */
function anthropicStatus(status: number, code: string | null): number {
  if (status === 503 || code === 'model_not_ready') return 529;
  if (status === 424) return 500;
  return status;
}

/**
 * Any failure (Bedrock's, the bridge's) as Anthropic's error. `tokens`, when known, gives a context
 * overflow the numbers Claude Code reads to decide how much to compact.
 */
export function anthropicFailureOf(error: unknown, tokens?: { actual: number; limit: number }): AnthropicFailure {
  const failure = fromBedrockError(error);
  const status = anthropicStatus(failure.status, failure.code);
  let message = failure.message;
  if (isContextOverflow(error)) {
    message = tokens ? `prompt is too long: ${tokens.actual} tokens > ${tokens.limit} maximum` : `prompt is too long: ${failure.message}`;
  }
  const type = status === 504 ? 'timeout_error' : anthropicErrorType(status);
  return { status, type, message, headers: { ...failure.headers } };
}

/** The JSON body of an Anthropic error. */
export function anthropicErrorBody(failure: AnthropicFailure, requestId?: string): string {
  return JSON.stringify({ type: 'error', error: { type: failure.type, message: failure.message }, ...(requestId ? { request_id: requestId } : {}) });
}

/** The SSE event that ends a stream which failed after it started. */
export function anthropicErrorEvent(failure: AnthropicFailure): string {
  return `event: error\ndata: ${anthropicErrorBody(failure)}\n\n`;
}

export function anthropicErrorResponse(failure: AnthropicFailure, requestId: string): Response {
  const headers = { 'content-type': 'application/json', 'request-id': requestId, ...failure.headers };
  // A status no HTTP client takes (499, for a client gone) never reaches one; 500 stands in for it.
  const status = failure.status >= 200 && failure.status <= 599 && failure.status !== 499 ? failure.status : 500;
  return rememberErrorType(new Response(anthropicErrorBody(failure, requestId), { status, headers }), failure.type);
}
