import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dialectOf } from '../../src/server/dialect.ts';
import { encodeRequest, exchange, parseResponse } from './raw-http.ts';
import { ROUTES } from './routes.ts';
import { serverProperties, startFuzzBridge, type FuzzBridge } from './server-fuzz.ts';
import { checkProperty, watchUnhandled } from './support.ts';

// A fixed seed and a bounded number of inputs: the suite finds regressions, test/bench/fuzz.bench.ts searches.
const RUNS = 200;

describe('fuzz: the local server', () => {
  let fuzz: FuzzBridge;
  const unhandled = watchUnhandled();
  before(async () => {
    fuzz = await startFuzzBridge();
  });
  after(async () => {
    await fuzz.close();
    unhandled.stop();
  });

  it('the route table names each route\'s dialect as the server tells it', () => {
    for (const route of ROUTES) assert.equal(dialectOf(route.path.replace('{id}', 'x')), route.dialect, route.path);
  });

  for (const name of [...ROUTES.map((route) => `${route.method} ${route.path}`), 'unknown paths and methods', 'raw bytes']) {
    it(`${name}: no 5xx, no hang, errors in the caller's dialect, no stack trace or secret`, async () => {
      const entry = serverProperties(fuzz).find((candidate) => candidate.name === name);
      assert.ok(entry, `no property named ${name}`);
      await checkProperty(entry.property, RUNS);
    });
  }

  it('found: free-form JSON nested 10 000 levels deep (tool parameters) is a 400, not a 500 from the SDK\'s serialiser', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`;
    const response = await fetch(`${fuzz.bridge.baseURL}/chat/completions`, { method: 'POST', headers: fuzz.bridge.headers(), body });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /more than 256 levels deep/);
  });

  it('found: a stream answered to `Connection: close` closes the connection when it ends (a forced keep-alive held it open)', async () => {
    const body = Buffer.from(JSON.stringify({ model: 'amazon.nova-lite-v1:0', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const bytes = encodeRequest({ method: 'POST', target: '/v1/chat/completions', headers: [['Authorization', `Bearer ${fuzz.bridge.apiKey}`], ['Content-Type', 'application/json']], body, framing: 'exact' }, `127.0.0.1:${fuzz.bridge.port}`);
    const { raw, timedOut } = await exchange(fuzz.bridge.port, bytes, 20_000, false);
    assert.equal(timedOut, false);
    const response = parseResponse(raw)!;
    assert.equal(response.status, 200);
    assert.equal(response.headers.connection, 'close');
    assert.match(response.body.toString('utf8'), /data: \[DONE\]/);
  });

  it('leaves no unhandled rejection and a server that still answers', async () => {
    const response = await fetch(`${fuzz.bridge.baseURL}/models`, { headers: fuzz.bridge.headers() });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.deepEqual(unhandled.errors(), []);
    // The inputs reached the routes, not only the guards: some succeeded, some were refused as invalid.
    const statuses = fuzz.statuses;
    assert.ok((statuses.get(200) ?? 0) > 20, `successes: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) > 20, `invalid requests: ${JSON.stringify([...statuses])}`);
  });
});
