import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { nonLoopbackIPv4Addresses, openAIErrorOf, rawRequest, tcpConnectOutcome } from '../support/http.ts';

const CHAT = '/v1/chat/completions';
const chatBody = JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'hi' }] });

describe('security guards', () => {
  let bridge: TestBridge;
  const allowedOrigin = 'http://localhost:5173';

  before(async () => {
    bridge = await startTestBridge({ allowedOrigins: [allowedOrigin], bodyLimitBytes: 64 * 1024 });
  });
  after(async () => {
    await bridge.close();
  });

  const auth = () => ({ authorization: `Bearer ${bridge.apiKey}` });

  it('rejects a request without an API key with 401 invalid_api_key', async () => {
    const response = await rawRequest({ port: bridge.port, path: '/v1/models' });
    assert.equal(response.status, 401);
    const error = openAIErrorOf(response);
    assert.equal(error.code, 'invalid_api_key');
  });

  it('rejects a wrong Bearer key and a wrong x-api-key with 401', async () => {
    const wrongKeys: Record<string, string>[] = [{ authorization: 'Bearer nope' }, { 'x-api-key': 'nope' }, { authorization: `Bearer ${bridge.apiKey}x` }, { authorization: bridge.apiKey }];
    for (const headers of wrongKeys) {
      const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.equal(openAIErrorOf(response).code, 'invalid_api_key');
    }
  });

  it('accepts the key as Bearer and as x-api-key', async () => {
    const bearer = await rawRequest({ port: bridge.port, path: '/v1/models', headers: auth() });
    assert.equal(bearer.status, 200);
    const xApiKey = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { 'x-api-key': bridge.apiKey } });
    assert.equal(xApiKey.status, 200);
    assert.equal(xApiKey.json.object, 'list');
  });

  it('an empty x-api-key counts as absent: the Bearer decides', async () => {
    const withBearer = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { 'x-api-key': '', ...auth() } });
    assert.equal(withBearer.status, 200);
    for (const headers of [{ 'x-api-key': '', authorization: 'Bearer nope' }, { 'x-api-key': '' }] as Record<string, string>[]) {
      const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.equal(openAIErrorOf(response).code, 'invalid_api_key');
    }
    // A non-empty x-api-key still wins over the Bearer.
    const wrongXApiKey = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { 'x-api-key': 'nope', ...auth() } });
    assert.equal(wrongXApiKey.status, 401);
  });

  it('rejects a foreign Host (DNS rebinding) even with the right key', async () => {
    for (const host of [`evil.example:${bridge.port}`, 'localhost', `127.0.0.1:${bridge.port + 1}`, `localhost.evil.example:${bridge.port}`]) {
      const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { ...auth(), host } });
      assert.equal(response.status, 403, host);
      assert.equal(openAIErrorOf(response).code, 'host_not_allowed');
    }
  });

  it('accepts localhost and [::1] Host names on its port', async () => {
    for (const host of [`localhost:${bridge.port}`, `[::1]:${bridge.port}`, `127.0.0.1:${bridge.port}`, `LOCALHOST:${bridge.port}`]) {
      const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { ...auth(), host } });
      assert.equal(response.status, 200, host);
    }
  });

  it('rejects a foreign Origin, even with the right key', async () => {
    const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { ...auth(), origin: 'https://evil.example' } });
    assert.equal(response.status, 403);
    assert.equal(openAIErrorOf(response).code, 'origin_not_allowed');
    assert.equal(response.headers['access-control-allow-origin'], undefined);
    const preflight = await rawRequest({
      port: bridge.port,
      method: 'OPTIONS',
      path: CHAT,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });

  it('accepts an allow-listed Origin, with CORS headers and a preflight answer', async () => {
    const preflight = await rawRequest({
      port: bridge.port,
      method: 'OPTIONS',
      path: CHAT,
      headers: { origin: allowedOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], allowedOrigin);
    const response = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { ...auth(), origin: allowedOrigin } });
    assert.equal(response.status, 200);
    assert.equal(response.headers['access-control-allow-origin'], allowedOrigin);
    // The key is still required for the allow-listed origin.
    const noKey = await rawRequest({ port: bridge.port, path: '/v1/models', headers: { origin: allowedOrigin } });
    assert.equal(noKey.status, 401);
  });

  it('answers an oversized body with 413, declared or chunked', async () => {
    const huge = JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
    const declared = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: { ...auth(), 'content-type': 'application/json' }, body: huge });
    assert.equal(declared.status, 413);
    assert.equal(openAIErrorOf(declared).code, 'request_too_large');
    const chunked = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: { ...auth(), 'content-type': 'application/json' }, body: huge, chunked: true });
    assert.equal(chunked.status, 413);
    assert.equal(openAIErrorOf(chunked).type, 'invalid_request_error');
  });

  it('answers malformed JSON with 400', async () => {
    const response = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: { ...auth(), 'content-type': 'application/json' }, body: '{"model": "x", "messages": [' });
    assert.equal(response.status, 400);
    const error = openAIErrorOf(response);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'invalid_json');
  });

  it('answers a non-JSON content type with 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: { ...auth(), 'content-type': contentType }, body: chatBody });
      assert.equal(response.status, 415, contentType);
      assert.equal(openAIErrorOf(response).code, 'unsupported_media_type');
    }
    const none = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: auth(), body: chatBody });
    assert.equal(none.status, 415);
    const charset = await rawRequest({ port: bridge.port, method: 'POST', path: CHAT, headers: { ...auth(), 'content-type': 'application/json; charset=utf-8' }, body: chatBody });
    assert.equal(charset.status, 200);
  });

  it('answers unknown paths with an OpenAI-shaped 404 (after the guards)', async () => {
    const anonymous = await rawRequest({ port: bridge.port, path: '/admin' });
    assert.equal(anonymous.status, 401);
    const response = await rawRequest({ port: bridge.port, path: '/v1/files', headers: auth() });
    assert.equal(response.status, 404);
    openAIErrorOf(response);
  });

  it('is not reachable on a non-loopback address of this machine', async (t) => {
    const addresses = nonLoopbackIPv4Addresses();
    if (addresses.length === 0) {
      t.skip('this machine has no non-loopback IPv4 address to try');
      return;
    }
    for (const address of addresses) {
      assert.notEqual(await tcpConnectOutcome(address, bridge.port), 'connected', `the gateway answered on ${address}:${bridge.port}`);
    }
  });
});

describe('--host with a non-loopback address', () => {
  it('accepts requests addressed to that address (Host addr:port) and still requires the key', async (t) => {
    const address = nonLoopbackIPv4Addresses()[0];
    if (!address) {
      t.skip('this machine has no non-loopback IPv4 address');
      return;
    }
    const bridge = await startTestBridge({ gateway: { host: address } });
    try {
      assert.equal(bridge.baseURL, `http://${address}:${bridge.port}/v1`);
      const ok = await rawRequest({ host: address, port: bridge.port, path: '/v1/models', headers: { authorization: `Bearer ${bridge.apiKey}` } });
      assert.equal(ok.status, 200);
      const noKey = await rawRequest({ host: address, port: bridge.port, path: '/v1/models' });
      assert.equal(noKey.status, 401);
      const foreign = await rawRequest({ host: address, port: bridge.port, path: '/v1/models', headers: { authorization: `Bearer ${bridge.apiKey}`, host: `evil.example:${bridge.port}` } });
      assert.equal(foreign.status, 403);
    } finally {
      await bridge.close();
    }
  });
});
