import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import type { AppState } from '../../src/app/types.ts';
import { browserCommand, openInBrowser } from '../../src/cli/open-browser.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { identityCenterServeEnv, MAIN, startServe } from '../support/serve-process.ts';

const URL_WITH_QUERY = 'https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH&x=1;touch%20/tmp/pwned';

/**
 * A stand-in for the user's browser, used as $BROWSER: it notes the URL it was given, then does what
 * a person does on the verification page: reads the code from the form and presses Allow as `user`.
 */
function fakeBrowser(dir: string, user: string): { command: string; opened: () => string[] } {
  const log = join(dir, 'opened.txt');
  const script = join(dir, 'browser.mjs');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';
const url = process.argv[2];
appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');
if (url.startsWith('http://127.0.0.1')) {
  const page = await (await fetch(url)).text();
  const code = /name="user_code" value="([^"]*)"/.exec(page)[1];
  const form = new URLSearchParams({ user_code: code, user: ${JSON.stringify(user)}, decision: 'allow' });
  const answer = await fetch(new URL('/device', url), { method: 'POST', body: form });
  if (!answer.ok) process.exit(1);
}
`,
  );
  const command = join(dir, 'browser');
  writeFileSync(command, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  chmodSync(command, 0o755);
  return {
    command,
    opened: () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as string[]).join(' '));
      } catch {
        return [];
      }
    },
  };
}

test('which opener runs: BROWSER first, then the platform; nothing without a desktop or for a non-web URL', () => {
  const url = 'https://example.awsapps.com/start/#/device?user_code=ABCD-EFGH';
  assert.deepEqual(browserCommand(url, {}, 'darwin'), { command: 'open', args: [url] });
  assert.deepEqual(browserCommand(url, {}, 'win32'), { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
  assert.deepEqual(browserCommand(url, { DISPLAY: ':0' }, 'linux'), { command: 'xdg-open', args: [url] });
  assert.deepEqual(browserCommand(url, { WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), { command: 'xdg-open', args: [url] });
  assert.equal(browserCommand(url, {}, 'linux'), null, 'an SSH session or a server: the URL is only printed');
  assert.deepEqual(browserCommand(url, { BROWSER: 'firefox', DISPLAY: ':0' }, 'linux'), { command: 'firefox', args: [url] });
  assert.equal(browserCommand(url, { BROWSER: 'none' }, 'darwin'), null);
  for (const hostile of ['file:///etc/passwd', 'javascript:alert(1)', 'ssh://host', '--help', 'not a url']) {
    assert.equal(browserCommand(hostile, { DISPLAY: ':0' }, 'linux'), null, hostile);
  }
});

test('the URL reaches the browser as one argument, untouched by any shell', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-browser-'));
  try {
    const browser = fakeBrowser(dir, 'nobody');
    assert.equal(await openInBrowser(URL_WITH_QUERY, { BROWSER: browser.command }), true);
    for (let i = 0; i < 100 && browser.opened().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(browser.opened(), [URL_WITH_QUERY]);
    assert.equal(await openInBrowser(URL_WITH_QUERY, { BROWSER: join(dir, 'no-such-browser') }), false, 'a missing opener is not an error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve signs in through Identity Center on start: prints the URL and code, opens the browser, and serves as that user', { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-sso-'));
  const registry = new CredentialRegistry();
  const identityCenter = createIdentityCenterEmulator(registry);
  const emulator = await startEmulator({ registry, services: [identityCenter.routes, createStsEmulator(registry)] });
  const browser = fakeBrowser(home, 'grace');
  writeFileSync(
    join(home, 'sign-in.json'),
    JSON.stringify({
      source: 'identity-center',
      identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser' },
    }),
  );
  const env = identityCenterServeEnv(home, emulator.url, { BROWSER: browser.command });
  const serve = await startServe(['--port', '0'], env, 45_000);
  try {
    const printed = serve.output();
    const code = /confirm the code: ([A-Z]{4}-[A-Z]{4})/.exec(printed)?.[1];
    assert.ok(code, printed);
    assert.match(printed, new RegExp(`${emulator.url}/device\\?user_code=${code}`));
    assert.match(printed, /\(opened in your browser\)/);
    assert.deepEqual(browser.opened(), [`${emulator.url}/device?user_code=${code}`]);

    const response = await fetch(`${serve.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, /hello/);

    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
    const ledger = new DatabaseSync(join(home, 'usage.sqlite'), { readOnly: true });
    try {
      assert.deepEqual(
        ledger.prepare('SELECT user_name, identity_source, status FROM records').all().map((row) => ({ ...row })),
        [{ user_name: 'grace', identity_source: 'identity-center', status: 200 }],
        'the request is on record as the person who approved the sign-in',
      );
    } finally {
      ledger.close();
    }
  } finally {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
});

const IDENTITY_CENTER_SIGN_IN = JSON.stringify({ source: 'identity-center', identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser' } });

/** `serve` signing in through Identity Center at start, its output followed as it comes. */
function serveSigningIn(home: string, emulatorUrl: string, args: string[]) {
  writeFileSync(join(home, 'sign-in.json'), IDENTITY_CENTER_SIGN_IN);
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], { env: identityCenterServeEnv(home, emulatorUrl), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const printed = async (pattern: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { child, exit, printed, output: () => output };
}

test("serve listens before its start-up sign-in ends: the window's link works at once and shows the code; model calls answer 401 sign_in_required meanwhile", { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-sso-early-'));
  const registry = new CredentialRegistry();
  const identityCenter = createIdentityCenterEmulator(registry);
  const emulator = await startEmulator({ registry, services: [identityCenter.routes, createStsEmulator(registry)] });
  const { child, exit, printed, output } = serveSigningIn(home, emulator.url, ['--api-key', 'bb-early-key']);
  try {
    const link = new URL((await printed(/Window: (http:\/\/\S+\/ui\/\?token=[\w-]+)/))[1]!);
    const terminalCode = (await printed(/confirm the code: ([A-Z]{4}-[A-Z]{4})/))[1]!;
    assert.doesNotMatch(output(), /Bedrock Bridge is ready/, 'still waiting for the sign-in');

    // The window opens through the early link and shows the code the terminal shows.
    const exchange = await fetch(link, { redirect: 'manual' });
    assert.equal(exchange.status, 303);
    const cookie = exchange.headers.get('set-cookie')!.split(';')[0]!;
    const state = (await (await fetch(`${link.origin}/control/v1/state`, { headers: { cookie } })).json()) as AppState;
    assert.equal(state.status, 'signing-in');
    assert.equal(state.signIn?.userCode, terminalCode);

    const chat = () =>
      fetch(`${link.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer bb-early-key', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
      });
    const early = await chat();
    assert.equal(early.status, 401);
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'sign_in_required');

    identityCenter.control.approve(terminalCode, 'grace');
    await printed(/Press Ctrl\+C/);
    assert.equal((await chat()).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exit, 0, output());
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a start-up sign-in that is denied still ends serve with exit code 2, saying why', { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-sso-denied-'));
  const registry = new CredentialRegistry();
  const identityCenter = createIdentityCenterEmulator(registry);
  const emulator = await startEmulator({ registry, services: [identityCenter.routes, createStsEmulator(registry)] });
  const { child, exit, printed, output } = serveSigningIn(home, emulator.url, []);
  try {
    identityCenter.control.deny((await printed(/confirm the code: ([A-Z]{4}-[A-Z]{4})/))[1]!);
    assert.equal(await exit, 2, output());
    assert.match(output(), /--auth identity-center: .*denied/i);
    assert.doesNotMatch(output(), /Bedrock Bridge is ready/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
});
