import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OpenAIError } from '../../src/core/openai-errors.ts';
import { createImageFetcher, sniffImageFormat, type HostResolver } from '../../src/server/image-fetcher.ts';
import { startTestBridge } from '../support/bridge.ts';

// Every server here is on loopback, and every address a test resolves to is loopback: refusals are
// proven on loopback destinations, never by sending traffic anywhere else.
const NOT_FETCHABLE = /cannot be fetched: its host is not allowed or not reachable/;

function rejects400(promise: Promise<unknown>, pattern: RegExp, label: string): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAIError, label);
    assert.equal(error.status, 400, label);
    assert.match(error.message, pattern, label);
    return true;
  });
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

describe('image fetcher', () => {
  let server: Server;
  let port: number;
  let base: string;
  let requests: string[];
  /** A second loopback server, never allow-listed: any request reaching it is a failure. */
  let other: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    ({ server, port, requests } = await listen((req, res) => {
      if (req.url === '/pixel.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(PNG);
      } else if (req.url === '/octet') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(PNG);
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': 4096 });
        res.end(Buffer.alloc(4096));
      } else if (req.url === '/big-chunked') {
        res.writeHead(200, { 'content-type': 'image/png', 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 8; i++) res.write(Buffer.alloc(1024));
        res.end();
      } else if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'image/png' });
        setTimeout(() => res.end(PNG), 3000).unref();
      } else if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html></html>');
      } else if (req.url?.startsWith('/redirect?to=')) {
        res.writeHead(302, { location: decodeURIComponent(req.url.slice('/redirect?to='.length)) });
        res.end();
      } else if (req.url === '/loop') {
        res.writeHead(301, { location: '/loop' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    }));
    base = `http://127.0.0.1:${port}`;
    other = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    });
  });
  after(async () => {
    await close(server);
    await close(other.server);
  });

  const fetcher = createImageFetcher({ maxBytes: 2048, timeoutMs: 500, allowHosts: ['127.0.0.1'] });

  it('fetches a PNG, by content type or by its magic number', async () => {
    const image = await fetcher(`${base}/pixel.png`);
    assert.equal(image.format, 'png');
    assert.deepEqual(Buffer.from(image.bytes), PNG);
    assert.equal((await fetcher(`${base}/octet`)).format, 'png');
    assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
  });

  it('refuses oversized, slow, non-image, failing and non-http(s) URLs with a 400', async () => {
    const cases: [string, RegExp][] = [
      [`${base}/big`, /4096 bytes; the limit is 2048/],
      [`${base}/big-chunked`, /larger than the limit of 2048/],
      [`${base}/slow`, /Timed out after 500 ms/],
      [`${base}/html`, /did not return a PNG/],
      [`${base}/missing`, /HTTP 404/],
      [`${base}/loop`, /redirected more than 5 times/],
      [`${base}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, /redirected to a URL that is not http/],
      ['file:///etc/passwd', /Unsupported image URL scheme/],
      ['ftp://example.com/x.png', /Unsupported image URL scheme/],
      ['not a url', /Invalid image URL/],
    ];
    for (const [url, pattern] of cases) await rejects400(fetcher(url), pattern, url);
    await assert.rejects(createImageFetcher({ maxBytes: 2048, timeoutMs: 500, enabled: false })(`${base}/pixel.png`), /disabled/);
  });

  it('refuses loopback by default, in every spelling, before connecting', async () => {
    const strict = createImageFetcher({ maxBytes: 2048, timeoutMs: 500 });
    const before = requests.length;
    for (const host of ['127.0.0.1', 'localhost', '127.1', '2130706433', '0x7f.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::127.0.0.1]', '[64:ff9b::7f00:1]', '[::1]', '0.0.0.0']) {
      await rejects400(strict(`http://${host}:${port}/pixel.png`), NOT_FETCHABLE, host);
    }
    assert.equal(requests.length, before, 'no request reached the server');
  });

  it('fetches an allow-listed loopback host, by address or by name', async () => {
    assert.equal((await createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, allowHosts: [`127.0.0.1:${port}`] })(`${base}/pixel.png`)).format, 'png');
    assert.equal((await createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, allowHosts: ['127.0.0.0/8'] })(`http://localhost:${port}/pixel.png`)).format, 'png');
    await rejects400(createImageFetcher({ maxBytes: 2048, timeoutMs: 500, allowHosts: [`127.0.0.1:${other.port}`] })(`${base}/pixel.png`), NOT_FETCHABLE, 'another port');
  });

  it('checks every redirect hop: an allow-listed server cannot send the fetch to another port', async () => {
    const onlyFirst = createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, allowHosts: [`127.0.0.1:${port}`] });
    assert.equal((await onlyFirst(`${base}/redirect?to=${encodeURIComponent('/pixel.png')}`)).format, 'png', 'a redirect within the allowed server');
    const target = `http://127.0.0.1:${other.port}/pixel.png`;
    for (const to of [target, `http://localhost:${other.port}/pixel.png`, `http://[::ffff:127.0.0.1]:${other.port}/pixel.png`]) {
      await rejects400(onlyFirst(`${base}/redirect?to=${encodeURIComponent(to)}`), NOT_FETCHABLE, to);
    }
    assert.deepEqual(other.requests, [], 'the other server was never reached');
  });

  it('judges the address a name resolves to, and connects to exactly that address', async () => {
    const resolveTo =
      (...addresses: string[]): HostResolver =>
      async () =>
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const url = `http://images.example.test:${port}/pixel.png`;
    await rejects400(createImageFetcher({ maxBytes: 2048, timeoutMs: 500, resolve: resolveTo('127.0.0.1') })(url), NOT_FETCHABLE, 'a public-looking name on loopback');
    await rejects400(createImageFetcher({ maxBytes: 2048, timeoutMs: 500, resolve: resolveTo('127.0.0.1'), allowHosts: ['127.0.0.2'] })(url), NOT_FETCHABLE, 'a different loopback address listed');
    // 127.0.0.2 (not listed) comes first; the socket is handed only 127.0.0.1, where the server is.
    const fetched = await createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, resolve: resolveTo('127.0.0.2', '127.0.0.1'), allowHosts: ['127.0.0.1'] })(url);
    assert.equal(fetched.format, 'png');
    assert.equal((await createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, resolve: resolveTo('127.0.0.1'), allowHosts: ['images.example.test'] })(url)).format, 'png', 'a listed name');
  });

  it('says the same for a refused host and for an allowed one that does not answer', async () => {
    const closed = await listen(() => {});
    await close(closed.server);
    const allowed = createImageFetcher({ maxBytes: 2048, timeoutMs: 1000, allowHosts: ['127.0.0.1'] });
    const strict = createImageFetcher({ maxBytes: 2048, timeoutMs: 1000 });
    const messages = await Promise.all(
      [allowed(`http://127.0.0.1:${closed.port}/x.png`), strict(`http://127.0.0.1:${closed.port}/x.png`), strict(`${base}/pixel.png`)].map((attempt) =>
        attempt.then(
          () => assert.fail('fetched'),
          (error: OpenAIError) => error.message,
        ),
      ),
    );
    assert.equal(new Set(messages).size, 1, messages.join(' | '));
    assert.match(messages[0]!, NOT_FETCHABLE);
    assert.doesNotMatch(messages[0]!, /ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
  });

  it('refuses the bridge\'s own API as an image URL by default, saying nothing about it', async () => {
    const bridge = await startTestBridge();
    try {
      const response = await fetch(`${bridge.baseURL}/chat/completions`, {
        method: 'POST',
        headers: bridge.headers(),
        body: JSON.stringify({ model: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${bridge.baseURL}/models` } }] }] }),
      });
      assert.equal(response.status, 400);
      const { error } = (await response.json()) as { error: { message: string; code: string; param: string } };
      assert.match(error.message, NOT_FETCHABLE);
      assert.doesNotMatch(error.message, /401|HTTP/);
      assert.equal(error.param, 'messages[0].content[0].image_url.url');
      assert.equal(bridge.events.filter((event) => event.route === '/v1/models').length, 0, 'the bridge never called itself');
    } finally {
      await bridge.close();
    }
  });

  it('sends a fetched image to Bedrock as bytes through the chat route', async () => {
    const bridge = await startTestBridge({ gateway: { imageFetch: { allowHosts: ['127.0.0.1'] } } });
    try {
      const response = await fetch(`${bridge.baseURL}/chat/completions`, {
        method: 'POST',
        headers: bridge.headers(),
        body: JSON.stringify({
          model: 'amazon.nova-lite-v1:0',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: `${base}/pixel.png` } }] }],
        }),
      });
      assert.equal(response.status, 200);
      const sent = bridge.emulator.recorder.last('Converse')!.body as { messages: { content: { image?: { format: string; source: { bytes: string } } }[] }[] };
      const image = sent.messages[0]!.content.find((block) => block.image)!.image!;
      assert.equal(image.format, 'png');
      assert.deepEqual(Buffer.from(image.source.bytes, 'base64'), PNG);

      const bad = await fetch(`${bridge.baseURL}/chat/completions`, {
        method: 'POST',
        headers: bridge.headers(),
        body: JSON.stringify({ model: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${base}/html` } }] }] }),
      });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.type, 'invalid_request_error');
    } finally {
      await bridge.close();
    }
  });
});
