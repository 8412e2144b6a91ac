/**
 * Stands in for the `electron` module in a plain Node process (loaded through ./fake-electron-hooks.ts),
 * so the BUILT main bundle runs as shipped without the Electron binary. It does what the app can
 * observe Electron do, and reports everything the app does to the test over the IPC channel
 * (`process.send`); the test drives it back with commands (./desktop-process.ts):
 * - app: ready at once, single-instance lock through a socket in userData (as Chromium's
 *   SingletonSocket), quit sequence before-quit -> window close -> will-quit -> exit, login items kept in memory.
 * - BrowserWindow: "loads" a URL by fetching it with its session's cookies, like a browser would.
 * - Tray, Menu, Notification, clipboard, shell, dialog: recorded; menu clicks come from the test.
 * - safeStorage: real AES-256-GCM with the key in FAKE_SAFE_STORAGE_KEY (hex), so a restart can read
 *   what the last run wrote; backend FAKE_SAFE_STORAGE_BACKEND (default gnome_libsecret).
 * Env: FAKE_ELECTRON_APP_PATH (app.getAppPath(), default the repository).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { fakeSafeStorage } from '../credentials/fake-safe-storage.ts';

// --- reporting ------------------------------------------------------------------------------------
export type FakeReport = { type: string; [key: string]: unknown };

function report(message: FakeReport): void {
  if (process.send && process.connected) process.send(message);
}

interface MenuTemplateItem {
  type?: string;
  label?: string;
  role?: string;
  enabled?: boolean;
  checked?: boolean;
  submenu?: MenuTemplateItem[];
  click?: () => void;
}

/** The template without its functions: what the test sees. */
function plainMenu(items: MenuTemplateItem[]): unknown[] {
  return items.map(({ click, submenu, ...rest }) => ({ ...rest, ...(submenu ? { submenu: plainMenu(submenu) } : {}), clickable: typeof click === 'function' }));
}

function findItem(items: MenuTemplateItem[], labels: string[]): MenuTemplateItem | null {
  const [first, ...rest] = labels;
  const item = items.find((candidate) => candidate.label === first);
  if (!item) return null;
  return rest.length === 0 ? item : findItem(item.submenu ?? [], rest);
}

// --- app ------------------------------------------------------------------------------------------
const repositoryRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const appPath = process.env.FAKE_ELECTRON_APP_PATH ?? repositoryRoot;
const paths = new Map<string, string>([['appData', process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config')]]);
let appName = 'Electron';
let loginItem = { openAtLogin: false, args: [] as string[] };
let singleton: Server | null = null;
const windows = new Set<BrowserWindow>();
// Electron runs until it quits, whether or not anything is listening.
const keepAlive = setInterval(() => {}, 1 << 30);

function preventable() {
  let prevented = false;
  return { event: { preventDefault: () => void (prevented = true) }, prevented: () => prevented };
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  dock = process.platform === 'darwin' ? { hide: () => report({ type: 'dock-hidden' }), show: () => {} } : undefined;
  whenReady(): Promise<void> {
    return new Promise((resolve) => setImmediate(() => {
      report({ type: 'ready', pid: process.pid });
      resolve();
    }));
  }
  getAppPath(): string {
    return appPath;
  }
  getVersion(): string {
    return (JSON.parse(readFileSync(path.join(appPath, 'package.json'), 'utf8')) as { version: string }).version;
  }
  getName(): string {
    return appName;
  }
  setName(name: string): void {
    appName = name;
  }
  getPath(name: string): string {
    if (name === 'userData') return paths.get('userData') ?? path.join(paths.get('appData')!, appName);
    if (name === 'logs') return paths.get('logs') ?? path.join(this.getPath('userData'), 'logs');
    const known = paths.get(name);
    if (!known) throw new Error(`fake electron: no path ${name}`);
    return known;
  }
  setPath(name: string, value: string): void {
    paths.set(name, value);
  }
  setAppLogsPath(value?: string): void {
    if (value) paths.set('logs', value);
  }
  /** The first process to listen on the socket holds the lock; later ones pass their argv to it and get false. */
  requestSingleInstanceLock(): boolean {
    const socket = path.join(this.getPath('userData'), 'SingletonSocket');
    // Synchronous in Electron: a child process does the probe so this stays synchronous too.
    const probe = spawnSyncProbe(socket);
    if (probe === 'held') return false;
    rmSync(socket, { force: true });
    singleton = createServer((connection) => {
      let data = '';
      connection.on('data', (chunk) => (data += chunk));
      connection.on('end', () => this.emit('second-instance', {}, JSON.parse(data || '[]'), process.cwd()));
    });
    singleton.listen(socket);
    singleton.unref();
    return true;
  }
  /** macOS/Windows only in Electron (test/main/login-item.test.ts covers Windows' args matching); Linux uses XDG autostart. */
  getLoginItemSettings(): { openAtLogin: boolean; wasOpenedAtLogin: boolean } {
    return { openAtLogin: loginItem.openAtLogin, wasOpenedAtLogin: false };
  }
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void {
    loginItem = { openAtLogin: settings.openAtLogin, args: settings.args ?? [] };
    report({ type: 'login-item', ...loginItem });
  }
  quit(): void {
    const beforeQuit = preventable();
    this.emit('before-quit', beforeQuit.event);
    report({ type: 'before-quit', prevented: beforeQuit.prevented() });
    if (beforeQuit.prevented()) return;
    for (const window of windows) {
      if (!window.close()) return;
    }
    const willQuit = preventable();
    this.emit('will-quit', willQuit.event);
    if (willQuit.prevented()) return;
    this.emit('quit');
    this.exit(0);
  }
  exit(code: number): void {
    report({ type: 'exit', code });
    singleton?.close();
    clearInterval(keepAlive);
    // Let the report reach the test first.
    setImmediate(() => process.exit(code));
  }
}

/** Whether another live process listens on the lock socket (connects and hands over this argv). */
function spawnSyncProbe(socket: string): 'held' | 'free' {
  const script = `const s=require('node:net').connect(${JSON.stringify(socket)});s.on('connect',()=>{s.end(${JSON.stringify(JSON.stringify(process.argv))});s.on('close',()=>process.exit(3))});s.on('error',()=>process.exit(0));`;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
  return result.status === 3 ? 'held' : 'free';
}

export const app = new FakeApp();
export const ipcMain = new EventEmitter();

// --- window ---------------------------------------------------------------------------------------
class FakeCookies {
  readonly jar = new Map<string, Map<string, string>>();
  async set(details: { url: string; name: string; value: string; httpOnly?: boolean; sameSite?: string }): Promise<void> {
    const origin = new URL(details.url).origin;
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    cookies.set(details.name, details.value);
    this.jar.set(origin, cookies);
    report({ type: 'cookie-set', origin, name: details.name, httpOnly: details.httpOnly, sameSite: details.sameSite });
  }
  header(url: string): string {
    return [...(this.jar.get(new URL(url).origin) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

class FakeSession {
  readonly cookies = new FakeCookies();
  permissionRequest: ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl: string }) => void) | null = null;
  permissionCheck: ((contents: unknown, permission: string, origin: string) => boolean) | null = null;
  setPermissionRequestHandler(handler: FakeSession['permissionRequest']): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: FakeSession['permissionCheck']): void {
    this.permissionCheck = handler;
  }
}

class FakeWebContents extends EventEmitter {
  readonly session = new FakeSession();
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

export class BrowserWindow extends EventEmitter {
  static last: BrowserWindow | null = null;
  readonly webContents = new FakeWebContents();
  readonly options: Record<string, unknown>;
  url: string | null = null;
  visible = false;
  destroyed = false;

  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    windows.add(this);
    BrowserWindow.last = this;
    report({ type: 'window-created', webPreferences: options.webPreferences, width: options.width, height: options.height, show: options.show });
  }
  async loadURL(url: string): Promise<void> {
    this.url = url;
    if (url.startsWith('data:')) {
      report({ type: 'window-load', url: url.slice(0, 40), status: 200, body: decodeURIComponent(url.slice(url.indexOf(',') + 1)) });
      return;
    }
    const response = await fetch(url, { headers: { cookie: this.webContents.session.cookies.header(url) }, redirect: 'manual' });
    report({ type: 'window-load', url, status: response.status });
  }
  /** What the page's own fetch() would get: same origin, the session's cookies, the CSRF header. */
  async pageFetch(pathname: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
    if (!this.url) throw new Error('nothing loaded');
    const url = new URL(pathname, this.url).href;
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { cookie: this.webContents.session.cookies.header(url), origin: new URL(url).origin, 'x-bedrock-bridge': '1', 'content-type': 'application/json' },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: response.status, body: await response.text() };
  }
  show(): void {
    this.visible = true;
    report({ type: 'window-show' });
  }
  hide(): void {
    this.visible = false;
    report({ type: 'window-hide' });
  }
  focus(): void {}
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  isVisible(): boolean {
    return this.visible;
  }
  /** Returns false when a 'close' listener kept the window (hid it instead). */
  close(): boolean {
    const closing = preventable();
    this.emit('close', closing.event);
    report({ type: 'window-close', prevented: closing.prevented() });
    if (closing.prevented()) return false;
    this.destroy();
    return true;
  }
  destroy(): void {
    this.destroyed = true;
    windows.delete(this);
  }
}

// --- tray, menus, notifications -------------------------------------------------------------------
interface FakeImage {
  path?: string;
  sha256?: string;
  scaleFactor?: number;
}

export const nativeImage = {
  createEmpty: (): FakeImage => ({}),
  createFromPath: (file: string): FakeImage => ({ path: file }),
  createFromBuffer: (buffer: Buffer, options: { scaleFactor?: number } = {}): FakeImage => ({
    sha256: createHash('sha256').update(buffer).digest('hex'),
    scaleFactor: options.scaleFactor ?? 1,
  }),
};

export class Menu {
  static application: Menu | null = null;
  readonly items: MenuTemplateItem[];
  constructor(items: MenuTemplateItem[]) {
    this.items = items;
  }
  static buildFromTemplate(template: MenuTemplateItem[]): Menu {
    return new Menu(template);
  }
  static setApplicationMenu(menu: Menu | null): void {
    Menu.application = menu;
    report({ type: 'application-menu', menu: menu ? plainMenu(menu.items) : null });
  }
}

export class Tray extends EventEmitter {
  static last: Tray | null = null;
  menu: Menu | null = null;
  constructor(image: FakeImage) {
    super();
    Tray.last = this;
    report({ type: 'tray-created', image });
  }
  setImage(image: FakeImage): void {
    report({ type: 'tray-image', image });
  }
  setToolTip(text: string): void {
    report({ type: 'tray-tooltip', text });
  }
  setContextMenu(menu: Menu): void {
    this.menu = menu;
    report({ type: 'tray-menu', menu: plainMenu(menu.items) });
  }
}

export class Notification {
  static isSupported(): boolean {
    return true;
  }
  readonly options: { title: string; body: string };
  constructor(options: { title: string; body: string }) {
    this.options = options;
  }
  show(): void {
    report({ type: 'notification', ...this.options });
  }
}

export const clipboard = { writeText: (text: string) => report({ type: 'clipboard', text }) };

export const shell = {
  openExternal: async (url: string) => report({ type: 'open-external', url }),
  openPath: async (target: string) => {
    report({ type: 'open-path', path: target });
    return '';
  },
};

export const dialog = { showErrorBox: (title: string, content: string) => report({ type: 'error-box', title, content }) };

const storage = fakeSafeStorage({
  backend: process.env.FAKE_SAFE_STORAGE_BACKEND ?? 'gnome_libsecret',
  key: process.env.FAKE_SAFE_STORAGE_KEY ? Buffer.from(process.env.FAKE_SAFE_STORAGE_KEY, 'hex') : randomBytes(32),
});
/** Electron 45's shape: decryptStringAsync answers `{ result, shouldReEncrypt }`. */
export const safeStorage = {
  isAsyncEncryptionAvailable: () => storage.isAsyncEncryptionAvailable(),
  getSelectedStorageBackend: () => storage.getSelectedStorageBackend!(),
  encryptStringAsync: (text: string) => storage.encryptStringAsync(text),
  decryptStringAsync: async (data: Buffer) => ({ result: await storage.decryptStringAsync(data), shouldReEncrypt: false }),
};

export const contextBridge = { exposeInMainWorld: () => {} };

// --- commands from the test -----------------------------------------------------------------------
export type FakeCommand =
  | { type: 'click'; labels: string[] }
  | { type: 'tray-click' }
  | { type: 'quit' }
  | { type: 'close-window' }
  | { type: 'page-fetch'; id: number; path: string; method?: string; body?: string }
  | { type: 'window-open'; url: string }
  | { type: 'navigate'; url: string }
  | { type: 'permission'; permission: string; url: string };

process.on('message', (message: FakeCommand) => {
  const window = BrowserWindow.last;
  switch (message.type) {
    case 'click': {
      const item = Tray.last?.menu ? findItem(Tray.last.menu.items, message.labels) : null;
      report({ type: 'clicked', labels: message.labels, found: item !== null && typeof item.click === 'function' });
      item?.click?.();
      return;
    }
    case 'tray-click':
      Tray.last?.emit('click');
      return;
    case 'quit':
      app.quit();
      return;
    case 'close-window':
      window?.close();
      return;
    case 'page-fetch':
      void window!.pageFetch(message.path, message).then(
        (result) => report({ type: 'page-fetched', id: message.id, ...result }),
        (error: unknown) => report({ type: 'page-fetched', id: message.id, status: 0, body: String(error) }),
      );
      return;
    case 'window-open':
      report({ type: 'window-open-decision', url: message.url, action: window?.webContents.windowOpenHandler?.({ url: message.url }).action ?? null });
      return;
    case 'navigate': {
      const navigation = preventable();
      window?.webContents.emit('will-navigate', navigation.event, message.url);
      report({ type: 'navigate-decision', url: message.url, prevented: navigation.prevented() });
      return;
    }
    case 'permission':
      window?.webContents.session.permissionRequest?.(null, message.permission, (granted) => report({ type: 'permission-decision', permission: message.permission, url: message.url, granted }), { requestingUrl: message.url });
      return;
  }
});
// The channel must not keep the process alive by itself (keepAlive does, until quit).
process.channel?.unref();

export default { app, ipcMain, BrowserWindow, Tray, Menu, Notification, nativeImage, clipboard, shell, dialog, safeStorage, contextBridge };
