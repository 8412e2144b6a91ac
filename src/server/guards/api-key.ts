import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../error-response.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The local API key, from `Authorization: Bearer <key>` or `x-api-key: <key>`. Both sides are hashed
 * to equal-length digests and compared with timingSafeEqual, so neither the key's content nor its
 * length leaks through timing.
 */
export function apiKeyGuard(apiKey: string): MiddlewareHandler {
  const expected = digest(apiKey);
  return async function apiKeyGuardMiddleware(c, next) {
    let presented = c.req.header('x-api-key');
    // Clients built on both conventions send an empty x-api-key next to a Bearer (an unset setting):
    // that is no key at all, and must not shadow the Bearer.
    if (presented === undefined || presented === '') {
      const authorization = c.req.header('authorization');
      if (authorization !== undefined && authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
        presented = authorization.slice(7).trim();
      }
    }
    if (presented === undefined || presented === '') {
      return errorResponse(
        401,
        'You didn\'t provide an API key. Send the key Bedrock Bridge printed at start-up as "Authorization: Bearer <key>" (or "x-api-key: <key>").',
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      return errorResponse(
        401,
        'Incorrect API key provided. Use the key Bedrock Bridge printed at start-up (or the one you configured).',
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    return next();
  };
}
