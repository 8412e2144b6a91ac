import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A plain HTTP/1.1 request with full control over Host, Origin and the body (fetch forbids some). */
export function rawRequest(options: {
  port: number;
  host?: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        setHost: !(options.headers && Object.keys(options.headers).some((name) => name.toLowerCase() === 'host')),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) {
      if (options.chunked) {
        const body = Buffer.from(options.body);
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));
        req.write(body.subarray(half));
      } else {
        req.setHeader('content-length', Buffer.byteLength(options.body));
        req.write(options.body);
      }
    }
    req.end();
  });
}

/** Asserts the OpenAI error shape and returns the error object. */
export function openAIErrorOf(response: RawResponse): { message: string; type: string; param: string | null; code: string | null } {
  const error = response.json?.error;
  if (!error || typeof error.message !== 'string' || typeof error.type !== 'string' || !('param' in error) || !('code' in error)) {
    throw new Error(`not an OpenAI error body (status ${response.status}): ${response.text.slice(0, 300)}`);
  }
  return error;
}

/** This machine's non-loopback IPv4 addresses (where another machine could reach it). */
export function nonLoopbackIPv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && !info.internal && info.family === 'IPv4')
    .map((info) => info!.address);
}

/** How a TCP connection to host:port goes: 'connected', 'timeout', or the error code (ECONNREFUSED...). */
export function tcpConnectOutcome(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/** POSTs `body` and drops the connection as soon as the first bytes of the answer arrive (a client walking away mid-stream). */
export function abandonAfterFirstBytes(port: number, path: string, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
    req.end(body);
  });
}
