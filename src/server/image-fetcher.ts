import type { ImageResolver } from '../core/chat-request.ts';
import { OpenAIError } from '../core/openai-errors.ts';
import { imageFormatOfMediaType, sniffImageFormat } from '../core/image-format.ts';
import { messageOf } from '../core/error-message.ts';

export { sniffImageFormat };

export interface ImageFetchOptions {
  /** Largest image accepted, in bytes (checked against Content-Length and while reading). */
  maxBytes: number;
  /** Whole fetch, headers and body, in milliseconds. */
  timeoutMs: number;
  /** When false every http(s) URL is refused. */
  enabled?: boolean;
  /** For tests. */
  fetch?: typeof fetch;
}

function invalidImage(message: string): OpenAIError {
  return new OpenAIError(400, message, { type: 'invalid_request_error', code: 'invalid_image_url', param: 'messages' });
}

/**
 * The ImageResolver for `image_url` parts with http(s) URLs: only http and https, a size cap (declared
 * and actual), a time limit over the whole download, and a format Bedrock accepts (png, jpeg, gif, webp).
 */
export function createImageFetcher(options: ImageFetchOptions): ImageResolver {
  const fetchImpl = options.fetch ?? fetch;
  const { maxBytes, timeoutMs } = options;
  return async function fetchImage(url: string) {
    if (options.enabled === false) {
      throw invalidImage('Fetching images from URLs is disabled (imageFetch.enabled is false); send the image as a data: URI.');
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidImage('Invalid image URL.');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw invalidImage(`Unsupported image URL scheme "${parsed.protocol}": use http(s) or a data: URI.`);
    }
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetchImpl(parsed, { signal, redirect: 'follow', headers: { accept: 'image/png, image/jpeg, image/gif, image/webp' } });
    } catch (error) {
      const timedOut = signal.aborted;
      throw invalidImage(
        timedOut
          ? `Timed out after ${timeoutMs} ms fetching the image at ${parsed.origin}.`
          : `Could not fetch the image at ${parsed.origin}: ${messageOf(error)}`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw invalidImage(`Fetching the image at ${parsed.origin} failed with HTTP ${response.status}.`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw invalidImage(`The image at ${parsed.origin} is ${declared} bytes; the limit is ${maxBytes}.`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      const reader = response.body?.getReader();
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel().catch(() => {});
          throw invalidImage(`The image at ${parsed.origin} is larger than the limit of ${maxBytes} bytes.`);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof OpenAIError) throw error;
      throw invalidImage(
        signal.aborted
          ? `Timed out after ${timeoutMs} ms fetching the image at ${parsed.origin}.`
          : `Could not read the image at ${parsed.origin}.`,
      );
    }
    const bytes = Buffer.concat(chunks, total);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const format = imageFormatOfMediaType(mediaType) ?? sniffImageFormat(bytes);
    if (!format) {
      throw invalidImage(`The URL did not return a PNG, JPEG, GIF or WebP image (content type "${mediaType || 'none'}").`);
    }
    return { format, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  };
}
