import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RequestBatch } from '../../src/server/control/live-events.ts';
import type { AppState } from '../../src/app/types.ts';
import { rawRequest } from '../support/http.ts';
import { controlCall, portOf, startApp, tempDataDirectory, uiCookieFrom, type AppUnderTest } from '../app/support.ts';

const NOVA = 'amazon.nova-micro-v1:0';

describe('control API and UI on the local server', () => {
  const home = tempDataDirectory('bb-control-');
  const uiDirectory = join(home.path, 'renderer');
  let running: AppUnderTest;
  let port: number;
  let cookie: string;

  before(async () => {
    mkdirSync(join(uiDirectory, 'assets'), { recursive: true });
    writeFileSync(join(uiDirectory, 'index.html'), '<!doctype html><title>Bedrock Bridge</title><script type="module" src="assets/app.js"></script>');
    writeFileSync(join(uiDirectory, 'assets', 'app.js'), 'console.log("ui");');
    writeFileSync(join(home.path, 'secret.txt'), 'not for the window');
    running = await startApp({ dataDirectory: home.path, uiDirectory });
    port = portOf(running.app);
    cookie = await uiCookieFrom(running.app);
  });
  after(async () => {
    await running.close();
    home.remove();
  });

  it('says who holds the port without any credential, and nothing secret', async () => {
    const hello = await rawRequest({ port, path: '/control/v1/hello' });
    assert.equal(hello.status, 200);
    assert.deepEqual(Object.keys(hello.json).sort(), ['service', 'version']);
    assert.equal(hello.json.service, 'bedrock-bridge');
  });

  it('exchanges a one-time link token for an HttpOnly SameSite=Strict cookie and strips it from the URL; a reused token gets nothing', async () => {
    const link = new URL(running.app.uiLink()!);
    const first = await rawRequest({ port, path: `${link.pathname}${link.search}` });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/ui/');
    const setCookie = String(first.headers['set-cookie']);
    assert.match(setCookie, /^bb_ui=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!setCookie.includes(link.searchParams.get('token')!), 'the cookie is not the link token');
    const again = await rawRequest({ port, path: `${link.pathname}${link.search}` });
    assert.equal(again.status, 401);
    assert.equal(again.headers['set-cookie'], undefined);
    const made = await rawRequest({ port, path: '/ui/?token=made-up-token' });
    assert.equal(made.status, 401);
    // The used link opened again in the browser that holds the session: the token is dropped, nothing new is set.
    const reopened = await rawRequest({ port, path: `${link.pathname}${link.search}`, headers: { cookie: setCookie.split(';')[0]! } });
    assert.equal(reopened.status, 303);
    assert.equal(reopened.headers['set-cookie'], undefined);
    // Electron's main sets this very cookie on the window's session.
    const electron = running.app.uiCookie()!;
    assert.deepEqual({ ...electron, value: '' }, { url: `http://127.0.0.1:${port}`, name: 'bb_ui', value: '', path: '/', httpOnly: true, sameSite: 'strict' });
    assert.equal((await controlCall(running.app, `bb_ui=${electron.value}`, 'GET', '/state')).status, 200);
  });

  it('refuses no cookie, the API key, a foreign Origin, a foreign Host, a cross-site POST and a POST without the CSRF header', async () => {
    const noCookie = await rawRequest({ port, path: '/control/v1/state' });
    assert.equal(noCookie.status, 401);
    assert.equal(noCookie.json.error.code, 'ui_session_required');
    const apiKey = running.app.connection()!.apiKey;
    const keyHeaders: Array<Record<string, string>> = [{ authorization: `Bearer ${apiKey}` }, { 'x-api-key': apiKey }];
    for (const headers of keyHeaders) {
      const withKey = await rawRequest({ port, path: '/control/v1/connection', headers });
      assert.equal(withKey.status, 401, 'the API key opens no control route');
    }
    const foreign = await controlCall(running.app, cookie, 'GET', '/state', undefined, { origin: 'http://localhost:3000' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.json.error.code, 'foreign_origin');
    const rebinding = await rawRequest({ port, path: '/control/v1/state', headers: { cookie, host: `evil.example:${port}` } });
    assert.equal(rebinding.status, 403);

    const change = { model: NOVA };
    const crossSite = await controlCall(running.app, cookie, 'POST', '/models/default', change, { 'sec-fetch-site': 'same-site', origin: `http://127.0.0.1:${port}` });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.json.error.code, 'csrf_rejected');
    const foreignPost = await controlCall(running.app, cookie, 'POST', '/models/default', change, { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'cross-site' });
    assert.equal(foreignPost.status, 403);
    const form = await rawRequest({ port, method: 'POST', path: '/control/v1/models/default', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(change) });
    assert.equal(form.status, 403, 'no CSRF header');
    assert.equal(form.json.error.code, 'csrf_rejected');
    const crossSiteRead = await controlCall(running.app, cookie, 'GET', '/connection', undefined, { 'sec-fetch-site': 'same-site' });
    assert.equal(crossSiteRead.status, 403, 'another page on localhost cannot read the API key');
    assert.notEqual(running.app.state.models.defaultModel, NOVA, 'none of them changed anything');

    const ok = await controlCall(running.app, cookie, 'POST', '/models/default', change);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.defaultModel, NOVA);
    assert.ok(ok.json.catalogue.some((entry: { id: string }) => entry.id === NOVA), 'the catalogue lists Bedrock models');
  });

  it('the UI cookie opens no model call', async () => {
    for (const path of ['/v1/models', '/v1/chat/completions']) {
      const answer = await rawRequest({ port, method: path.endsWith('models') ? 'GET' : 'POST', path, headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(answer.status, 401, path);
    }
  });

  it('serves the built renderer under /ui/ with a strict CSP, content types, and no way out of its folder', async () => {
    const index = await rawRequest({ port, path: '/ui/', headers: { cookie } });
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.match(String(index.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    const script = await rawRequest({ port, path: '/ui/assets/app.js', headers: { cookie } });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    for (const path of ['/ui/../secret.txt', '/ui/%2e%2e/secret.txt', '/ui/assets/..%2f..%2fsecret.txt', '/ui/..%5csecret.txt', '/ui/nothing.js']) {
      const answer = await rawRequest({ port, path, headers: { cookie } });
      assert.ok(answer.status === 404 || answer.status === 401, `${path}: ${answer.status}`);
      assert.ok(!answer.text.includes('not for the window'), path);
    }
    assert.equal((await rawRequest({ port, path: '/ui/' })).status, 401, 'no cookie, no UI');
    // A server whose window was never built says so.
    const unbuilt = await startApp({ dataDirectory: join(home.path, 'unbuilt'), uiDirectory: join(home.path, 'nothing-here') });
    try {
      const answer = await rawRequest({ port: portOf(unbuilt.app), path: '/ui/', headers: { cookie: await uiCookieFrom(unbuilt.app) } });
      assert.equal(answer.status, 404);
      assert.match(answer.text, /not built .*npm run build/);
    } finally {
      await unbuilt.close();
    }
  });

  it('settings, models, try it, usage with CSV, sync state; sign-in is a conflict for the emulator', async () => {
    const settings = await controlCall(running.app, cookie, 'GET', '/settings');
    assert.equal(settings.status, 200);
    assert.equal(settings.json.settings.startAtLogin, null);
    const bad = await controlCall(running.app, cookie, 'PATCH', '/settings', { port: 'eighty' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.field, 'port');
    const unknownModel = await controlCall(running.app, cookie, 'PUT', '/models', { aliases: { mine: 'not-a-model' } });
    assert.equal(unknownModel.status, 400);
    const aliases = await controlCall(running.app, cookie, 'PUT', '/models', { aliases: { mine: NOVA }, defaultModel: 'mine' });
    assert.equal(aliases.status, 200, aliases.text);
    assert.deepEqual(aliases.json.userAliases, { mine: NOVA });
    assert.equal(aliases.json.defaultModelId, NOVA);

    const tried = await controlCall(running.app, cookie, 'POST', '/models/try', {});
    assert.equal(tried.status, 200);
    assert.equal(tried.json.ok, true, tried.text);
    assert.equal(tried.json.modelId, NOVA);
    assert.ok(tried.json.latencyMs >= 0);

    await running.app.usage!.ledger.flush();
    const usage = await controlCall(running.app, cookie, 'GET', '/usage?group=model');
    assert.equal(usage.status, 200);
    const row = usage.json.rows.find((r: { key: string }) => r.key === NOVA);
    assert.ok(row && row.requests >= 1, usage.text);
    assert.equal(usage.json.totals.requests, usage.json.rows.reduce((sum: number, r: { requests: number }) => sum + r.requests, 0));
    const csv = await controlCall(running.app, cookie, 'GET', '/usage.csv?group=model');
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(csv.text, /^"grouping","key","requests","input_tokens",.*"errors"\r\n/);
    assert.ok(csv.text.includes(`"model","${NOVA}",`));
    assert.equal((await controlCall(running.app, cookie, 'GET', '/usage?group=year')).status, 400);
    const sync = await controlCall(running.app, cookie, 'GET', '/usage/sync');
    assert.equal(sync.json.enabled, false);

    const signIn = await controlCall(running.app, cookie, 'POST', '/sign-in', {});
    assert.equal(signIn.status, 409);
    assert.equal(signIn.json.error.code, 'conflict');
  });

  it('streams state and request started / progress / finished events for a streaming chat', async () => {
    const controller = new AbortController();
    const events = await fetch(`http://127.0.0.1:${port}/control/v1/events`, { headers: { cookie }, signal: controller.signal });
    assert.equal(events.status, 200);
    assert.match(events.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const received: Array<{ event: string; data: unknown }> = [];
    const readUntil = async (done: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`events so far: ${JSON.stringify(received).slice(0, 2000)}`);
        const { value, done: ended } = await reader.read();
        if (ended) throw new Error('the event stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) received.push({ event, data: JSON.parse(data) });
        }
      }
    };
    await readUntil(() => received.length > 0);
    assert.equal(received[0]!.event, 'state');
    assert.equal((received[0]!.data as AppState).status, 'serving');

    // A browser's own request and a Bedrock-native call without the key, before the chat.
    assert.equal((await rawRequest({ port, path: '/favicon.ico' })).status, 401);
    assert.equal((await rawRequest({ port, method: 'POST', path: `/model/${NOVA}/converse`, headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
    const { baseUrl, apiKey } = running.app.connection()!;
    const answer = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: NOVA, stream: true, messages: [{ role: 'user', content: 'hello secret prompt [[chunks:12]] [[slow:100ms]]' }] }),
    });
    const requestId = answer.headers.get('x-request-id')!;
    const body = await answer.text();
    assert.match(body, /\[DONE\]/);
    const batches = () => received.filter((entry) => entry.event === 'requests').map((entry) => entry.data as RequestBatch);
    await readUntil(() => batches().some((batch) => batch.finished.some((event) => event.id === requestId)));
    controller.abort();

    const all = batches();
    assert.ok(all.some((batch) => batch.started.some((event) => event.id === requestId && event.route === '/v1/chat/completions')), 'request-started');
    const progress = all.flatMap((batch) => batch.progress).filter((event) => event.id === requestId);
    assert.ok(progress.some((event) => event.modelId === NOVA), 'the model as soon as it was resolved');
    assert.ok(progress.some((event) => event.outputTokens > 0 && event.timeToFirstTokenMs !== null), 'tokens so far while it streamed');
    const finished = all.flatMap((batch) => batch.finished).find((event) => event.id === requestId)!;
    assert.equal(finished.status, 200);
    assert.ok(finished.usage.outputTokens > 0);
    assert.equal(typeof finished.costUsd, 'number');
    assert.ok(!JSON.stringify(received).includes('secret prompt'), 'no prompt text in any event');
    assert.ok(!all.some((batch) => batch.started.some((event) => event.route.startsWith('/control'))), 'control calls are not in the live log');
    const finishedRoutes = all.flatMap((batch) => batch.finished.map((event) => event.route));
    assert.ok(!finishedRoutes.includes('/favicon.ico') && !all.some((batch) => batch.started.some((event) => event.route === '/favicon.ico')), 'paths outside the model API are not in the live log');
    assert.ok(finishedRoutes.includes('/model/{modelId}/converse'), 'the Bedrock-native passthrough is');
  });
});
