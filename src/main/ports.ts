/**
 * The Electron objects the desktop shell uses, as small interfaces: src/main/desktop.ts knows only
 * these, src/main/electron-ports.ts makes them from the real `electron` module. Any other maker (a
 * test's stubs) runs the shell without the Electron binary; the repository's tests run the built
 * bundle under a fake `electron` module instead (test/support/fake-electron.ts).
 */
import type { AppNotification, BridgeApp, BridgeAppOptions, LoginItemPort, SettingsStore, UiCookie } from '../app/types.ts';
import type { SafeStorageLike } from '../credentials/vault.ts';
import type { TrayAction, TrayMenuItem } from './tray-menu.ts';

export interface LifecyclePort {
  /** False when another instance holds the lock: that one shows its window, this one quits. */
  requestSingleInstanceLock(): boolean;
  onSecondInstance(listener: () => void): void;
  /** macOS: the app was opened again while running (Finder, Spotlight), which is not a second instance there. */
  onActivate(listener: () => void): void;
  /** Quit from the tray, ⌘Q, the OS (log out): preventDefault() keeps the app alive until it has stopped. */
  onBeforeQuit(listener: (event: { preventDefault(): void }) => void): void;
  /** Runs the quit sequence (before-quit first). */
  quit(): void;
  /** Ends the process at once, without before-quit. */
  exit(code: number): void;
  /** macOS: opened as a login item. */
  wasOpenedAtLogin(): boolean;
  /** macOS: no Dock icon (LSUIElement does it from launch in the packaged app; this covers the rest). */
  hideDock(): void;
  /** The application menu: its Edit roles make copy and paste work in the window on macOS. */
  setApplicationMenu(): void;
}

export interface TrayPort {
  setImage(file: string): void;
  setToolTip(text: string): void;
  /** Replaces the whole context menu; clicks come back as actions. */
  setMenu(items: TrayMenuItem[], onAction: (action: TrayAction) => void): void;
  /** A click on the icon (not on every platform: the menu's first item opens the window too). */
  onClick(listener: () => void): void;
}

export interface WindowPort {
  /** Loads the UI after setting its cookie on the window's session (the token never goes in the URL). */
  loadUi(url: string, cookie: UiCookie): Promise<void>;
  /** Loads a static page (data: URL) while the server is not listening. */
  loadPage(url: string): Promise<void>;
  show(): void;
  hide(): void;
  /** The user closed the window: the listener hides it instead, unless the app is quitting. */
  onClose(listener: (event: { preventDefault(): void }) => void): void;
  destroy(): void;
}

export interface WindowPolicy {
  /** The origin the window may show; null while not listening. */
  origin(): string | null;
  /** A link the page asked to open: the system browser gets it only if this says so. */
  mayOpenExternally(url: string): boolean;
}

export interface DesktopPorts {
  platform: NodeJS.Platform;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Settings, ledger, sign-in.json, secrets.enc: the headless CLI's data directory, shared. */
  dataDirectory: string;
  /** Where main.log goes ("Open logs folder"). */
  logsDirectory: string;
  /** main.log (src/main/log-file.ts). */
  log: (line: string) => void;
  /** build/tray (source checkout) or <resources>/tray (packaged). */
  iconDirectory: string;
  /** dist/renderer of this package. */
  uiDirectory: string;
  lifecycle: LifecyclePort;
  createTray(): TrayPort;
  createWindow(policy: WindowPolicy): WindowPort;
  clipboard: { writeText(text: string): void };
  openExternal(url: string): Promise<void>;
  openPath(path: string): Promise<void>;
  notify(notification: AppNotification): void;
  /** Electron's safeStorage, with decryptStringAsync answering the plain text. */
  safeStorage: SafeStorageLike;
  loginItem: LoginItemPort;
  settingsStore: SettingsStore;
  createApp(options: BridgeAppOptions): BridgeApp;
}
