import { lookup as systemLookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { AddressPolicy } from '../core/address-policy.ts';
import type { ImageResolver } from '../core/chat-request.ts';
import { imageFormatOfMediaType, sniffImageFormat } from '../core/image-format.ts';
import { OpenAIError } from '../core/openai-errors.ts';

export { sniffImageFormat };

/** Every address a host name resolves to, as `dns.lookup(name, { all: true })` gives them. */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface ImageFetchOptions {
  /** Largest image accepted, in bytes (checked against Content-Length and while reading). */
  maxBytes: number;
  /** Whole fetch, redirects, headers and body, in milliseconds. */
  timeoutMs: number;
  /** When false every http(s) URL is refused. */
  enabled?: boolean;
  /**
   * Hosts (`name`, `name:port`, IP, `IP:port`) and CIDR ranges that may be fetched although they are
   * not public (an intranet image server). Everything public is always allowed.
   */
  allowHosts?: readonly string[];
  /** Redirects followed at most, each checked like the first URL (default 5). */
  maxRedirects?: number;
  /** Resolves host names; default the system resolver. For tests. */
  resolve?: HostResolver;
}

const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Said alike for a destination the policy refuses and for one that cannot be reached (no name, refused,
 * reset, TLS failure): a client must not learn which internal hosts and ports exist.
 */
const NOT_FETCHABLE =
  'The image URL cannot be fetched: its host is not allowed or not reachable. Image URLs must lead to public hosts ' +
  '(an intranet image server can be allowed with the imageFetch.allowHosts setting), or send the image as a data: URI.';

function invalidImage(message: string): OpenAIError {
  return new OpenAIError(400, message, { type: 'invalid_request_error', code: 'invalid_image_url', param: 'messages' });
}

class RefusedDestination extends Error {
  readonly code = 'EDESTINATIONREFUSED';
}

const defaultResolve: HostResolver = (hostname) => systemLookup(hostname, { all: true });

/**
 * A socket `lookup` that resolves the name, keeps only the addresses the policy allows and hands the
 * socket exactly those: the address checked is the address connected to, so DNS rebinding between a
 * check and the connect cannot happen.
 */
function guardedLookup(policy: AddressPolicy, resolve: HostResolver, host: string, port: number): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const allowed = addresses.filter((entry) => (wanted === 0 || entry.family === wanted) && policy.allows({ host, port, address: entry.address }));
        if (allowed.length === 0) callback(new RefusedDestination('destination refused'), '', 0);
        else if (options.all) callback(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/**
 * The ImageResolver for `image_url` parts with http(s) URLs: only http and https, only public
 * destinations unless allow-listed (checked on the resolved address of every hop, redirects followed
 * here), a size cap (declared and actual), a time limit over the whole download, and a format Bedrock
 * accepts (png, jpeg, gif, webp).
 */
export function createImageFetcher(options: ImageFetchOptions): ImageResolver {
  const { maxBytes, timeoutMs } = options;
  const policy = new AddressPolicy(options.allowHosts ?? []);
  const resolve = options.resolve ?? defaultResolve;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  // Own agents without keep-alive: no socket opened elsewhere (unchecked) is ever reused for an image.
  const agents = { 'http:': new HttpAgent({ keepAlive: false }), 'https:': new HttpsAgent({ keepAlive: false }) };

  function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    // A socket skips `lookup` for an IP literal: judge the literal here.
    if (isIP(host) !== 0 && !policy.allows({ host, port, address: host })) return Promise.reject(new RefusedDestination('destination refused'));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolveResponse, reject) => {
      const request = send({
        protocol: url.protocol,
        hostname: host,
        port,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        agent: agents[url.protocol as 'http:' | 'https:'],
        lookup: guardedLookup(policy, resolve, host, port),
        signal,
        headers: { accept: 'image/png, image/jpeg, image/gif, image/webp', 'accept-encoding': 'identity' },
      });
      request.once('response', resolveResponse);
      request.once('error', reject);
      request.end();
    });
  }

  function checkedUrl(text: string, base?: URL): URL {
    let url: URL;
    try {
      url = new URL(text, base);
    } catch {
      throw invalidImage(base ? 'The image URL redirected to an invalid URL.' : 'Invalid image URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidImage(base ? 'The image URL redirected to a URL that is not http(s).' : `Unsupported image URL scheme "${url.protocol}": use http(s) or a data: URI.`);
    }
    return url;
  }

  /** Follows redirects itself, so every hop passes the same checks as the first URL. */
  async function follow(first: URL, signal: AbortSignal): Promise<IncomingMessage> {
    let url = first;
    for (let hop = 0; ; hop++) {
      let response: IncomingMessage;
      try {
        response = await get(url, signal);
      } catch {
        throw invalidImage(signal.aborted ? `Timed out after ${timeoutMs} ms fetching the image.` : NOT_FETCHABLE);
      }
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || !location) return response;
      response.destroy();
      if (hop >= maxRedirects) throw invalidImage(`The image URL redirected more than ${maxRedirects} times.`);
      url = checkedUrl(location, url);
    }
  }

  async function readBody(response: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        total += chunk.byteLength;
        if (total > maxBytes) throw invalidImage(`The image is larger than the limit of ${maxBytes} bytes.`);
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof OpenAIError) throw error;
      throw invalidImage(signal.aborted ? `Timed out after ${timeoutMs} ms fetching the image.` : 'Could not read the image from its URL.');
    }
    return Buffer.concat(chunks, total);
  }

  return async function fetchImage(text: string) {
    if (options.enabled === false) {
      throw invalidImage('Fetching images from URLs is disabled (imageFetch.enabled is false); send the image as a data: URI.');
    }
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await follow(checkedUrl(text), signal);
    try {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) throw invalidImage(`Fetching the image failed with HTTP ${status}.`);
      const declared = Number(response.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBytes) throw invalidImage(`The image is ${declared} bytes; the limit is ${maxBytes}.`);
      const bytes = await readBody(response, signal);
      const mediaType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format = imageFormatOfMediaType(mediaType) ?? sniffImageFormat(bytes);
      if (!format) {
        throw invalidImage(`The URL did not return a PNG, JPEG, GIF or WebP image (content type "${mediaType || 'none'}").`);
      }
      return { format, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    } finally {
      response.destroy();
    }
  };
}
