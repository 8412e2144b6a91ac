import type { MiddlewareHandler } from 'hono';
import { errorDetailsOf, rememberErrorType, type ErrorDetails } from './error-response.ts';

/**
 * The API family a client speaks, told by the path alone: errors from the shared guards, 404s and
 * internal errors must reach each client in its own format (an Anthropic SDK cannot read an OpenAI
 * error object, an AWS SDK reads `x-amzn-errortype`).
 */
export type Dialect = 'openai' | 'anthropic' | 'bedrock';

export function dialectOf(path: string): Dialect {
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return 'anthropic';
  if (path.startsWith('/model/') || path === '/foundation-models' || path.startsWith('/foundation-models/') || path === '/inference-profiles' || path.startsWith('/inference-profiles/')) {
    return 'bedrock';
  }
  return 'openai';
}

/** Anthropic's error types by HTTP status (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 415:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Bedrock's exception names by HTTP status, as the AWS SDKs read them from `x-amzn-errortype`. */
export function bedrockErrorType(status: number): string {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return 'ValidationException';
    case 401:
    case 403:
      return 'AccessDeniedException';
    case 404:
      return 'ResourceNotFoundException';
    case 408:
      return 'ModelTimeoutException';
    case 429:
      return 'ThrottlingException';
    case 503:
      return 'ServiceUnavailableException';
    default:
      return status >= 500 ? 'InternalServerException' : 'ValidationException';
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** An error in the given dialect; OpenAI's is built by errorResponse() itself. */
export function dialectErrorResponse(dialect: Exclude<Dialect, 'openai'>, details: ErrorDetails): Response {
  const headers: Record<string, string> = { ...JSON_HEADERS, ...details.headers };
  let body: unknown;
  if (dialect === 'anthropic') {
    body = { type: 'error', error: { type: anthropicErrorType(details.status), message: details.message } };
  } else {
    const type = bedrockErrorType(details.status);
    headers['x-amzn-errortype'] = type;
    body = { message: details.message };
  }
  return rememberErrorType(new Response(JSON.stringify(body), { status: details.status, headers }), details.type, details);
}

/**
 * Re-renders the shared guards' errors (and 404s, and internal errors) in the dialect of the path.
 * Placed right after the request log, so every guard below it speaks OpenAI's format and nothing else.
 */
export function dialectErrorMiddleware(): MiddlewareHandler {
  return async function dialectErrors(c, next) {
    await next();
    const dialect = dialectOf(c.req.path);
    if (dialect === 'openai' || c.res.status < 400) return;
    const details = errorDetailsOf(c.res);
    if (!details) return;
    c.res = dialectErrorResponse(dialect, details);
    // hono wraps an assigned response in a new one (keeping earlier headers): remember the final one.
    rememberErrorType(c.res, details.type, details);
  };
}
