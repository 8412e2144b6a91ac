/**
 * DesktopPorts made from the real Electron module. The only file besides src/main/index.ts that knows
 * Electron's API; the decisions it applies (which URL, which permission) are the pure functions of
 * src/main/window-policy.ts and src/main/tray-menu.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { App, MenuItemConstructorOptions, SafeStorage, Session } from 'electron';
import type { SafeStorageLike } from '../credentials/vault.ts';
import type { LoginItemPort } from '../app/types.ts';
import { electronLoginItem, xdgAutostartLoginItem } from './login-item.ts';
import type { DesktopPorts, TrayPort, WindowPolicy, WindowPort } from './ports.ts';
import type { TrayAction, TrayMenuItem } from './tray-menu.ts';
import { isOwnUrl, permissionAllowed } from './window-policy.ts';

type ElectronModule = typeof import('electron');

/** The window's size: the UI is laid out for it. */
export const WINDOW_SIZE = { width: 420, height: 640 } as const;
/** An in-memory session of its own: the per-launch UI cookie never reaches the disk. */
const UI_PARTITION = 'bedrock-bridge-ui';

/** Edit roles make ⌘C/⌘V work in the window on macOS; nothing else (no View menu with dev tools). */
export function applicationMenuTemplate(platform: NodeJS.Platform): MenuItemConstructorOptions[] {
  return platform === 'darwin' ? [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }] : [{ role: 'editMenu' }];
}

export function electronMenuTemplate(items: TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item) => {
    const { action } = item;
    return {
      type: item.type,
      label: item.label,
      enabled: item.enabled,
      checked: item.checked,
      submenu: item.submenu ? electronMenuTemplate(item.submenu, onAction) : undefined,
      click: action ? () => onAction(action) : undefined,
    };
  });
}

/** Electron 45's decryptStringAsync answers `{ result, shouldReEncrypt }`; the vault wants the text. */
export function vaultSafeStorage(safeStorage: SafeStorage, platform: NodeJS.Platform): SafeStorageLike {
  return {
    isAsyncEncryptionAvailable: () => safeStorage.isAsyncEncryptionAvailable(),
    encryptStringAsync: (plainText) => safeStorage.encryptStringAsync(plainText),
    decryptStringAsync: async (encrypted) => (await safeStorage.decryptStringAsync(encrypted)).result,
    // Linux only: which secret store backs it ('basic_text' = none, a fixed key).
    ...(platform === 'linux' ? { getSelectedStorageBackend: () => safeStorage.getSelectedStorageBackend() } : {}),
  };
}

function loginItemFor(app: App, platform: NodeJS.Platform, env: NodeJS.ProcessEnv, log: (line: string) => void): LoginItemPort {
  if (platform !== 'linux') return electronLoginItem(app);
  const item = xdgAutostartLoginItem(env, process.execPath);
  item.refresh().catch((error: unknown) => log(`Could not update the autostart entry: ${String(error)}`));
  return item;
}

function guardSession(session: Session, policy: WindowPolicy): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(permissionAllowed(permission, details.requestingUrl, policy.origin())));
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissionAllowed(permission, requestingOrigin, policy.origin()));
}

function createWindow(electron: ElectronModule, preload: string, policy: WindowPolicy): WindowPort {
  const window = new electron.BrowserWindow({
    ...WINDOW_SIZE,
    minWidth: 360,
    minHeight: 480,
    show: false,
    title: 'Bedrock Bridge',
    autoHideMenuBar: true,
    webPreferences: {
      partition: UI_PARTITION,
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  const contents = window.webContents;
  guardSession(contents.session, policy);
  // The page stays on the local server's origin; links go through the window-open handler.
  const refuseForeign = (event: { preventDefault(): void }, url: string) => {
    if (!isOwnUrl(url, policy.origin())) event.preventDefault();
  };
  contents.on('will-navigate', refuseForeign);
  contents.on('will-redirect', refuseForeign);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (policy.mayOpenExternally(url)) void electron.shell.openExternal(url);
    return { action: 'deny' };
  });
  return {
    loadUi: async (url, cookie) => {
      await contents.session.cookies.set(cookie);
      await window.loadURL(url);
    },
    loadPage: (url) => window.loadURL(url),
    show: () => {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    },
    hide: () => window.hide(),
    onClose: (listener) => window.on('close', listener),
    destroy: () => window.destroy(),
  };
}

function createTray(electron: ElectronModule, platform: NodeJS.Platform): TrayPort {
  const tray = new electron.Tray(electron.nativeImage.createEmpty());
  let imageFile: string | null = null;
  return {
    setImage: (file) => {
      if (file === imageFile) return;
      imageFile = file;
      // Linux trays take one bitmap and no scale factor (Signal does the same); elsewhere Electron
      // picks the @2x sibling and honours the Template suffix itself.
      tray.setImage(platform === 'linux' ? electron.nativeImage.createFromBuffer(readFileSync(file), { scaleFactor: 1 }) : electron.nativeImage.createFromPath(file));
    },
    setToolTip: (text) => tray.setToolTip(text),
    setMenu: (items, onAction) => tray.setContextMenu(electron.Menu.buildFromTemplate(electronMenuTemplate(items, onAction))),
    onClick: (listener) => tray.on('click', () => listener()),
  };
}

export interface ElectronPortsOptions {
  dataDirectory: string;
  /** dist/main of the running bundle: the preload sits next to it in dist/preload. */
  bundleDirectory: string;
  settingsStore: DesktopPorts['settingsStore'];
  createApp: DesktopPorts['createApp'];
  log: DesktopPorts['log'];
}

export function electronPorts(electron: ElectronModule, options: ElectronPortsOptions): DesktopPorts {
  const { app, shell } = electron;
  const platform = process.platform;
  const appRoot = app.getAppPath();
  const preload = path.join(options.bundleDirectory, '..', 'preload', 'index.cjs');
  return {
    platform,
    argv: process.argv,
    env: process.env,
    dataDirectory: options.dataDirectory,
    logsDirectory: app.getPath('logs'),
    log: options.log,
    iconDirectory: app.isPackaged ? path.join(process.resourcesPath, 'tray') : path.join(appRoot, 'build', 'tray'),
    uiDirectory: path.join(appRoot, 'dist', 'renderer'),
    lifecycle: {
      requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
      onSecondInstance: (listener) => app.on('second-instance', () => listener()),
      onActivate: (listener) => app.on('activate', () => listener()),
      onBeforeQuit: (listener) => app.on('before-quit', listener),
      quit: () => app.quit(),
      exit: (code) => app.exit(code),
      wasOpenedAtLogin: () => platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin,
      hideDock: () => app.dock?.hide(),
      setApplicationMenu: () => electron.Menu.setApplicationMenu(electron.Menu.buildFromTemplate(applicationMenuTemplate(platform))),
    },
    createTray: () => createTray(electron, platform),
    createWindow: (policy) => createWindow(electron, preload, policy),
    clipboard: { writeText: (text) => electron.clipboard.writeText(text) },
    openExternal: (url) => shell.openExternal(url),
    openPath: async (target) => {
      const error = await shell.openPath(target);
      if (error) throw new Error(error);
    },
    notify: (notification) => {
      if (electron.Notification.isSupported()) new electron.Notification({ title: notification.title, body: notification.body }).show();
    },
    safeStorage: vaultSafeStorage(electron.safeStorage, platform),
    loginItem: loginItemFor(app, platform, process.env, options.log),
    settingsStore: options.settingsStore,
    createApp: options.createApp,
  };
}
