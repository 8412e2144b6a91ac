import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { cleanEnv, postChat, startServe, type Started } from '../support/serve-process.ts';
import { chromiumSkip, launchChromium } from '../support/chromium.ts';
import { buildUiOnce, openUi, screenshot, uiLinkOf, type UiPage } from './browser.ts';

/**
 * The window's UI end to end: real Chromium against a real `serve --emulator`, opened through the
 * one-time link serve prints, as a headless user would.
 */

const HAIKU = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';

interface Server_ {
  serve: Started;
  origin: string;
  link: string;
}

async function startBridge(home: string): Promise<Server_> {
  const serve = await startServe(['--emulator', '--port', '0'], cleanEnv(home), 45_000);
  return { serve, origin: new URL(serve.baseURL).origin, link: uiLinkOf(serve.output()) };
}

async function stopBridge(bridge: Server_): Promise<void> {
  bridge.serve.child.kill('SIGTERM');
  assert.equal(await bridge.serve.exit, 0, bridge.serve.output());
}

async function showTab(page: Page, tab: 'setup' | 'models' | 'log' | 'usage' | 'settings'): Promise<void> {
  await page.click(`#tab-${tab}`);
  await page.waitForSelector(`#panel-${tab}:not([hidden])`);
}

describe('the window in a browser', { skip: chromiumSkip(), timeout: 180_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-ui-'));
  let browser: Browser;
  let bridge: Server_;
  let ui: UiPage;

  before(async () => {
    await buildUiOnce();
    [browser, bridge] = await Promise.all([launchChromium(), startBridge(home)]);
    ui = await openUi(browser, bridge.link);
  });

  after(async () => {
    await browser?.close();
    if (bridge && bridge.serve.child.exitCode === null) bridge.serve.child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  test('the link is spent after use and leaves the address bar; the page runs under its CSP without a complaint', async () => {
    assert.equal(new URL(ui.page.url()).search, '', 'no token left in the address');
    assert.equal((await fetch(bridge.link, { redirect: 'manual' })).status, 401, 'a used link opens nothing');
    assert.match((await ui.page.textContent('#state')) ?? '', /\S/);
    assert.deepEqual(ui.problems, []);
  });

  test('Setup shows the base URL and key, copies them, and fills the snippets with them', async () => {
    const { page } = ui;
    await showTab(page, 'setup');
    await page.waitForFunction((url) => document.querySelector('#base-url')?.textContent === url, bridge.serve.baseURL);
    assert.doesNotMatch((await page.textContent('#api-key')) ?? '', new RegExp(bridge.serve.apiKey), 'the key is hidden until asked');
    await page.click('button[aria-label="Copy API key"]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), bridge.serve.apiKey);
    await page.selectOption('#snippet-picker', 'claude-code');
    await page.click('#panel-setup button:has-text("Show")');
    const snippet = (await page.textContent('#snippet pre')) ?? '';
    assert.match(snippet, new RegExp(`ANTHROPIC_BASE_URL=${bridge.origin}\\n`));
    assert.ok(snippet.includes(`ANTHROPIC_AUTH_TOKEN=${bridge.serve.apiKey}`), snippet);
  });

  test('tabs follow the keyboard: arrows move and show, focus is visible', async () => {
    const { page } = ui;
    await showTab(page, 'setup');
    await page.focus('#tab-setup');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('#tab-models', 'aria-selected'), 'true');
    assert.equal(await page.isVisible('#panel-models'), true);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-models');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused tab shows a focus ring');
    await page.keyboard.press('End');
    assert.equal(await page.getAttribute('#tab-settings', 'aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('#tab-setup', 'aria-selected'), 'true', 'wraps around');
  });

  test('the theme toggle goes light, dark, then back to the system\'s, and is remembered', async () => {
    const { page } = ui;
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const systemLight = await background();
    await page.click('#theme-toggle');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    await page.click('#theme-toggle');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    assert.notEqual(await background(), systemLight);
    await page.reload();
    await page.waitForSelector('#state[data-level]');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark', 'kept across a reload');
    await page.click('#theme-toggle');
    assert.equal(await page.getAttribute('html', 'data-theme'), null);
    assert.equal(await background(), systemLight);
  });

  test('changing the default model in Models makes the next request use it', async () => {
    const { page } = ui;
    await showTab(page, 'models');
    await page.waitForSelector('#default-model option[value="gpt-4o-mini"]', { state: 'attached' });
    await Promise.all([page.waitForResponse((response) => response.url().endsWith('/control/v1/models/default') && response.status() === 200), page.selectOption('#default-model', 'gpt-4o-mini')]);
    await page.waitForFunction((id) => document.querySelector('#default-model-id')?.textContent?.includes(id), HAIKU);

    const response = await postChat(bridge.serve.baseURL, bridge.serve.apiKey, { messages: [{ role: 'user', content: 'which model?' }] });
    assert.equal(response.status, 200, await response.clone().text());
    await showTab(page, 'log');
    await page.waitForFunction((id) => [...document.querySelectorAll('#log-list .log-row')].some((row) => row.getAttribute('data-model-id') === id && row.getAttribute('data-status') === 'ok'), HAIKU);
  });

  test('aliases: mistakes are named at the field, a saved alias serves requests', async () => {
    const { page } = ui;
    await showTab(page, 'models');
    await page.click('#add-alias');
    await page.fill('#alias-rows tr:last-child .alias-name', 'fast');
    await page.click('#save-aliases');
    assert.match((await page.textContent('#alias-error')) ?? '', /choose the Bedrock model/);
    assert.equal(await page.getAttribute('#alias-rows tr:last-child .alias-target', 'aria-invalid'), 'true');

    await page.fill('#alias-rows tr:last-child .alias-target', 'not a model');
    await page.click('#save-aliases');
    assert.match((await page.textContent('#alias-error')) ?? '', /cannot contain spaces/);

    await page.fill('#alias-rows tr:last-child .alias-target', 'amazon.nova-micro-v1:0');
    await Promise.all([page.waitForResponse((response) => response.url().endsWith('/control/v1/models') && response.request().method() === 'PUT'), page.click('#save-aliases')]);
    await page.waitForFunction(() => (document.querySelector('#alias-error')?.textContent ?? '') === '');
    const response = await postChat(bridge.serve.baseURL, bridge.serve.apiKey, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200, await response.clone().text());
    assert.ok(await page.$('#default-model option[value="fast"]'), 'the new alias can be the default');
  });

  test('"try it" answers with the latency and appears in the live log', async () => {
    const { page } = ui;
    await showTab(page, 'models');
    await page.click('#try-model');
    await page.waitForFunction(() => /Answered in \d/.test(document.querySelector('#try-result')?.textContent ?? ''));
  });

  test('a streaming request appears when it starts, counts tokens while it streams, then shows its outcome', async () => {
    const { page } = ui;
    await showTab(page, 'log');
    const done = postChat(bridge.serve.baseURL, bridge.serve.apiKey, {
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'count [[chunks:24]] [[slow:200ms]]' }],
    }).then((response) => response.text());
    const running = await page.waitForSelector('#log-list .log-row[data-status="running"]', { timeout: 10_000 });
    const id = await running.getAttribute('data-id');
    await page.waitForFunction((rowId) => /\d+ tokens so far/.test(document.querySelector(`.log-row[data-id="${rowId}"]`)?.textContent ?? ''), id);
    await done;
    await page.waitForSelector(`.log-row[data-id="${id}"][data-status="ok"]`);
    const row = (await page.textContent(`.log-row[data-id="${id}"]`)) ?? '';
    assert.match(row, /200/);
    assert.match(row, /\/ 24 out/, row);
    assert.match(row, /first token/);
  });

  test('client-supplied strings are shown as text, never as markup', async () => {
    const { page } = ui;
    await showTab(page, 'log');
    const hostile = '<img src=x id=injected onerror=alert(1)>';
    await fetch(`${bridge.serve.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.serve.apiKey}`, 'content-type': 'application/json', 'user-agent': hostile },
      body: JSON.stringify({ model: '<b>bold</b>', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].some((row) => row.textContent?.includes('<b>bold</b>')));
    assert.equal(await page.$('#injected'), null);
    assert.equal(await page.$('.log-row b'), null);
  });

  test('the filters narrow the log to a model or to failures', async () => {
    const { page } = ui;
    await showTab(page, 'log');
    await page.selectOption('#log-status-filter', 'error');
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row')].every((row) => row.getAttribute('data-status') === 'error'));
    assert.ok((await page.$$('.log-row')).length >= 1, 'the unknown model failed');
    await page.selectOption('#log-status-filter', 'all');
    // Grouped by the name asked for: the alias 'fast' is one choice, whatever it resolves to.
    await page.selectOption('#log-model-filter', 'fast');
    await page.waitForFunction(() => [...document.querySelectorAll('.log-row .log-model')].every((model) => model.textContent?.startsWith('fast')));
    assert.ok((await page.$$('.log-row')).length >= 1, 'the request to fast is listed');
    assert.match((await page.textContent('#log-summary')) ?? '', /since this window opened/);
    await page.selectOption('#log-model-filter', '');
  });

  test('usage totals are the ledger\'s', async () => {
    const { page } = ui;
    const cookie = await sessionCookie(ui);
    const state = (await (await fetch(`${bridge.origin}/control/v1/state`, { headers: { cookie } })).json()) as { ledgerPath: string };
    const ledger = new DatabaseSync(state.ledgerPath, { readOnly: true });
    let sums: { requests: number; tokens: number; cost: number };
    try {
      sums = ledger.prepare('SELECT count(*) AS requests, coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) AS tokens, coalesce(sum(cost_usd), 0) AS cost FROM records').get() as typeof sums;
    } finally {
      ledger.close();
    }
    assert.ok(sums.requests >= 4, `requests so far are on record (${sums.requests})`);
    await showTab(page, 'usage');
    await page.selectOption('#usage-range', 'all');
    await page.waitForFunction((expected) => document.querySelector<HTMLElement>('#usage-totals')?.dataset.requests === String(expected), sums.requests);
    const shown = await page.$eval('#usage-totals', (element) => ({ ...(element as HTMLElement).dataset }));
    assert.equal(Number(shown.tokens), sums.tokens);
    assert.ok(Math.abs(Number(shown.cost) - sums.cost) < 1e-9, `${shown.cost} vs ${sums.cost}`);
    assert.ok((await page.$('#usage-chart canvas')) !== null, 'the chart is drawn');
    const csv = await page.evaluate(async () => (await fetch((document.querySelector('#usage-csv') as HTMLAnchorElement).href)).text());
    // The export holds the same rows: its requests column adds up to the ledger's count.
    const [header, ...lines] = csv.trim().split(/\r?\n/).map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
    const requestsColumn = header!.indexOf('requests');
    assert.ok(requestsColumn >= 0, header!.join(','));
    assert.equal(lines.reduce((sum, cells) => sum + Number(cells[requestsColumn]), 0), sums.requests);
  });

  test('the control API refuses no cookie, the API key, a foreign Origin and a cross-site POST', async () => {
    const { origin, serve } = bridge;
    const stateUrl = `${origin}/control/v1/state`;
    const noCookie = await fetch(stateUrl);
    assert.equal(noCookie.status, 401);
    assert.equal(((await noCookie.json()) as { error: { code: string } }).error.code, 'ui_session_required');
    assert.equal((await fetch(stateUrl, { headers: { authorization: `Bearer ${serve.apiKey}` } })).status, 401, 'the API key is no UI credential');
    assert.equal((await fetch(stateUrl, { headers: { 'x-api-key': serve.apiKey } })).status, 401);

    const cookie = await sessionCookie(ui);
    assert.equal((await fetch(stateUrl, { headers: { cookie } })).status, 200);
    const defaultModel = async () => ((await (await fetch(`${origin}/control/v1/models`, { headers: { cookie } })).json()) as { defaultModel: string }).defaultModel;
    const before = await defaultModel();
    assert.notEqual(before, 'claude-opus');
    assert.equal((await fetch(`${serve.baseURL}/models`, { headers: { cookie } })).status, 401, 'the UI cookie is no API key');

    const change = (headers: Record<string, string>) =>
      fetch(`${origin}/control/v1/models/default`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'claude-opus' }) });
    const foreign = await change({ 'x-bedrock-bridge': '1', origin: 'http://attacker.example' });
    assert.equal(foreign.status, 403);
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'foreign_origin');
    const noCsrfHeader = await change({ origin });
    assert.equal(noCsrfHeader.status, 403);
    assert.equal(((await noCsrfHeader.json()) as { error: { code: string } }).error.code, 'csrf_rejected');

    // A page on another port of this machine is same-site: the browser sends the SameSite=Strict cookie
    // along with its form. The CSRF guard must still refuse the POST.
    // The form posts into a frame, so the page stays to send a script's request next.
    const attacker = await servePage(
      `<iframe name="sink"></iframe><form method="post" target="sink" action="${origin}/control/v1/models/default" enctype="text/plain"><input name='{"model":"claude-opus","x":"' value='"}'></form>`,
    );
    const page = await ui.context.newPage();
    try {
      await page.goto(attacker.url);
      const isControlCall = (candidate: { url(): string }) => candidate.url().endsWith('/control/v1/models/default');
      const [formAnswer] = await Promise.all([page.waitForResponse(isControlCall), page.evaluate(() => document.forms[0]!.submit())]);
      assert.equal(formAnswer.status(), 403);
      // A script on that page can send a no-cors POST with the cookie too; it must change nothing (checked below).
      const [scriptAnswer] = await Promise.all([
        page.waitForResponse(isControlCall),
        page.evaluate(async (url) => {
          await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"model":"claude-opus"}' }).catch(() => undefined);
        }, `${origin}/control/v1/models/default`),
      ]);
      assert.equal(scriptAnswer.status(), 403);
    } finally {
      await page.close();
      attacker.server.close();
    }
    assert.equal(await defaultModel(), before, 'the default model is unchanged by any refused call');
  });

  test('screenshots of every tab, light and dark, at the window\'s size', async () => {
    const streams: Promise<string>[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      const link = ((await (await fetch(`${bridge.origin}/control/v1/ui-link`, { headers: { cookie: await sessionCookie(ui) } })).json()) as { url: string }).url;
      const themed = await openUi(browser, link, scheme);
      try {
        for (const tab of ['setup', 'models', 'log', 'usage', 'settings'] as const) {
          await showTab(themed.page, tab);
          if (tab === 'usage') await themed.page.waitForSelector('#usage-totals .total');
          if (tab === 'log') streams.push((await showSomeTraffic(themed.page, bridge.serve)).streaming);
          if (tab === 'models') {
            await themed.page.waitForSelector('#default-model option', { state: 'attached' });
            await themed.page.click('#panel-models details summary');
          }
          if (tab === 'settings') await themed.page.waitForFunction(() => (document.querySelector<HTMLInputElement>('#setting-port')?.value ?? '') !== '');
          await screenshot(themed.page, `window-${tab}-${scheme}`);
          const overflow = await themed.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.equal(overflow, 0, `${tab} (${scheme}) fits the window's width`);
          if (tab === 'usage') await showUsageByClient(themed.page, scheme);
        }
        assert.deepEqual(themed.problems, []);
      } finally {
        await themed.context.close();
      }
    }
    await Promise.all(streams);
  });

  test('a setting changed in the window survives a restart', async () => {
    const { page } = ui;
    await showTab(page, 'settings');
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('#setting-port')?.value ?? '') !== '');
    // serve was started with --port: a restart keeps it, so the window does not offer to change it.
    assert.equal(await page.isDisabled('#setting-port'), true);
    assert.match((await page.textContent('#setting-port-hint')) ?? '', /^Set by --port for this run/);
    await page.fill('#setting-region', 'eu-west-1');
    await page.click('#save-settings');
    await page.waitForFunction(() => document.querySelector('#settings-message')?.textContent === 'Saved.');
    await page.waitForSelector('#restart-box .card');

    await stopBridge(bridge);
    await page.waitForFunction(() => /Not connected/.test(document.querySelector('#state')?.textContent ?? ''));
    assert.equal(await page.getAttribute('#state', 'data-level'), 'error');
    bridge = await startBridge(home);
    // The old page's session ended with its server: the window opened through the new link replaces it.
    await ui.context.close();
    ui = await openUi(browser, bridge.link);
    await showTab(ui.page, 'settings');
    await ui.page.waitForFunction(() => document.querySelector<HTMLInputElement>('#setting-region')?.value === 'eu-west-1');
    await showTab(ui.page, 'models');
    await ui.page.waitForFunction(() => document.querySelector<HTMLSelectElement>('#default-model')?.value === 'gpt-4o-mini');
  });

  test('a new port applies with Restart now, and the window follows the server there', async () => {
    // A serve of its own without --port (a flag would hold the port across restarts): the stored port.
    const portHome = mkdtempSync(join(tmpdir(), 'bb-ui-port-'));
    writeFileSync(join(portHome, 'settings.json'), JSON.stringify({ port: await freePort() }));
    const serve = await startServe(['--emulator'], cleanEnv(portHome), 45_000);
    const moved = await openUi(browser, uiLinkOf(serve.output()));
    try {
      const { page } = moved;
      const port = await freePort();
      await showTab(page, 'settings');
      await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('#setting-port')?.value ?? '') !== '');
      await page.fill('#setting-port', String(port));
      await page.click('#save-settings');
      await page.waitForSelector('#restart-box #restart');
      assert.match((await page.textContent('#restart-box')) ?? '', /port/);
      await Promise.all([page.waitForURL(`http://127.0.0.1:${port}/ui/**`, { timeout: 30_000 }), page.click('#restart')]);
      await page.waitForSelector('#state[data-level="ok"]', { timeout: 30_000 });
      assert.match((await page.textContent('#state')) ?? '', new RegExp(`^Emulator · 127\\.0\\.0\\.1:${port}\\b`));
      assert.match((await page.getAttribute('#state', 'title')) ?? '', new RegExp(`:${port}/v1`));
      // The key as the window shows it now: the one serve printed (a generated key lasts as long as the process).
      const connection = await page.evaluate(async () => (await fetch('/control/v1/connection')).json() as Promise<{ baseUrl: string; apiKey: string }>);
      assert.equal(connection.baseUrl, `http://127.0.0.1:${port}/v1`);
      assert.equal(connection.apiKey, serve.apiKey);
      const answer = await postChat(connection.baseUrl, connection.apiKey, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(answer.status, 200);
      assert.deepEqual(moved.problems, []);
    } finally {
      await moved.context.close();
      serve.child.kill('SIGTERM');
      await serve.exit;
      rmSync(portHome, { recursive: true, force: true });
    }
  });
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A few finished requests (one failed) and one still streaming, for the live log's screenshot. Returns
 * the streaming request's end, for the test to wait for.
 */
async function showSomeTraffic(page: Page, { baseURL, apiKey }: Started): Promise<{ streaming: Promise<string> }> {
  await Promise.all([
    postChat(baseURL, apiKey, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    postChat(baseURL, apiKey, { model: 'claude-haiku', stream: true, messages: [{ role: 'user', content: 'hi [[chunks:12]]' }] }).then((response) => response.text()),
    postChat(baseURL, apiKey, { model: 'no-such-model', messages: [{ role: 'user', content: 'hello' }] }),
  ]);
  const streaming = postChat(baseURL, apiKey, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'slow [[chunks:20]] [[slow:300ms]]' }] }).then((response) => response.text());
  await page.waitForFunction(() => document.querySelectorAll('.log-row[data-status="ok"]').length >= 2 && /tokens so far/.test(document.querySelector('.log-row[data-status="running"]')?.textContent ?? ''));
  return { streaming };
}

/** The Usage tab grouped by client: every cost in the table reads whole (none cut by an ellipsis). */
async function showUsageByClient(page: Page, scheme: string): Promise<void> {
  await page.click('#panel-usage button[data-group="client"]');
  // Grouped by day, the first cells are dates; by client, user agents.
  await page.waitForFunction(() => {
    const groups = [...document.querySelectorAll('#usage-rows td:first-child')].map((cell) => cell.textContent ?? '');
    return groups.length > 0 && groups.every((group) => !/^\d{4}-\d{2}/.test(group)) && document.querySelector('#usage-chart canvas') !== null;
  });
  await screenshot(page, `window-usage-client-${scheme}`);
  const cut = await page.$$eval('#usage-rows td', (cells) => cells.filter((cell) => cell.classList.contains('num') && cell.scrollWidth > cell.clientWidth).map((cell) => cell.textContent));
  assert.deepEqual(cut, [], 'no figure in the table is cut');
  await page.click('#panel-usage button[data-group="day"]');
}

/** The UI cookie the browser holds (HttpOnly: only the browser context can read it, not the page). */
async function sessionCookie(ui: UiPage): Promise<string> {
  const cookie = (await ui.context.cookies()).find((candidate) => candidate.name === 'bb_ui');
  assert.ok(cookie, 'the browser holds the UI cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  return `${cookie.name}=${cookie.value}`;
}

/** A page on another loopback port: same site as the bridge, different origin. */
async function servePage(html: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><html><body>${html}</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
