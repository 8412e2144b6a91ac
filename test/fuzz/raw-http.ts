/**
 * HTTP/1.1 at the byte level, for fuzzing: any request line, header bytes, body and Content-Length a
 * hostile client could send (node:http's client refuses most of them), and a parse of the first
 * answer. Loopback only.
 */
import { connect } from 'node:net';

export type BodyFraming =
  /** Content-Length equal to the body. */
  | 'exact'
  | 'chunked'
  /** Content-Length smaller than the body: the rest reads as a second request. */
  | 'short'
  /** Content-Length larger than the body: the server waits, then sees the client half-close. */
  | 'long'
  /** No Content-Length and no Transfer-Encoding, the body sent anyway. */
  | 'none'
  | 'non-numeric'
  | 'conflicting'
  | 'chunked-and-length';

export interface RawHttpRequest {
  method: string;
  /** Sent as is in the request line. */
  target: string;
  /** Sent as is; a `host` entry replaces the default one, an undefined value drops the default. */
  headers: readonly (readonly [string, string])[];
  body: Buffer;
  framing: BodyFraming;
}

export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Everything the server sent (later pipelined answers included). */
  raw: Buffer;
}

function chunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += 1000) {
    const piece = body.subarray(at, at + 1000);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The request's bytes: request line, headers (Host and framing added), blank line, body. */
export function encodeRequest(request: RawHttpRequest, hostHeader: string): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  if (!request.headers.some(([name]) => name.toLowerCase() === 'host')) lines.push(`Host: ${hostHeader}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const length = request.body.length;
  let body = request.body;
  switch (request.framing) {
    case 'exact':
      lines.push(`Content-Length: ${length}`);
      break;
    case 'chunked':
      lines.push('Transfer-Encoding: chunked');
      body = chunked(request.body);
      break;
    case 'short':
      lines.push(`Content-Length: ${Math.floor(length / 2)}`);
      break;
    case 'long':
      lines.push(`Content-Length: ${length + 17}`);
      break;
    case 'none':
      break;
    case 'non-numeric':
      lines.push(`Content-Length: ${length}abc`);
      break;
    case 'conflicting':
      lines.push(`Content-Length: ${length}`, `Content-Length: ${length + 1}`);
      break;
    case 'chunked-and-length':
      lines.push(`Content-Length: ${length}`, 'Transfer-Encoding: chunked');
      body = chunked(request.body);
      break;
  }
  lines.push('Connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the first final (non-1xx) response in `raw`; null when there is none. */
export function parseResponse(raw: Buffer): RawHttpResponse | null {
  let response = parseOne(raw, raw);
  while (response && response.status < 200) response = parseOne(response.body, raw);
  return response;
}

function parseOne(data: Buffer, raw: Buffer): RawHttpResponse | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine, ...headerLines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) return null;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(headEnd + 4);
  const status = Number(match[1]);
  // An interim answer (100 Continue) has no body: what follows is the next answer.
  const body = status < 200
    ? rest
    : /chunked/i.test(headers['transfer-encoding'] ?? '')
    ? dechunk(rest)
    : headers['content-length'] !== undefined
      ? rest.subarray(0, Number(headers['content-length']))
      : rest;
  return { status, headers, body, raw };
}

/**
 * Sends the bytes and collects everything until the server closes. Resolves with `timedOut` when it
 * neither answers nor closes within `timeoutMs` (a hang is a finding). `halfClose` ends the sending
 * side at once, for requests the server would otherwise wait on (a body shorter than announced, bytes
 * that are not a whole request); Node's server drops what it had not answered yet when a client does
 * that, so complete requests keep the connection open.
 */
export function exchange(port: number, bytes: Buffer, timeoutMs: number, halfClose: boolean): Promise<{ raw: Buffer; timedOut: boolean; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const finish = (timedOut: boolean, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), timedOut, error });
    };
    const timer = setTimeout(() => finish(true, null), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(false, null));
    // A reset after the answer is how a server drops the rest of a bad request: keep what came.
    socket.on('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? error.message));
    socket.on('connect', () => (halfClose ? socket.end(bytes) : socket.write(bytes)));
  });
}
