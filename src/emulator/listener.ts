import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { routeByPreface } from '../server/http2-preface.ts';

export type DualRequestListener = (
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
) => void | Promise<void>;

export interface DualProtocolServer {
  port: number;
  host: string;
  /** Stops accepting, ends HTTP/2 sessions and destroys every open socket. */
  close(): Promise<void>;
}

/**
 * One TCP port that speaks both cleartext HTTP/2 with prior knowledge (what the AWS SDK's
 * NodeHttp2Handler sends to an http:// endpoint) and HTTP/1.1 (everything else). The first bytes of
 * each connection decide: the HTTP/2 preface goes to an http2 server, anything else to an http one.
 */
export async function listenDualProtocol(listener: DualRequestListener, options: { host: string; port: number }): Promise<DualProtocolServer> {
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();

  const h1 = createHttp1Server({ keepAliveTimeout: 30_000 }, listener as (req: IncomingMessage, res: ServerResponse) => void);
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: 1000 } }, listener as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  h2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  // Errors on individual connections must not take the emulator down.
  h1.on('clientError', (_error, socket) => socket.destroy());
  h2.on('sessionError', () => {});

  const net = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    routeByPreface(
      socket,
      (h2Socket) => h2.emit('connection', h2Socket),
      (h1Socket) => h1.emit('connection', h1Socket),
    );
  });

  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(options.port, options.host, () => {
      net.off('error', reject);
      resolve();
    });
  });
  const address = net.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    host: options.host,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        net.close(() => resolve());
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        h1.close();
        h2.close();
      });
      return closing;
    },
  };
}
