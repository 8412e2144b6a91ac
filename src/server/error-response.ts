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

export function errorResponse(
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers?: Record<string, string>,
): Response {
  return new Response(JSON.stringify(errorBody(message, type, code)), {
    status,
    headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS,
  });
}
