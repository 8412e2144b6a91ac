import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trayIconFile } from '../../src/main/tray-icon.ts';
import { modelChoices, type TrayMenuItem, trayIconState, trayMenu, trayTooltip } from '../../src/main/tray-menu.ts';
import { STATES } from './app-states.ts';

const labels = (items: TrayMenuItem[]) => items.map((item) => (item.type === 'separator' ? '---' : item.label));
const byLabel = (items: TrayMenuItem[], label: string) => items.find((item) => item.label === label);

describe('tray menu', () => {
  it('serving and signed in: open first, a disabled status line, Model, copy items, Sign out, start at login, logs, Quit', () => {
    const menu = trayMenu({ state: STATES.serving, startAtLogin: false });
    assert.deepEqual(labels(menu), [
      'Open Bedrock Bridge',
      'Serving on port 8741',
      '---',
      'Model',
      'Copy base URL',
      'Copy API key',
      '---',
      'Sign out',
      'Start at login',
      'Open logs folder',
      '---',
      'Quit Bedrock Bridge',
    ]);
    assert.deepEqual(menu[0]!.action, { kind: 'open-window' });
    assert.equal(menu[1]!.enabled, false);
    assert.equal(menu[1]!.action, undefined);
    assert.equal(byLabel(menu, 'Copy base URL')!.enabled, true);
    assert.deepEqual(byLabel(menu, 'Sign out')!.action, { kind: 'sign-out' });
    assert.deepEqual(byLabel(menu, 'Quit Bedrock Bridge')!.action, { kind: 'quit' });
  });

  it('Model: one radio item per chat model under one name, the default checked, no embedding models', () => {
    const model = byLabel(trayMenu({ state: STATES.serving, startAtLogin: false }), 'Model')!;
    assert.equal(model.type, 'submenu');
    assert.deepEqual(
      model.submenu!.map((item) => [item.type, item.label, item.checked]),
      [
        ['radio', 'claude-haiku (claude-haiku-4-5)', false],
        ['radio', 'claude-opus (claude-opus-4-5)', false],
        // gpt-4o is the configured default, so Sonnet is offered under that name.
        ['radio', 'gpt-4o (claude-sonnet-4-5)', true],
        // The user's own alias names its model.
        ['radio', 'fast (nova-micro)', false],
      ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );
    const fast = model.submenu!.find((item) => item.label?.startsWith('fast'))!;
    assert.deepEqual(fast.action, { kind: 'set-default-model', model: 'fast' });
  });

  it('a default model given as a Bedrock id that no alias names is listed and checked', () => {
    const state = { ...STATES.serving, models: { ...STATES.serving.models, defaultModel: 'us.amazon.nova-pro-v1:0', defaultModelId: 'us.amazon.nova-pro-v1:0' } };
    const choices = modelChoices(state);
    const checked = choices.filter((choice) => choice.checked);
    assert.deepEqual(checked, [{ model: 'us.amazon.nova-pro-v1:0', label: 'nova-pro', checked: true }]);
  });

  it('needs sign-in: Sign in… is offered; the copy items still work (the server listens)', () => {
    const menu = trayMenu({ state: STATES['needs-sign-in'], startAtLogin: false });
    assert.equal(menu[1]!.label, 'Sign-in needed');
    assert.deepEqual(byLabel(menu, 'Sign in…')!.action, { kind: 'sign-in' });
    assert.notEqual(byLabel(menu, 'Sign in…')!.enabled, false);
    assert.equal(byLabel(menu, 'Sign out'), undefined);
    assert.equal(byLabel(menu, 'Copy API key')!.enabled, true);
  });

  it('signing in: the status line has the code and the item shows it in the window', () => {
    const menu = trayMenu({ state: STATES['signing-in'], startAtLogin: false });
    assert.equal(menu[1]!.label, 'Signing in: enter code WDJB-MJHT');
    assert.deepEqual(byLabel(menu, 'Show sign-in code…')!.action, { kind: 'open-window' });
  });

  it('a source without sign-in (env, default chain, emulator) has neither Sign in nor Sign out', () => {
    const menu = labels(trayMenu({ state: STATES['serving-env'], startAtLogin: false }));
    assert.ok(!menu.includes('Sign in…') && !menu.includes('Sign out'));
  });

  it('port in use by another program: says so and offers another port; copy items disabled', () => {
    const menu = trayMenu({ state: STATES['port-in-use'], startAtLogin: false });
    assert.equal(menu[1]!.label, 'Port 8741 is in use by another program');
    assert.deepEqual(menu[2]!.action, { kind: 'use-another-port' });
    assert.equal(byLabel(menu, 'Copy base URL')!.enabled, false);
    assert.equal(byLabel(menu, 'Copy API key')!.enabled, false);
  });

  it('port held by another Bedrock Bridge: says so, offers no other port', () => {
    const menu = trayMenu({ state: STATES['port-in-use-by-bridge'], startAtLogin: false });
    assert.equal(menu[1]!.label, 'Port 8741: another Bedrock Bridge is already serving');
    assert.equal(byLabel(menu, 'Use another port'), undefined);
  });

  it('error and starting: a status line, no copy', () => {
    assert.equal(trayMenu({ state: STATES.error, startAtLogin: false })[1]!.label, 'Not serving: see the window');
    assert.equal(trayMenu({ state: STATES.starting, startAtLogin: false })[1]!.label, 'Starting…');
    assert.equal(byLabel(trayMenu({ state: STATES.starting, startAtLogin: false }), 'Copy base URL')!.enabled, false);
  });

  it('Start at login: a checkbox showing the OS state, its action the opposite', () => {
    const off = byLabel(trayMenu({ state: STATES.serving, startAtLogin: false }), 'Start at login')!;
    const on = byLabel(trayMenu({ state: STATES.serving, startAtLogin: true }), 'Start at login')!;
    assert.deepEqual([off.type, off.checked, off.action], ['checkbox', false, { kind: 'set-start-at-login', enabled: true }]);
    assert.deepEqual([on.checked, on.action], [true, { kind: 'set-start-at-login', enabled: false }]);
  });
});

describe('tray icon and tooltip', () => {
  it('icon per state', () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(STATES).map(([name, state]) => [name, trayIconState(state)])),
      {
        starting: 'starting',
        serving: 'serving',
        'serving-env': 'serving',
        'needs-sign-in': 'sign-in',
        'signing-in': 'sign-in',
        error: 'error',
        'port-in-use': 'error',
        'port-in-use-by-bridge': 'error',
        stopped: 'starting',
      },
    );
  });

  it('template image on macOS, .ico on Windows, one PNG on Linux', () => {
    assert.equal(trayIconFile('/r/tray', 'serving', 'darwin'), '/r/tray/servingTemplate.png');
    assert.equal(trayIconFile('/r/tray', 'error', 'win32'), '/r/tray/error.ico');
    assert.equal(trayIconFile('/r/tray', 'sign-in', 'linux'), '/r/tray/sign-in@2x.png');
  });

  it('tooltip: the status, and the default model while serving or the reason on error', () => {
    assert.equal(trayTooltip(STATES.serving), 'Bedrock Bridge: Serving on port 8741\nDefault model: gpt-4o');
    assert.equal(trayTooltip(STATES['needs-sign-in']), 'Bedrock Bridge: Sign-in needed');
    // The reason is added only where it says more than the status line.
    assert.equal(trayTooltip(STATES['port-in-use']), 'Bedrock Bridge: Port 8741 is in use by another program');
    assert.equal(trayTooltip(STATES.error), 'Bedrock Bridge: Not serving: see the window\nSettings file settings.json: port must be at most 65535');
    const memoryOnly = { ...STATES.serving, secretStorage: { kind: 'memory-only' as const, persistent: false, warning: 'no keychain' } };
    assert.equal(trayTooltip(memoryOnly), 'Bedrock Bridge: Serving on port 8741\nDefault model: gpt-4o\nSign-in kept in memory only: sign in again after each restart');
  });
});
