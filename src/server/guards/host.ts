import { Http2ServerRequest } from 'node:http2';
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../error-response.ts';

/**
 * DNS-rebinding defence (Ollama's CVE-2024-28224): a page on evil.example that resolves its name to
 * 127.0.0.1 still sends `Host: evil.example`, so only loopback names with our port get through.
 */
export function allowedHostsFor(port: number, extraHosts: readonly string[] = []): Set<string> {
  const hosts = new Set<string>();
  for (const name of ['127.0.0.1', 'localhost', '[::1]']) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  for (const host of extraHosts) hosts.add(host.toLowerCase());
  return hosts;
}

export function hostGuard(allowed: ReadonlySet<string>): MiddlewareHandler {
  return async function hostGuardMiddleware(c, next) {
    // HTTP/2 names the host in the `:authority` pseudo-header (RFC 9113 section 8.3.1), not in Host.
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    const host = c.req.header('host') ?? (incoming instanceof Http2ServerRequest ? incoming.authority : undefined);
    if (host !== undefined && (allowed.has(host) || allowed.has(host.toLowerCase()))) return next();
    return errorResponse(
      403,
      `Host "${host ?? ''}" is not allowed: Bedrock Bridge only answers requests addressed to 127.0.0.1, localhost or [::1] on its own port.`,
      'invalid_request_error',
      'host_not_allowed',
    );
  };
}
