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

// The request log finishes guard rejections from the response alone, whose body is already serialized.
const errorTypes = new WeakMap<Response, string>();

/** Remembers the OpenAI error type of a response this module's callers built. */
export function rememberErrorType(response: Response, type: string): Response {
  errorTypes.set(response, type);
  return response;
}

/** The OpenAI error type of an error response built here or with rememberErrorType; null otherwise. */
export function errorTypeOf(response: Response): string | null {
  return errorTypes.get(response) ?? null;
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
  return rememberErrorType(response, type);
}
