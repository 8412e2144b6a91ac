/**
 * OpenAI-shaped error responses built without going through an Error object (guards answer many
 * rejected requests; they should be cheap). Route errors go through OpenAIError (src/core).
 */

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function errorBody(message: string, type: string, code: string | null = null, param: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}

/** What an error response built here says, kept so it can be told again in another client dialect. */
export interface ErrorDetails {
  status: number;
  message: string;
  /** OpenAI error type. */
  type: string;
  code: string | null;
  headers?: Record<string, string>;
}

// The request log finishes guard rejections from the response alone, whose body is already serialized;
// the dialect middleware re-renders them for Anthropic and Bedrock clients.
const errorDetails = new WeakMap<Response, ErrorDetails | { type: string }>();

/** Remembers the OpenAI error type of a response this module's callers built. */
export function rememberErrorType(response: Response, type: string, details?: ErrorDetails): Response {
  errorDetails.set(response, details ?? { type });
  return response;
}

/** The OpenAI error type of an error response built here or with rememberErrorType; null otherwise. */
export function errorTypeOf(response: Response): string | null {
  return errorDetails.get(response)?.type ?? null;
}

/** The full details of an error response built by errorResponse(); null for any other response. */
export function errorDetailsOf(response: Response): ErrorDetails | null {
  const details = errorDetails.get(response);
  return details && 'message' in details ? details : null;
}

export function errorResponse(
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers?: Record<string, string>,
): Response {
  const response = new Response(JSON.stringify(errorBody(message, type, code)), {
    status,
    headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS,
  });
  return rememberErrorType(response, type, { status, message, type, code, ...(headers ? { headers } : {}) });
}
