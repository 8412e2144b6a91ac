import type { Socket } from 'node:net';

/** The HTTP/2 connection preface starts with these bytes (RFC 9113 section 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/**
 * Reads a new connection's first bytes and hands the socket to the server for its protocol: cleartext
 * HTTP/2 with prior knowledge (what the AWS SDK's NodeHttp2Handler sends to an http:// endpoint) or
 * anything else (HTTP/1.1). The bytes read are put back first, so the chosen server sees the whole
 * stream. One port then serves both, which is how the AWS SDK for JavaScript and HTTP/1.1 clients
 * (curl, fetch, boto3) reach the same endpoint.
 */
export function routeByPreface(socket: Socket, toHttp2: (socket: Socket) => void, toHttp1: (socket: Socket) => void): void {
  let head: Buffer = Buffer.alloc(0);
  // A connection closed before it said anything (clients open spare ones) goes: no server owns it yet.
  const onEnd = (): void => {
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const compared = Math.min(head.length, H2_PREFACE.length);
    const isH2Prefix = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isH2Prefix && head.length < H2_PREFACE.length) return; // need more bytes to decide
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    socket.unshift(head);
    if (isH2Prefix) {
      toHttp2(socket);
    } else {
      toHttp1(socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
}
