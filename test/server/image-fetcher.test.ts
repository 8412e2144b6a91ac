import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OpenAIError } from '../../src/core/openai-errors.ts';
import { createImageFetcher, sniffImageFormat } from '../../src/server/image-fetcher.ts';
import { startTestBridge } from '../support/bridge.ts';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

describe('image fetcher', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/pixel.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(PNG);
      } else if (req.url === '/octet') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(PNG);
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'image/png' });
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
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetcher = createImageFetcher({ maxBytes: 2048, timeoutMs: 500 });

  it('fetches a PNG, by content type or by its magic number', async () => {
    const image = await fetcher(`${base}/pixel.png`);
    assert.equal(image.format, 'png');
    assert.deepEqual(Buffer.from(image.bytes), PNG);
    assert.equal((await fetcher(`${base}/octet`)).format, 'png');
    assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
  });

  it('refuses oversized, slow, non-image, failing and non-http(s) URLs with a 400', async () => {
    for (const url of [`${base}/big`, `${base}/big-chunked`, `${base}/slow`, `${base}/html`, `${base}/missing`, 'file:///etc/passwd', 'ftp://example.com/x.png', 'not a url']) {
      await assert.rejects(fetcher(url), (error: unknown) => {
        assert.ok(error instanceof OpenAIError, url);
        assert.equal(error.status, 400, url);
        return true;
      });
    }
    await assert.rejects(createImageFetcher({ maxBytes: 2048, timeoutMs: 500, enabled: false })(`${base}/pixel.png`), /disabled/);
  });

  it('sends a fetched image to Bedrock as bytes through the chat route', async () => {
    const bridge = await startTestBridge();
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
