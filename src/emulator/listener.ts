import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

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

/** The HTTP/2 connection preface starts with these bytes (RFC 9113 section 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

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
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, H2_PREFACE.length);
      const isH2Prefix = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      if (isH2Prefix && head.length < H2_PREFACE.length) return; // need more bytes to decide
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (isH2Prefix) {
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
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
