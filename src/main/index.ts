/**
 * The Electron main process: pins the data directory to the one the headless CLI uses (settings,
 * ledger and sign-in shared), opens the settings store, and hands the real Electron objects to
 * startDesktop (src/main/desktop.ts). Built to dist/main/index.js with `electron` left external.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import electron from 'electron';
import ElectronStore from 'electron-store';
import { createBridgeApp } from '../app/bridge-app.ts';
import { SETTINGS_CONFIG_NAME, settingsStoreOptions } from '../app/settings-store.ts';
import { messageOf } from '../core/error-message.ts';
import { defaultDataDirectory } from '../core/paths.ts';
import { startDesktop } from './desktop.ts';
import { electronPorts } from './electron-ports.ts';
import { fileLog } from './log-file.ts';
import { APP_NAME } from './tray-menu.ts';

const { app } = electron;
const dataDirectory = defaultDataDirectory(process.env);
app.setName(APP_NAME);
// userData also holds Electron's single-instance lock: one app per data directory, like the ledger.
app.setPath('userData', dataDirectory);
// macOS: ~/Library/Logs/Bedrock Bridge; elsewhere next to the data.
app.setAppLogsPath(process.platform === 'darwin' ? undefined : path.join(dataDirectory, 'logs'));
// Closing the window hides it; the app lives in the tray until Quit.
app.on('window-all-closed', () => {});

await app.whenReady();
const log = fileLog(app.getPath('logs'));
try {
  const settingsFile = path.join(dataDirectory, `${SETTINGS_CONFIG_NAME}.json`);
  const { configName, ...storeOptions } = settingsStoreOptions(settingsFile);
  let settingsStore: ElectronStore<Record<string, unknown>>;
  try {
    settingsStore = new ElectronStore<Record<string, unknown>>({ ...storeOptions, name: configName });
  } catch (error) {
    throw new Error(`Settings file ${settingsFile} cannot be used: ${messageOf(error)}`);
  }
  await startDesktop(
    electronPorts(electron, {
      dataDirectory,
      bundleDirectory: path.dirname(fileURLToPath(import.meta.url)),
      settingsStore,
      createApp: createBridgeApp,
      log,
    }),
  );
} catch (error) {
  // Nothing to show it in yet but a dialog: a broken settings file, a bug.
  log(`Cannot start: ${messageOf(error)}`);
  electron.dialog.showErrorBox(`${APP_NAME} cannot start`, messageOf(error));
  app.exit(1);
}
