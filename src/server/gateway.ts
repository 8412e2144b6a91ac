import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createAdaptorServer, getRequestListener } from '@hono/node-server';
import type { RequestEventBus } from '../core/request-events.ts';
import { DEFAULT_HOST, DEFAULT_SHUTDOWN_GRACE_MS } from '../core/settings.ts';
import { createGatewayApp, type GatewayAppOptions } from './app.ts';
import { allowedHostsFor } from './guards/host.ts';
import { routeByPreface } from './http2-preface.ts';
import type { ModelList } from './model-list.ts';
import type { ModelMapping } from '../core/model-catalog.ts';

export interface StartGatewayOptions extends Omit<GatewayAppOptions, 'port' | 'apiKey'> {
  /** Default 8741; 0 picks a free port (the real one is in the result). */
  port?: number;
  /**
   * Default 127.0.0.1. An IPv6 address may be given bare or in brackets (`::1`, `[::1]`). Anything but
   * loopback is reachable from other machines: the CLI warns.
   */
  host?: string;
  /** Generated when absent. */
  apiKey?: string;
  /**
   * The window's side of the server (src/server/control): given the listening port and the Host
   * allow-list, it answers every path under /control/ and /ui, which never reach the OpenAI routes,
   * their API-key guard or the request events.
   */
  sideApp?: (listening: { port: number; allowedHosts: ReadonlySet<string> }) => { fetch(request: Request): Response | Promise<Response> };
}

/** True for URLs the side app answers: `http://host/control/...`, `http://host/ui`, `http://host/ui/...`. */
export function isSideAppUrl(url: string): boolean {
  const path = url.indexOf('/', url.indexOf('//') + 2);
  if (path < 0) return false;
  if (url.startsWith('/control/', path)) return true;
  return url.startsWith('/ui', path) && (url.length === path + 3 || url[path + 3] === '/' || url[path + 3] === '?');
}

export interface RunningGateway {
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:8741/v1`. */
  url: string;
  port: number;
  host: string;
  apiKey: string;
  events: RequestEventBus;
  modelList: ModelList;
  /** The model mapping in use. */
  readonly models: ModelMapping;
  /** Switches aliases and the default model for every following request. */
  setModels(next: ModelMapping): void;
  server: Server;
  /** Requests (streams included) still being answered. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then cuts
   * whatever is left. Resolves when the server is closed.
   */
  close(graceMs?: number): Promise<void>;
}

export function generateApiKey(): string {
  return `bb-${randomBytes(24).toString('base64url')}`;
}

export function formatHostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Headers HTTP/2 forbids (RFC 9113 section 8.2.2): Node refuses a response carrying one. */
const CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

/**
 * The app's responses made fit for HTTP/2: routes written for HTTP/1.1 set connection-specific headers
 * on their streams (`transfer-encoding: chunked`, `connection: keep-alive`), which HTTP/2 has no use for.
 */
function withoutConnectionHeaders(fetch: (request: Request, env: unknown) => Response | Promise<Response>) {
  return async (request: Request, env: unknown): Promise<Response> => {
    const response = await fetch(request, env);
    for (const name of CONNECTION_HEADERS) if (response.headers.has(name)) response.headers.delete(name);
    return response;
  };
}

/** Creates the app, listens (loopback by default), and returns how to reach and stop it. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  // listen() takes IPv6 addresses bare; URLs and Host headers put them in brackets.
  const host = (options.host ?? DEFAULT_HOST).replace(/^\[(.*)\]$/, '$1');
  const apiKey = options.apiKey ?? generateApiKey();
  let handler: ((request: Request, env: unknown) => Response | Promise<Response>) | null = null;
  let inFlight = 0;
  const fetch = (request: Request, env: unknown) => handler!(request, env);
  const server = createAdaptorServer({ hostname: host, fetch }) as Server;
  // Cleartext HTTP/2 on the same port, for the AWS SDK for JavaScript's runtime client (Bedrock-native
  // routes): every connection's first bytes pick the server (see routeByPreface).
  const http2 = createHttp2Server({}, getRequestListener(withoutConnectionHeaders(fetch), { hostname: host }));
  const sessions = new Set<Http2Session>();
  http2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  http2.on('sessionError', () => {});
  const http1Listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  // Connections that have not sent their first bytes yet: no server tracks them, close() ends them.
  const undecided = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    undecided.add(socket);
    socket.once('close', () => undecided.delete(socket));
    routeByPreface(
      socket,
      (h2Socket) => {
        undecided.delete(h2Socket);
        http2.emit('connection', h2Socket);
      },
      (h1Socket) => {
        undecided.delete(h1Socket);
        for (const listener of http1Listeners) listener.call(server, h1Socket);
      },
    );
  });
  const countInFlight = (_request: unknown, response: { once(event: 'close', listener: () => void): unknown }) => {
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
    });
  };
  server.on('request', countInFlight);
  http2.on('request', countInFlight);

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(options.port ?? 8741, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const urlHost = formatHostForUrl(host);
  const extraAllowedHosts = [...(options.extraAllowedHosts ?? [])];
  // The bound address is how clients address us (the printed base URL): accept it in the Host header,
  // and for a wildcard bind every address of this machine. An IP literal or a name the user chose to
  // bind cannot be a DNS-rebinding page's own name.
  if (host === '0.0.0.0' || host === '::') {
    for (const info of Object.values(networkInterfaces()).flat()) {
      if (info && !info.internal && (host === '::' || info.family === 'IPv4')) extraAllowedHosts.push(`${formatHostForUrl(info.address)}:${port}`);
    }
  } else {
    extraAllowedHosts.push(`${urlHost}:${port}`);
  }
  const gatewayApp = createGatewayApp({ ...options, apiKey, port, extraAllowedHosts });
  const { app, events, modelList } = gatewayApp;
  const side = options.sideApp?.({ port, allowedHosts: allowedHostsFor(port, extraAllowedHosts) });
  handler = side ? (request, env) => (isSideAppUrl(request.url) ? side.fetch(request) : app.fetch(request, env)) : (request, env) => app.fetch(request, env);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost === '0.0.0.0' || urlHost === '[::]' ? '127.0.0.1' : urlHost}:${port}/v1`,
    port,
    host,
    apiKey,
    events,
    modelList,
    get models() {
      return gatewayApp.models;
    },
    setModels: (next) => gatewayApp.setModels(next),
    server,
    get inFlight() {
      return inFlight;
    },
    close(graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections with nothing in flight go now; the rest once their response ends.
        // HTTP/2 sessions get a GOAWAY: their open streams finish, then the session closes.
        server.closeIdleConnections();
        for (const socket of undecided) socket.destroy();
        for (const session of sessions) session.close();
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => {
          server.closeAllConnections();
          for (const session of sessions) session.destroy();
        }, graceMs);
        idleSweep.unref();
        deadline.unref();
        server.once('close', () => {
          clearInterval(idleSweep);
          clearTimeout(deadline);
        });
      });
      return closing;
    },
  };
}
