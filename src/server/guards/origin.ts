import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../error-response.ts';

const ALREADY_SENT = 'x-hono-already-sent';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, openai-organization, openai-project, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout';

/**
 * Browsers attach `Origin` to cross-site requests; a page the user merely visits must not reach the
 * API, so any Origin not on the allow-list is refused (there is no `*`). Requests without Origin
 * (editors, SDKs, curl) pass. Allow-listed origins get CORS headers and preflight answers, which
 * come before the API-key guard because browsers send preflights without credentials.
 */
export function originGuard(allowedOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()));
  return async function originGuardMiddleware(c, next) {
    const origin = c.req.header('origin');
    if (origin === undefined) return next();
    if (!allowed.has(origin.toLowerCase())) {
      return errorResponse(
        403,
        `Origin "${origin}" is not allowed. Add it to allowedOrigins in the settings file (or --allow-origin) to let a web page call Bedrock Bridge.`,
        'invalid_request_error',
        'origin_not_allowed',
      );
    }
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': c.req.header('access-control-request-headers') ?? ALLOWED_HEADERS,
          'access-control-max-age': '600',
          vary: 'Origin',
        },
      });
    }
    await next();
    // A stream the route wrote to the Node response itself carries these headers already (and
    // c.res is then a shared marker object that must not be changed).
    if (c.res.headers.has(ALREADY_SENT)) return;
    c.res.headers.set('access-control-allow-origin', origin);
    c.res.headers.append('vary', 'Origin');
  };
}
