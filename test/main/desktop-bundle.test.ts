/**
 * The BUILT main bundle (dist/main/index.js, `electron` external) run under plain Node with the fake
 * `electron`, against the emulator (Bedrock, IAM Identity Center, STS): what a user does with the tray.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator, type IdentityCenterControl } from '../../src/emulator/identity-center.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { buildDesktopBundle, type DesktopBundle, desktopEnv, type DesktopProcess, launchDesktop, type TrayMenuReportItem } from '../support/desktop-process.ts';
import { identityCenterServeEnv } from '../support/serve-process.ts';

const ICONS = new URL('../../build/tray/', import.meta.url).pathname;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const SIGN_IN = {
  source: 'identity-center',
  identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser' },
};

function findItem(items: TrayMenuReportItem[], label: string | RegExp): TrayMenuReportItem | undefined {
  return items.find((item) => (typeof label === 'string' ? item.label === label : label.test(item.label ?? '')));
}

/** Does on the verification page what a person does: reads the code and presses Allow as `user`. */
async function approve(url: string, user: string): Promise<void> {
  const page = await (await fetch(url)).text();
  const code = /name="user_code" value="([^"]*)"/.exec(page)?.[1];
  assert.ok(code, page);
  const answer = await fetch(new URL('/device', url), { method: 'POST', body: new URLSearchParams({ user_code: code, user, decision: 'allow' }) });
  assert.ok(answer.ok, await answer.text());
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function chat(baseUrl: string, apiKey: string, model?: string): Promise<{ status: number; model: string }> {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...(model ? { model } : {}), messages: [{ role: 'user', content: 'hello' }] }),
  });
  const body = (await response.json()) as { model: string };
  return { status: response.status, model: body.model };
}

describe('desktop main bundle under the fake electron', { timeout: 180_000 }, () => {
  let bundle: DesktopBundle;
  let emulator: RunningEmulator;
  let identityCenter: IdentityCenterControl;
  const homes: string[] = [];
  const running: DesktopProcess[] = [];

  const newHome = (settings: Record<string, unknown> = { port: 0 }, signIn: object | null = SIGN_IN) => {
    const home = mkdtempSync(path.join(tmpdir(), 'bb-desktop-'));
    homes.push(home);
    writeFileSync(path.join(home, 'settings.json'), JSON.stringify(settings));
    if (signIn) writeFileSync(path.join(home, 'sign-in.json'), JSON.stringify(signIn));
    return home;
  };
  const launch = (home: string, args: string[] = [], env = desktopEnv(home, identityCenterServeEnv(home, emulator.url))) => {
    const desktop = launchDesktop(bundle, args, env);
    running.push(desktop);
    return { desktop, env };
  };
  const statusIs = (desktop: DesktopProcess, pattern: RegExp) =>
    desktop.waitFor(`status ${pattern}`, (report) => report.type === 'tray-menu' && pattern.test(String((report.menu as TrayMenuReportItem[])[1]?.label)));
  const nextStatus = (desktop: DesktopProcess, pattern: RegExp) =>
    desktop.next(`status ${pattern}`, (report) => report.type === 'tray-menu' && pattern.test(String((report.menu as TrayMenuReportItem[])[1]?.label)));
  const click = (desktop: DesktopProcess, ...labels: string[]) => desktop.send({ type: 'click', labels });
  const copied = async (desktop: DesktopProcess, label: string) => {
    const report = desktop.next(`clipboard after ${label}`, (r) => r.type === 'clipboard');
    click(desktop, label);
    return String((await report).text);
  };
  const quit = async (desktop: DesktopProcess) => {
    click(desktop, 'Quit Bedrock Bridge');
    return desktop.exit;
  };

  before(async () => {
    bundle = await buildDesktopBundle('bundle');
    const registry = new CredentialRegistry();
    const created = createIdentityCenterEmulator(registry);
    identityCenter = created.control;
    emulator = await startEmulator({ registry, services: [created.routes, createStsEmulator(registry)] });
  });
  after(async () => {
    for (const desktop of running) if (desktop.child.exitCode === null) desktop.child.kill('SIGKILL');
    await emulator?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    rmSync(bundle.appPath, { recursive: true, force: true });
  });

  it('signs in from the tray, serves a chat request, switches the default model from the tray (persisted), and quits with the ledger flushed; a restart keeps sign-in and API key', async () => {
    const home = newHome();
    const { desktop, env } = launch(home);

    // Hardened window, the UI loaded with its cookie (never a token in the URL).
    const created = await desktop.waitFor('window', (r) => r.type === 'window-created');
    assert.deepEqual(created.webPreferences && { ...(created.webPreferences as object), preload: undefined }, {
      partition: 'bedrock-bridge-ui',
      preload: undefined,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    });
    assert.match(String((created.webPreferences as { preload: string }).preload), /preload[\\/]index\.cjs$/);
    assert.ok(existsSync(String((created.webPreferences as { preload: string }).preload)), 'the preload bundle was built next to main');
    await statusIs(desktop, /^Sign-in needed$/);
    const cookie = await desktop.waitFor('cookie', (r) => r.type === 'cookie-set');
    assert.deepEqual([cookie.httpOnly, cookie.sameSite], [true, 'strict']);
    const load = await desktop.waitFor('window load', (r) => r.type === 'window-load');
    assert.match(String(load.url), /^http:\/\/127\.0\.0\.1:\d+\/ui\/$/);
    assert.equal((await desktop.pageFetch('/control/v1/state')).status, 200, 'the window session carries the UI cookie');
    const image = await desktop.waitFor('sign-in icon', (r) => r.type === 'tray-image' && (r.image as { sha256?: string }).sha256 === sha256(`${ICONS}sign-in@2x.png`));
    assert.equal((image.image as { scaleFactor: number }).scaleFactor, 1);

    // Sign in from the tray: the browser gets the verification page; approving it serves.
    click(desktop, 'Sign in…');
    const opened = await desktop.waitFor('verification page', (r) => r.type === 'open-external');
    assert.match(String(opened.url), new RegExp(`^${emulator.url}/device\\?user_code=[A-Z]{4}-[A-Z]{4}$`));
    await approve(String(opened.url), 'grace');
    await statusIs(desktop, /^Serving on port \d+$/);
    assert.deepEqual(findItem(desktop.menu(), 'Sign out')?.clickable, true);

    const baseUrl = await copied(desktop, 'Copy base URL');
    const apiKey = await copied(desktop, 'Copy API key');
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const first = await chat(baseUrl, apiKey);
    assert.equal(first.status, 200);

    // The Model submenu: pick Haiku; the next request without a model uses it.
    const models = findItem(desktop.menu(), 'Model')!.submenu!;
    const haiku = findItem(models, /^claude-haiku /)!;
    assert.equal(haiku.checked, false);
    const switched = desktop.next('Haiku checked', (r) => r.type === 'tray-menu' && findItem(findItem(r.menu as TrayMenuReportItem[], 'Model')!.submenu!, /^claude-haiku /)?.checked === true);
    click(desktop, 'Model', haiku.label!);
    await switched;
    const second = await chat(baseUrl, apiKey);
    assert.equal(second.status, 200);
    assert.equal(JSON.parse(readFileSync(path.join(home, 'settings.json'), 'utf8')).defaultModel, 'claude-haiku');

    assert.equal(await quit(desktop), 0);
    const ledger = new DatabaseSync(path.join(home, 'usage.sqlite'), { readOnly: true });
    try {
      const rows = ledger.prepare('SELECT user_name, model_id, status FROM records ORDER BY started_at').all();
      assert.equal(rows.length, 2, JSON.stringify(rows));
      assert.match(String(rows[0]!.model_id), /claude-sonnet/);
      assert.match(String(rows[1]!.model_id), /claude-haiku/);
      assert.deepEqual(rows.map((row) => [row.user_name, row.status]), [['grace', 200], ['grace', 200]]);
    } finally {
      ledger.close();
    }
    assert.match(readFileSync(path.join(home, 'logs', 'main.log'), 'utf8'), /Quitting: draining requests[\s\S]*Stopped/);
    // Secrets only as safeStorage ciphertext.
    for (const file of ['secrets.enc', 'api-key.enc']) {
      const bytes = readFileSync(path.join(home, file));
      assert.ok(!bytes.includes(apiKey), `${file} holds no plain API key`);
    }
    assert.ok(!readFileSync(path.join(home, 'settings.json'), 'utf8').includes(apiKey));

    // Same machine, next launch: still signed in, same API key.
    const again = launch(home, ['--hidden'], env).desktop;
    await statusIs(again, /^Serving on port \d+$/);
    assert.equal(await copied(again, 'Copy API key'), apiKey);
    assert.equal(again.reports.some((r) => r.type === 'window-created'), false, '--hidden opens no window');
    assert.equal(await quit(again), 0);
  });

  it('the org ends the session: the tray and a notification say to sign in; signing in again from the tray serves again, no restart', async () => {
    const home = newHome();
    const { desktop } = launch(home, ['--hidden']);
    await statusIs(desktop, /^Sign-in needed$/);
    click(desktop, 'Sign in…');
    await approve(String((await desktop.waitFor('verification page', (r) => r.type === 'open-external')).url), 'heidi');
    await statusIs(desktop, /^Serving on port \d+$/);
    const baseUrl = await copied(desktop, 'Copy base URL');
    const apiKey = await copied(desktop, 'Copy API key');
    assert.equal((await chat(baseUrl, apiKey)).status, 200);

    identityCenter.revokeSession('heidi');
    const notified = desktop.next('notification', (r) => r.type === 'notification');
    const signedOut = nextStatus(desktop, /^Sign-in needed$/);
    assert.equal((await chat(baseUrl, apiKey)).status, 401);
    await signedOut;
    assert.match(String((await notified).title), /sign in/i);

    const opened = desktop.next('verification page again', (r) => r.type === 'open-external');
    click(desktop, 'Sign in…');
    await approve(String((await opened).url), 'heidi');
    await nextStatus(desktop, /^Serving on port \d+$/);
    assert.equal((await chat(baseUrl, apiKey)).status, 200);
    assert.equal(await quit(desktop), 0);
  });

  it("Linux without a secret store (safeStorage 'basic_text'): nothing secret is written, the log says tokens stay in memory", async () => {
    const home = newHome();
    const env = { ...desktopEnv(home, identityCenterServeEnv(home, emulator.url)), FAKE_SAFE_STORAGE_BACKEND: 'basic_text' };
    const { desktop } = launch(home, ['--hidden'], env);
    await statusIs(desktop, /^Sign-in needed$/);
    click(desktop, 'Sign in…');
    await approve(String((await desktop.waitFor('verification page', (r) => r.type === 'open-external')).url), 'ivan');
    await statusIs(desktop, /^Serving on port \d+$/);
    assert.equal(await quit(desktop), 0);
    assert.equal(existsSync(path.join(home, 'secrets.enc')), false);
    assert.equal(existsSync(path.join(home, 'api-key.enc')), false);
    assert.match(readFileSync(path.join(home, 'logs', 'main.log'), 'utf8'), /basic_text.*kept in memory only/);
  });

  it('a second launch shows the first one\'s window and quits', async () => {
    const home = newHome();
    const first = launch(home, ['--hidden']);
    await statusIs(first.desktop, /^Sign-in needed$/);
    // Started in the tray only: a notification says sign-in is needed.
    assert.match(String((await first.desktop.waitFor('notification', (r) => r.type === 'notification')).title), /sign in/i);
    const second = launch(home, [], first.env).desktop;
    assert.equal(await second.exit, 0);
    assert.equal(second.reports.some((r) => r.type === 'tray-created'), false, 'the second launch made no tray');
    await first.desktop.waitFor('window shown', (r) => r.type === 'window-show');
    assert.equal(await quit(first.desktop), 0);
  });

  it('closing the window hides it; the app keeps serving', async () => {
    const home = newHome();
    const { desktop } = launch(home);
    await desktop.waitFor('window shown', (r) => r.type === 'window-show');
    desktop.send({ type: 'close-window' });
    assert.equal((await desktop.waitFor('close', (r) => r.type === 'window-close')).prevented, true);
    await desktop.waitFor('hidden', (r) => r.type === 'window-hide');
    const shown = desktop.next('shown again', (r) => r.type === 'window-show');
    click(desktop, 'Open Bedrock Bridge');
    await shown;
    assert.equal(await quit(desktop), 0);
  });

  it('the window opens nothing itself and stays on its origin; only clipboard writes are allowed', async () => {
    const home = newHome();
    const { desktop } = launch(home);
    await statusIs(desktop, /^Sign-in needed$/);
    const load = await desktop.waitFor('window load', (r) => r.type === 'window-load');
    const origin = new URL(String(load.url)).origin;
    desktop.send({ type: 'window-open', url: 'https://example.com/' });
    assert.equal((await desktop.waitFor('open decision', (r) => r.type === 'window-open-decision')).action, 'deny');
    desktop.send({ type: 'navigate', url: 'https://example.com/phish' });
    assert.equal((await desktop.waitFor('navigate', (r) => r.type === 'navigate-decision' && r.url === 'https://example.com/phish')).prevented, true);
    desktop.send({ type: 'navigate', url: `${origin}/ui/` });
    assert.equal((await desktop.waitFor('navigate own', (r) => r.type === 'navigate-decision' && r.url === `${origin}/ui/`)).prevented, false);
    desktop.send({ type: 'permission', permission: 'media', url: `${origin}/ui/` });
    assert.equal((await desktop.waitFor('media', (r) => r.type === 'permission-decision' && r.permission === 'media')).granted, false);
    desktop.send({ type: 'permission', permission: 'clipboard-sanitized-write', url: `${origin}/ui/` });
    assert.equal((await desktop.waitFor('clipboard', (r) => r.type === 'permission-decision' && r.permission === 'clipboard-sanitized-write')).granted, true);
    assert.equal(desktop.reports.some((r) => r.type === 'open-external'), false);
    assert.equal(await quit(desktop), 0);
  });

  it('port taken by another program: the tray says so, "Use another port" serves on a free one and remembers it', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const home = newHome({ port: taken });
      const { desktop } = launch(home, ['--hidden']);
      await statusIs(desktop, new RegExp(`^Port ${taken} is in use by another program$`));
      await desktop.waitFor('error icon', (r) => r.type === 'tray-image' && (r.image as { sha256?: string }).sha256 === sha256(`${ICONS}error@2x.png`));
      const serving = nextStatus(desktop, /^(Serving on port|Sign-in needed)/);
      click(desktop, 'Use another port');
      await serving;
      const port = JSON.parse(readFileSync(path.join(home, 'settings.json'), 'utf8')).port as number;
      assert.notEqual(port, taken);
      assert.ok(port > 0);
      assert.equal(await quit(desktop), 0);
    } finally {
      blocker.close();
    }
  });

  it('port taken by another Bedrock Bridge: the tray says so', async () => {
    const port = await freePort();
    const first = launch(newHome({ port }), ['--hidden']).desktop;
    await statusIs(first, new RegExp(`^(Sign-in needed|Serving on port ${port})$`));
    const other = launch(newHome({ port }), ['--hidden']).desktop;
    await statusIs(other, new RegExp(`^Port ${port}: another Bedrock Bridge is already serving$`));
    assert.equal(findItem(other.menu(), 'Use another port'), undefined);
    assert.equal(await quit(other), 0);
    assert.equal(await quit(first), 0);
  });

  it('a settings file it cannot use: an error box naming the file and why, exit 1, the file left as it was', async () => {
    for (const content of ['{"port": "eighty"}', '{"port": 8741,']) {
      const home = newHome();
      writeFileSync(path.join(home, 'settings.json'), content);
      const { desktop } = launch(home);
      const box = await desktop.waitFor('error box', (r) => r.type === 'error-box');
      assert.equal(box.title, 'Bedrock Bridge cannot start');
      assert.match(String(box.content), /settings\.json/);
      assert.equal(await desktop.exit, 1);
      assert.equal(readFileSync(path.join(home, 'settings.json'), 'utf8'), content);
    }
  });

  it('Start at login (Linux): off by default; the tray writes and removes the XDG autostart entry with --hidden; Open logs folder', async () => {
    const home = newHome();
    const { desktop, env } = launch(home, ['--hidden'], desktopEnv(home, identityCenterServeEnv(home, emulator.url, { APPIMAGE: '/opt/Bedrock Bridge.AppImage' })));
    const entry = path.join(env.XDG_CONFIG_HOME!, 'autostart', 'bedrock-bridge.desktop');
    await desktop.waitFor('menu', (r) => r.type === 'tray-menu');
    assert.equal(findItem(desktop.menu(), 'Start at login')?.checked, false);
    const on = desktop.next('checked', (r) => r.type === 'tray-menu' && findItem(r.menu as TrayMenuReportItem[], 'Start at login')?.checked === true);
    click(desktop, 'Start at login');
    await on;
    assert.match(readFileSync(entry, 'utf8'), /\nExec="\/opt\/Bedrock Bridge\.AppImage" --hidden\n/);
    const off = desktop.next('unchecked', (r) => r.type === 'tray-menu' && findItem(r.menu as TrayMenuReportItem[], 'Start at login')?.checked === false);
    click(desktop, 'Start at login');
    await off;
    assert.equal(existsSync(entry), false);

    const opened = desktop.next('logs folder', (r) => r.type === 'open-path');
    click(desktop, 'Open logs folder');
    assert.equal((await opened).path, path.join(home, 'logs'));
    assert.match(readFileSync(path.join(home, 'logs', 'main.log'), 'utf8'), /Tray: set-start-at-login\n[\s\S]*Start at login: on/);
    assert.equal(await quit(desktop), 0);
  });
});
