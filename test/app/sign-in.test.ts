import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MEMORY_ONLY_WARNING_BASIC_TEXT, type SafeStorageLike } from '../../src/credentials/vault.ts';
import type { AppState, AppStatus } from '../../src/app/types.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { serveApps } from '../credentials/helpers.ts';
import { chatThrough, controlCall, identityCenterHome, startApp, tempDataDirectory, uiCookieFrom } from './support.ts';

const USER = 'alice@example.com';

test('core + Identity Center emulator: sign in from the window with the code in the state, serve, session ended by the org, sign in again without restart, sign out', async () => {
  const registry = new CredentialRegistry();
  const { routes, control: idc } = createIdentityCenterEmulator(registry);
  const emulator = await startEmulator({ registry, services: [routes, createStsEmulator(registry)] });
  const home = tempDataDirectory('bb-app-sign-in-');
  identityCenterHome(home.path, { identityCenter: emulator.url, sts: emulator.url, bedrock: emulator.url });
  const opened: string[] = [];
  let browserAvailable = true;
  const notices: string[] = [];
  const running = await startApp({
    dataDirectory: home.path,
    emulator: false,
    overrides: {},
    env: { AWS_REGION: 'us-east-1' },
    openUrl: async (url) => {
      opened.push(url);
      return browserAvailable;
    },
    notify: (notification) => void notices.push(notification.kind),
  });
  const { app } = running;
  const states: AppState[] = [];
  app.onStateChange((state) => states.push(state));
  const reach = (status: AppStatus) =>
    new Promise<AppState>((resolve, reject) => {
      if (app.state.status === status) return resolve(app.state);
      const timer = setTimeout(() => reject(new Error(`no ${status} within 15 s; now ${app.state.status}: ${app.state.message}`)), 15_000);
      const off = app.onStateChange((state) => {
        if (state.status !== status) return;
        clearTimeout(timer);
        off();
        resolve(state);
      });
    });
  const chat = async () => {
    const { status, code } = await chatThrough(app);
    return { status, code };
  };
  const signInAs = async () => {
    const pending = await app.signIn();
    assert.match(pending.userCode, /^[A-Z0-9-]+$/);
    assert.ok(Date.parse(pending.expiresAt) > Date.now());
    assert.equal(app.state.status, 'signing-in');
    assert.deepEqual(app.state.signIn, pending, 'the code is in the state for the window and the tray');
    const served = reach('serving');
    idc.approve(pending.userCode, USER);
    await served;
  };
  try {
    assert.equal(app.state.status, 'needs-sign-in', app.state.message);
    assert.equal(app.state.credentials.interactive, true);
    assert.deepEqual(app.state.secretStorage, { kind: 'memory-only', persistent: false, warning: null }, 'memory only as sign-in.json asks');
    assert.deepEqual(notices, ['sign-in-needed']);
    assert.equal((await chat()).status, 401);

    await signInAs();
    assert.ok(opened.some((url) => url.startsWith(emulator.url)), 'the verification page went to the shell to open');
    assert.deepEqual(await chat(), { status: 200, code: null });
    assert.equal(app.state.credentials.signedIn, true);

    // The org ends the session: requests answer 401 and the state says sign in.
    idc.revokeSession(USER);
    const needed = reach('needs-sign-in');
    assert.deepEqual(await chat(), { status: 401, code: 'sign_in_required' });
    await needed;

    // A new sign-in from the window brings the running server back at once.
    await signInAs();
    assert.deepEqual(await chat(), { status: 200, code: null });

    // Cancelling a sign-in leaves the session as it was.
    const cancelled = app.signIn();
    await cancelled;
    // The window asks for the page: the API says whether anything opened (headless without a browser: no).
    const cookie = await uiCookieFrom(app);
    const openedNow = await controlCall(app, cookie, 'POST', '/sign-in/open');
    assert.equal(openedNow.status, 200);
    assert.deepEqual(openedNow.json, { opened: true });
    browserAvailable = false;
    assert.deepEqual((await controlCall(app, cookie, 'POST', '/sign-in/open')).json, { opened: false });
    app.cancelSignIn();
    await reach('serving');
    assert.equal(app.state.signInError, 'Sign-in was cancelled.');

    await app.signOut();
    assert.equal(app.state.status, 'needs-sign-in');
    assert.equal(app.state.credentials.signedIn, false);
    assert.equal((await chat()).status, 401);
    assert.ok(states.every((state) => !JSON.stringify(state).includes(app.connection()!.apiKey)), 'the API key is never in the state');
  } finally {
    await running.close();
    await emulator.close();
    home.remove();
  }
});

test('core: credentials that cannot be renewed (Identity Center unreachable) are told once, not as a sign-in', async () => {
  const registry = new CredentialRegistry();
  const { routes, control: idc } = createIdentityCenterEmulator(registry);
  // Identity Center on a server of its own, so it can go away while Bedrock and STS stay.
  const identityCenter = await serveApps([routes]);
  const emulator = await startEmulator({ registry, services: [createStsEmulator(registry)] });
  const home = tempDataDirectory('bb-app-renewal-');
  identityCenterHome(home.path, { identityCenter: identityCenter.url, sts: emulator.url, bedrock: emulator.url });
  const notices: string[] = [];
  const running = await startApp({ dataDirectory: home.path, emulator: false, overrides: {}, env: { AWS_REGION: 'us-east-1' }, notify: (notification) => void notices.push(notification.kind) });
  const { app } = running;
  try {
    idc.setCredentialTtl(2000);
    const served = new Promise<void>((resolve) => {
      const off = app.onStateChange((state) => {
        if (state.status !== 'serving') return;
        off();
        resolve();
      });
    });
    idc.approve((await app.signIn()).userCode, USER);
    await served;
    await identityCenter.close();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the role credentials expire
    for (let i = 0; i < 2; i += 1) assert.notEqual((await chatThrough(app)).status, 200);
    assert.deepEqual(notices, ['sign-in-needed', 'credentials-not-renewed'], 'told once, and not as an ended sign-in');
    assert.equal(app.state.status, 'serving', 'the session itself did not end');
  } finally {
    await running.close();
    await emulator.close();
    home.remove();
  }
});

test('core: where secrets can only be kept in memory (safeStorage backend basic_text) the state says so, with the reason', async () => {
  const emulator = await startEmulator({ registry: new CredentialRegistry() });
  const home = tempDataDirectory('bb-app-basic-text-');
  identityCenterHome(home.path, { identityCenter: emulator.url, sts: emulator.url, bedrock: emulator.url });
  const signInFile = join(home.path, 'sign-in.json');
  const { memoryOnlyVault: _asked, ...signIn } = JSON.parse(readFileSync(signInFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(signInFile, JSON.stringify(signIn));
  const plainText: SafeStorageLike = {
    getSelectedStorageBackend: () => 'basic_text',
    isAsyncEncryptionAvailable: async () => true,
    encryptStringAsync: async () => assert.fail('nothing may be written with basic_text'),
    decryptStringAsync: async () => assert.fail('nothing may be read with basic_text'),
  };
  const running = await startApp({ dataDirectory: home.path, emulator: false, overrides: {}, env: { AWS_REGION: 'us-east-1' }, safeStorage: plainText });
  try {
    assert.equal(running.app.state.status, 'needs-sign-in', running.app.state.message);
    assert.deepEqual(running.app.state.secretStorage, { kind: 'memory-only', persistent: false, warning: MEMORY_ONLY_WARNING_BASIC_TEXT });
  } finally {
    await running.close();
    await emulator.close();
    home.remove();
  }
});
