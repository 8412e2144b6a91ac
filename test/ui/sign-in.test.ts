import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { identityCenterServeEnv, startServe, type Started } from '../support/serve-process.ts';
import { chromiumSkip, launchChromium } from '../support/chromium.ts';
import { buildUiOnce, openUi, screenshot, uiLinkOf, type UiPage } from './browser.ts';

/**
 * Sign-in from the window: serve configured for IAM Identity Center (the emulator's). serve signs in at
 * start (approved here as "ada", as its terminal prompt asks); in the window, Sign out ends that
 * session, and Sign in shows the device code and its expiry; approving it on the verification page (in
 * the same browser, as a person would) signs the running server in as "grace".
 */
describe('signing in from the window', { skip: chromiumSkip(), timeout: 180_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-ui-sso-'));
  let browser: Browser;
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let serve: Started;
  let ui: UiPage;

  before(async () => {
    await buildUiOnce();
    const registry = new CredentialRegistry();
    const identityCenter = createIdentityCenterEmulator(registry);
    emulator = await startEmulator({ registry, services: [identityCenter.routes, createStsEmulator(registry)] });
    void identityCenter.control.nextUserCode().then((code) => identityCenter.control.approve(code, 'ada'));
    writeFileSync(
      join(home, 'sign-in.json'),
      JSON.stringify({ source: 'identity-center', identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser' } }),
    );
    [browser, serve] = await Promise.all([launchChromium(), startServe(['--port', '0'], identityCenterServeEnv(home, emulator.url), 45_000)]);
    ui = await openUi(browser, uiLinkOf(serve.output()));
  });

  after(async () => {
    await browser?.close();
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
    await emulator?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('Sign out ends the session: the window offers Sign in again and model calls need it', async () => {
    const { page } = ui;
    await page.waitForFunction(() => /Signed in as ada/.test(document.querySelector('#sign-in-detail')?.textContent ?? ''));
    // serve has no Secret Service here: the tokens live in memory only, and the sign-in card says so.
    assert.match((await page.textContent('#secret-storage')) ?? '', /kept in memory only/);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-button');
    await page.waitForSelector('#state[data-level="warn"]');
    const answer = await fetch(`${serve.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(answer.status, 401);
  });

  test('the device code shows with its expiry; approving it signs the server in', async () => {
    const { page } = ui;
    await page.click('#sign-in-button');
    const code = (await (await page.waitForSelector('#device-code')).textContent()) ?? '';
    assert.match(code, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.match((await page.textContent('#sign-in-expiry')) ?? '', /Code expires in \d+ (min|s)/);
    assert.equal(await page.getAttribute('#state', 'data-level'), 'warn');
    // serve runs with BROWSER=none: "Open sign-in page" opens nothing, so the window points at its link.
    await page.click('#open-verification');
    await page.waitForSelector('#verification-link.attention');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'verification-link');
    assert.match((await page.textContent('#toast')) ?? '', /No browser could be opened/);
    await screenshot(page, 'window-setup-signing-in-light');

    // The verification link opens the page (code filled in) in a new tab of this browser; the user
    // approves the code there as "grace".
    const [verification] = await Promise.all([ui.context.waitForEvent('page'), page.click('#verification-link')]);
    await verification.waitForLoadState();
    assert.equal(verification.url(), `${emulator.url}/device?user_code=${code}`);
    await verification.fill('input[name="user"]', 'grace');
    // The form's answer is a navigation: closing the tab while it is under way can hang, so the tab
    // stays open (the browser closes with the suite).
    await verification.click('button[value="allow"]');

    await page.waitForFunction(() => /Signed in as grace/.test(document.querySelector('#sign-in-detail')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await page.$('#device-code'), null, 'the code is gone once used');
    await page.waitForSelector('#state[data-level="ok"]');

    const answer = await fetch(`${serve.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(answer.status, 200, await answer.text());
    assert.deepEqual(ui.problems, []);
  });
});
