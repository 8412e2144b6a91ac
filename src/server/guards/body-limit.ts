import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse } from '../error-response.ts';

/**
 * Refuses bodies over `maxBytes` with 413. A declared Content-Length is checked without touching the
 * body (which keeps @hono/node-server's fast body path); chunked uploads go through hono's bodyLimit,
 * which counts bytes as they stream in.
 */
export function bodyLimitGuard(maxBytes: number): MiddlewareHandler {
  const tooLarge = () =>
    errorResponse(
      413,
      `Request body too large: the limit is ${maxBytes} bytes (bodyLimitBytes in the settings).`,
      'invalid_request_error',
      'request_too_large',
    );
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function bodyLimitMiddleware(c, next) {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      const declared = Number(length);
      if (!Number.isSafeInteger(declared) || declared < 0) {
        return errorResponse(400, 'Invalid Content-Length header.', 'invalid_request_error', 'invalid_content_length');
      }
      return declared > maxBytes ? tooLarge() : next();
    }
    return streamed(c, next);
  };
}
