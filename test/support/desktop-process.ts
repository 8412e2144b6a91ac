/**
 * Runs the BUILT Electron main bundle under plain Node with the fake `electron`
 * (./fake-electron-hooks.ts), as its own process, and follows what it does through the fake's
 * reports. `buildDesktopBundle()` builds dist/main + dist/preload into an app folder of the test's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { entryBuildOptions } from '../../scripts/build.ts';
import type { FakeCommand, FakeReport } from './fake-electron.ts';
import { cleanEnv } from './serve-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const HOOKS = new URL('./fake-electron-hooks.ts', import.meta.url).pathname;

export interface DesktopBundle {
  /** dist/main/index.js of the app. */
  main: string;
  /** The app's folder (what app.getAppPath() answers), laid out as in the packaged asar. */
  appPath: string;
}

/**
 * Builds the main and preload bundles into a temporary app folder laid out as electron-builder packs
 * it (dist/main, dist/preload, package.json; no node_modules, so a dependency left out of the bundle
 * fails here as it would in the app), with the repository's build/ (tray icons) and dist/renderer.
 */
export async function buildDesktopBundle(name: string): Promise<DesktopBundle> {
  const appPath = mkdtempSync(path.join(tmpdir(), `bb-app-${name}-`));
  for (const entry of ['main', 'preload']) await build(entryBuildOptions(entry, path.join(appPath, 'dist')));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(appPath, 'package.json'));
  symlinkSync(path.join(ROOT, 'build'), path.join(appPath, 'build'));
  if (existsSync(path.join(ROOT, 'dist', 'renderer'))) symlinkSync(path.join(ROOT, 'dist', 'renderer'), path.join(appPath, 'dist', 'renderer'));
  return { main: path.join(appPath, 'dist', 'main', 'index.js'), appPath };
}

export interface TrayMenuReportItem {
  type?: string;
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  clickable: boolean;
  submenu?: TrayMenuReportItem[];
}

export interface DesktopProcess {
  child: ChildProcess;
  reports: FakeReport[];
  /** Resolves with the first report (already received or still to come) that matches. */
  waitFor(what: string, predicate: (report: FakeReport) => boolean, timeoutMs?: number): Promise<FakeReport>;
  /** Resolves with the first report after now that matches. */
  next(what: string, predicate: (report: FakeReport) => boolean, timeoutMs?: number): Promise<FakeReport>;
  send(command: FakeCommand): void;
  /** The last tray menu set. */
  menu(): TrayMenuReportItem[];
  /** The tray menu's status line (its second item). */
  status(): string | undefined;
  /** GET/POST from the window's page, with its session cookie. */
  pageFetch(pathname: string, init?: { method?: string; body?: string }): Promise<{ status: number; body: string }>;
  output(): string;
  exit: Promise<number | null>;
}

/**
 * A desktop environment over `base` (default: a clean one for data directory `home`): XDG dirs inside
 * `home`, and a fixed safeStorage key so a restart reads what the last run encrypted.
 */
export function desktopEnv(home: string, base: NodeJS.ProcessEnv = cleanEnv(home)): NodeJS.ProcessEnv {
  return {
    ...base,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    FAKE_SAFE_STORAGE_KEY: randomBytes(32).toString('hex'),
  };
}

export function launchDesktop(bundle: DesktopBundle, args: string[], env: NodeJS.ProcessEnv): DesktopProcess {
  const child = spawn(process.execPath, ['--import', HOOKS, bundle.main, ...args], {
    env: { ...env, FAKE_ELECTRON_APP_PATH: bundle.appPath },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const reports: FakeReport[] = [];
  const waiters = new Set<{ predicate: (report: FakeReport) => boolean; resolve: (report: FakeReport) => void }>();
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.on('message', (report: FakeReport) => {
    reports.push(report);
    for (const waiter of waiters) {
      if (waiter.predicate(report)) {
        waiters.delete(waiter);
        waiter.resolve(report);
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const wait = (what: string, predicate: (report: FakeReport) => boolean, timeoutMs: number, from: number) =>
    new Promise<FakeReport>((resolve, reject) => {
      const seen = reports.slice(from).find(predicate);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; output:\n${text}\nlast reports: ${JSON.stringify(reports.slice(-5))}`));
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: (report: FakeReport) => {
          clearTimeout(timer);
          resolve(report);
        },
      };
      waiters.add(waiter);
      void exit.then((code) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`exited (${code}) while waiting for ${what}; output:\n${text}`));
      });
    });
  let fetches = 0;
  const menu = () => (reports.findLast((report) => report.type === 'tray-menu')?.menu ?? []) as TrayMenuReportItem[];
  return {
    child,
    reports,
    waitFor: (what, predicate, timeoutMs = 30_000) => wait(what, predicate, timeoutMs, 0),
    next: (what, predicate, timeoutMs = 30_000) => wait(what, predicate, timeoutMs, reports.length),
    send: (command) => child.send(command),
    menu,
    status: () => menu()[1]?.label,
    async pageFetch(pathname, init = {}) {
      const id = ++fetches;
      const answer = wait(`page fetch ${pathname}`, (report) => report.type === 'page-fetched' && report.id === id, 30_000, reports.length);
      child.send({ type: 'page-fetch', id, path: pathname, ...init });
      const { status, body } = (await answer) as unknown as { status: number; body: string };
      return { status, body };
    },
    output: () => text,
    exit,
  };
}
