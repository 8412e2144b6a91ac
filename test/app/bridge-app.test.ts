import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AppInputError } from '../../src/app/errors.ts';
import { settingsJsonSchema } from '../../src/app/settings-store.ts';
import type { AppState } from '../../src/app/types.ts';
import type { RequestFinishedEvent } from '../../src/core/request-events.ts';
import { chatThrough, controlCall, startApp, tempDataDirectory, uiCookieFrom } from './support.ts';
import { freePort } from '../support/free-port.ts';

const NOVA = 'amazon.nova-micro-v1:0';


test('the settings JSON Schema is the zod schema without defaults (the file keeps only what the user set)', () => {
  const { properties } = settingsJsonSchema();
  assert.deepEqual(properties.port, { type: 'integer', minimum: 0, maximum: 65535 });
  assert.ok(!JSON.stringify(properties).includes('"default"'));
  assert.ok(properties.models && properties.auth && properties.usage);
});

test('core: an existing settings.json keeps working; switching the default model applies to the next request and persists; stop flushes the ledger', async () => {
  const home = tempDataDirectory('bb-app-core-');
  // A settings file from before the app: keys of its own, a legacy field, the user's aliases.
  const oldFile = { port: 0, models: { fast: NOVA }, imageFetch: { enabled: false }, someOlderKey: 'kept', usage: { retentionDays: 30 } };
  writeFileSync(join(home.path, 'settings.json'), JSON.stringify(oldFile, null, 2));
  const states: AppState[] = [];
  const running = await startApp({ dataDirectory: home.path, overrides: {} });
  const { app } = running;
  app.onStateChange((state) => states.push(state));
  try {
    assert.equal(app.state.status, 'serving', app.state.message);
    assert.equal(app.state.emulator, true);
    assert.equal(app.state.models.aliases.fast, NOVA);
    assert.match(app.state.baseUrl!, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.match(app.connection()!.apiKey, /^bb-/);

    const finished: RequestFinishedEvent[] = [];
    app.events.on('request-finished', (event) => finished.push(event));
    assert.equal((await chatThrough(app, '')).status, 200);
    assert.notEqual(finished.at(-1)!.modelId, NOVA, 'the built-in default first');

    await app.setDefaultModel('fast');
    assert.equal(app.state.models.defaultModel, 'fast');
    assert.equal(app.state.models.defaultModelId, NOVA);
    assert.ok(states.some((state) => state.models.defaultModel === 'fast'), 'a state change was announced');
    assert.equal((await chatThrough(app, '')).status, 200);
    assert.equal(finished.at(-1)!.modelId, NOVA, 'the next request used the new default');

    const stored = JSON.parse(readFileSync(join(home.path, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(stored, { ...oldFile, defaultModel: 'fast' }, 'only the default model changed in the file');

    await assert.rejects(app.setDefaultModel('no-such-model'), (error: Error) => error instanceof AppInputError && /no-such-model/.test(error.message));
    assert.equal((JSON.parse(readFileSync(join(home.path, 'settings.json'), 'utf8')) as { defaultModel: string }).defaultModel, 'fast', 'a refused switch leaves the file alone');

    await app.stop();
    assert.equal(app.state.status, 'stopped');
    assert.equal(app.connection(), null);
    const ledger = new DatabaseSync(join(home.path, 'emulator', 'usage.sqlite'), { readOnly: true });
    try {
      const { n } = ledger.prepare('SELECT count(*) AS n FROM records').get() as { n: number };
      assert.equal(n, 2, 'both requests are in the emulator ledger after stop');
    } finally {
      ledger.close();
    }
  } finally {
    await running.close();
    home.remove();
  }
});

test('core: settings round trip: a port change waits for restart(), which applies it; a setting survives a new core', async () => {
  const home = tempDataDirectory('bb-app-settings-');
  writeFileSync(join(home.path, 'settings.json'), '{ "port": 0 }');
  const running = await startApp({ dataDirectory: home.path, overrides: {} });
  const { app } = running;
  try {
    assert.equal(app.state.status, 'serving', app.state.message);
    const firstPort = app.state.port;
    const generatedKey = app.connection()!.apiKey;
    assert.equal(app.apiKeyGenerated, true);

    const nextPort = await freePort();
    const update = await app.updateSettings({ port: nextPort, auditEndpoint: 'https://audit.example.com/v1/usage', defaultModel: NOVA });
    assert.deepEqual(update.restartRequired.sort(), ['auditEndpoint', 'port']);
    assert.equal(update.settings.port, nextPort);
    assert.equal(update.settings.startAtLogin, null, 'headless: no login item');
    assert.equal(app.state.port, firstPort, 'still on the old port');
    assert.equal(app.state.models.defaultModel, NOVA, 'the default model applied at once');
    await assert.rejects(app.updateSettings({ port: 70000 }), (error: Error) => error instanceof AppInputError && (error as AppInputError).field === 'port');
    await assert.rejects(app.updateSettings({ startAtLogin: true }), AppInputError);

    await app.restart();
    assert.equal(app.state.status, 'serving', app.state.message);
    assert.equal(app.state.port, nextPort);
    assert.deepEqual(app.state.restartRequired, []);
    assert.equal(app.connection()!.apiKey, generatedKey, 'the key generated for this run survives the restart: tools keep working');
    assert.equal((await chatThrough(app)).status, 200);
    const stored = JSON.parse(readFileSync(join(home.path, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(stored, { port: nextPort, usage: { endpoint: 'https://audit.example.com/v1/usage' }, defaultModel: NOVA });
  } finally {
    await running.close();
  }
  // A second launch reads the same file.
  const again = await startApp({ dataDirectory: home.path, overrides: {} });
  try {
    assert.equal((await again.app.settings()).auditEndpoint, 'https://audit.example.com/v1/usage');
    assert.equal(again.app.state.models.defaultModel, NOVA);
  } finally {
    await again.close();
    home.remove();
  }
});

test('core: a port held by another Bedrock Bridge or by another program is told apart', async () => {
  const home = tempDataDirectory('bb-app-port-');
  const first = await startApp({ dataDirectory: home.path });
  const busy = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const second = await startApp({ dataDirectory: home.path, overrides: { port: first.app.state.port } });
    assert.equal(second.app.state.status, 'port-in-use');
    assert.equal(second.app.state.portHolder, 'bedrock-bridge');
    assert.match(second.app.state.message, /Bedrock Bridge is already serving/);
    await second.close();

    const third = await startApp({ dataDirectory: home.path, overrides: { port: (busy.address() as AddressInfo).port } });
    assert.equal(third.app.state.status, 'port-in-use');
    assert.equal(third.app.state.portHolder, 'other-program');
    await third.close();
  } finally {
    busy.close();
    await first.close();
    home.remove();
  }
});

test('core: settings a flag or variable decides for the run are said so; the window cannot change them, as a restart would keep the flag', async () => {
  const home = tempDataDirectory('bb-app-pinned-');
  const running = await startApp({ dataDirectory: home.path, overrides: { port: 0 }, env: { AWS_DEFAULT_REGION: 'eu-west-1' } });
  const { app } = running;
  try {
    assert.deepEqual(app.state.pinned, { port: '--port', region: 'AWS_DEFAULT_REGION' });
    const cookie = await uiCookieFrom(app);
    const read = await controlCall(app, cookie, 'GET', '/settings');
    assert.deepEqual(read.json.pinned, { port: '--port', region: 'AWS_DEFAULT_REGION' });
    const refused = await controlCall(app, cookie, 'PATCH', '/settings', { port: await freePort() });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.field, 'port');
    assert.match(refused.json.error.message, /set by --port/);
    assert.equal((await controlCall(app, cookie, 'PATCH', '/settings', { region: 'us-west-2' })).status, 409);
    const allowed = await controlCall(app, cookie, 'PATCH', '/settings', { auditEndpoint: 'https://audit.example.com/v1/usage' });
    assert.equal(allowed.status, 200);
    assert.deepEqual(allowed.json.pinned, { port: '--port', region: 'AWS_DEFAULT_REGION' });
    assert.deepEqual(allowed.json.restartRequired, ['auditEndpoint']);
  } finally {
    await running.close();
    home.remove();
  }
});
