import type { MiddlewareHandler } from 'hono';
import { nestsDeeperThan } from '../../core/json-text.ts';
import { dialectOf } from '../dialect.ts';
import { errorResponse } from '../error-response.ts';

/**
 * Deeper than any real request (a JSON schema 100 levels deep is 200 here), far below what overflows
 * the stack of the SDK's serialiser (~10 000): such bodies were a 500 "Maximum call stack size exceeded".
 */
export const MAX_JSON_DEPTH = 256;

export interface JsonBodyVariables {
  /** The parsed request body, set for POST requests by jsonBodyGuard. */
  jsonBody: unknown;
}

function isJsonContentType(value: string): boolean {
  const semicolon = value.indexOf(';');
  const mediaType = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

/**
 * POST bodies must be JSON: 415 for another content type, 400 for malformed or too deeply nested JSON.
 * Parses once. Bedrock-native requests pass untouched: the passthrough relays their bytes, and Bedrock
 * judges them.
 */
export function jsonBodyGuard(): MiddlewareHandler<{ Variables: JsonBodyVariables }> {
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method !== 'POST' || dialectOf(c.req.path) === 'bedrock') return next();
    const contentType = c.req.header('content-type');
    if (contentType === undefined || !isJsonContentType(contentType)) {
      return errorResponse(
        415,
        `Unsupported content type "${contentType ?? '(none)'}": send the request body as JSON with "Content-Type: application/json".`,
        'invalid_request_error',
        'unsupported_media_type',
      );
    }
    let text: string;
    try {
      text = await c.req.raw.text();
    } catch {
      return errorResponse(400, 'Could not read the request body.', 'invalid_request_error', 'invalid_body');
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return errorResponse(
        400,
        `We could not parse the JSON body of your request. (${error instanceof Error ? error.message : 'invalid JSON'})`,
        'invalid_request_error',
        'invalid_json',
      );
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      return errorResponse(400, `The JSON body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`, 'invalid_request_error', 'invalid_json');
    }
    c.set('jsonBody', body);
    return next();
  };
}
