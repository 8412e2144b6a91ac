/**
 * The desktop shell: starts the one core (src/app) and adapts Electron to it. Tray, window, login item,
 * notifications and quitting live here; the server, sign-in, settings and usage are the core's.
 * Everything Electron comes in through DesktopPorts (src/main/ports.ts).
 */
import { createServer } from 'node:net';
import type { LoginItemPort } from '../app/types.ts';
import { messageOf } from '../core/error-message.ts';
import { safeStorageApiKeyStore } from './api-key-store.ts';
import { EMULATOR_FLAG, startsHidden } from './launch-options.ts';
import type { DesktopPorts } from './ports.ts';
import { trayIconFile } from './tray-icon.ts';
import { type TrayAction, trayIconState, trayMenu, trayTooltip } from './tray-menu.ts';
import { windowController } from './window-controller.ts';
import { mayOpenExternally } from './window-policy.ts';

/**
 * Quitting drains requests, flushes the ledger and makes one final audit sync, each bounded by the
 * core; this is the backstop if something still hangs, so Quit always quits.
 */
export const QUIT_DEADLINE_MS = 30_000;

/** A port nothing listens on right now, for "Use another port". */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs until Quit. When another instance runs, that one shows its window and this process exits. */
export async function startDesktop(ports: DesktopPorts): Promise<void> {
  const { lifecycle } = ports;
  if (!lifecycle.requestSingleInstanceLock()) {
    lifecycle.exit(0);
    return;
  }
  if (ports.platform === 'darwin') lifecycle.hideDock();
  lifecycle.setApplicationMenu();
  const { log } = ports;

  let startAtLogin = false;
  const tray = ports.createTray();
  // The core changes the login item (Settings tab, tray); the tray's checkbox shows what the OS says.
  const loginItem: LoginItemPort = {
    get: () => ports.loginItem.get(),
    set: async (enabled) => {
      await ports.loginItem.set(enabled);
      startAtLogin = await ports.loginItem.get();
      log(`Start at login: ${startAtLogin ? 'on' : 'off'}`);
      render();
    },
  };

  const app = ports.createApp({
    dataDirectory: ports.dataDirectory,
    settingsStore: ports.settingsStore,
    safeStorage: ports.safeStorage,
    apiKeyStore: safeStorageApiKeyStore(ports.safeStorage, ports.dataDirectory),
    env: ports.env,
    emulator: ports.argv.includes(EMULATOR_FLAG),
    uiDirectory: ports.uiDirectory,
    loginItem,
    log,
    notify: (notification) => {
      log(`Notification: ${notification.title}: ${notification.body}`);
      ports.notify(notification);
    },
    openUrl: async (url) => {
      if (!mayOpenExternally(url, app.state)) throw new Error('Only the verification page of the sign-in under way opens in the browser.');
      await ports.openExternal(url);
      return true;
    },
  });
  const window = windowController(ports, app, log);

  const act = async (action: TrayAction): Promise<void> => {
    log(`Tray: ${action.kind}${action.kind === 'set-default-model' ? ` ${action.model}` : ''}`);
    try {
      switch (action.kind) {
        case 'open-window':
          return await window.open();
        case 'set-default-model':
          await app.setDefaultModel(action.model);
          return;
        case 'copy-base-url':
        case 'copy-api-key': {
          const connection = app.connection();
          if (connection) ports.clipboard.writeText(action.kind === 'copy-base-url' ? connection.baseUrl : connection.apiKey);
          return;
        }
        case 'sign-in':
          await app.signIn();
          await window.open();
          await app.openSignInPage();
          return;
        case 'sign-out':
          await app.signOut();
          return;
        case 'set-start-at-login':
          await app.updateSettings({ startAtLogin: action.enabled });
          return;
        case 'use-another-port':
          await app.updateSettings({ port: await freePort() });
          await app.restart();
          return;
        case 'open-logs':
          return await ports.openPath(ports.logsDirectory);
        case 'quit':
          return lifecycle.quit();
      }
    } catch (error) {
      log(`Tray: ${action.kind} failed: ${messageOf(error)}`);
    }
  };

  const render = () => {
    const state = app.state;
    tray.setImage(trayIconFile(ports.iconDirectory, trayIconState(state), ports.platform));
    tray.setToolTip(trayTooltip(state));
    tray.setMenu(trayMenu({ state, startAtLogin }), (action) => void act(action));
  };

  let lastStatus = app.state.status;
  app.onStateChange((state) => {
    if (state.status !== lastStatus) log(`Status: ${state.status}: ${state.message}`);
    lastStatus = state.status;
    render();
    void window.follow();
  });
  // macOS opens the menu on click; elsewhere a click (where the tray reports one) opens the window.
  if (ports.platform !== 'darwin') tray.onClick(() => void window.open());
  const showOnRelaunch = () => {
    log('Launched again: showing the window');
    void window.open();
  };
  lifecycle.onSecondInstance(showOnRelaunch);

  let stopped = false;
  let stopping = false;
  lifecycle.onBeforeQuit((event) => {
    if (stopped) return;
    event.preventDefault();
    if (stopping) return;
    stopping = true;
    log('Quitting: draining requests, flushing the usage ledger, final audit sync');
    const deadline = setTimeout(() => {
      log(`Quitting: still stopping after ${QUIT_DEADLINE_MS / 1000} s, exiting anyway`);
      lifecycle.exit(1);
    }, QUIT_DEADLINE_MS);
    app
      .stop()
      .catch((error: unknown) => log(`Error while stopping: ${messageOf(error)}`))
      .finally(() => {
        clearTimeout(deadline);
        stopped = true;
        window.release();
        log('Stopped');
        lifecycle.quit();
      });
  });

  try {
    startAtLogin = await ports.loginItem.get();
  } catch (error) {
    log(`Could not read the login item: ${messageOf(error)}`);
  }
  render();
  const state = await app.start();
  log(`Started: ${state.status}: ${state.message}`);
  // Only now: macOS also sends 'activate' for the launch itself, which must not open a --hidden app.
  lifecycle.onActivate(showOnRelaunch);
  if (!startsHidden(ports.argv, lifecycle.wasOpenedAtLogin())) await window.open();
  else if (state.status === 'needs-sign-in') {
    // Started in the tray (at login): nothing on screen would say that requests answer 401.
    ports.notify({ kind: 'sign-in-needed', title: 'Sign in to Bedrock Bridge', body: 'Requests are refused until you sign in: choose Sign in… in the tray menu.' });
  }
}
