/**
 * Start at login, off until the user turns it on (apps that add themselves are the most repeated
 * complaint in Ollama's tracker). macOS and Windows: Electron's login items. Linux has none: an XDG
 * autostart entry, `$XDG_CONFIG_HOME/autostart/bedrock-bridge.desktop`. Every way starts the app with
 * `--hidden` (tray only), since Electron 45 has no "open as hidden" any more.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { LoginItemPort } from '../app/types.ts';
import { HIDDEN_FLAG } from './launch-options.ts';

/** The part of Electron's `app` that macOS and Windows login items need. */
export interface LoginItemSettingsApi {
  getLoginItemSettings(options?: { args?: string[] }): { openAtLogin: boolean };
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
}

// Windows compares `args` to decide whether the Run entry is ours: the same list both ways.
const LOGIN_ARGS = [HIDDEN_FLAG];

export function electronLoginItem(api: LoginItemSettingsApi): LoginItemPort {
  return {
    get: async () => api.getLoginItemSettings({ args: LOGIN_ARGS }).openAtLogin,
    set: async (enabled) => api.setLoginItemSettings({ openAtLogin: enabled, args: LOGIN_ARGS }),
  };
}

export const AUTOSTART_FILE = 'bedrock-bridge.desktop';

export function autostartPath(env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), '.config');
  return path.join(configHome, 'autostart', AUTOSTART_FILE);
}

/**
 * A word of the Exec key, quoted as the Desktop Entry Specification asks: inside double quotes,
 * `"`, `` ` ``, `$` and `\` take a backslash, and a literal `%` is written `%%`.
 */
function execWord(word: string): string {
  if (/^[\w./-]+$/.test(word)) return word;
  return `"${word.replace(/[`"$\\]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

/** The program to start: the AppImage itself when run from one (its mount path changes every launch). */
export function autostartCommand(env: NodeJS.ProcessEnv, execPath: string): string {
  return [env.APPIMAGE || execPath, ...LOGIN_ARGS].map(execWord).join(' ');
}

export function autostartEntry(command: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Bedrock Bridge',
    'Comment=OpenAI-compatible server in front of Amazon Bedrock',
    `Exec=${command}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * Linux. `refresh()` rewrites an existing entry when the command changed: an AppImage moved or updated
 * since the entry was written would otherwise start nothing at the next login.
 */
export function xdgAutostartLoginItem(env: NodeJS.ProcessEnv, execPath: string): LoginItemPort & { refresh(): Promise<void> } {
  const file = autostartPath(env);
  const entry = autostartEntry(autostartCommand(env, execPath));
  const read = () => readFile(file, 'utf8').catch(() => null);
  const write = async () => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, entry, { mode: 0o644 });
  };
  return {
    get: async () => (await read()) !== null,
    set: async (enabled) => (enabled ? write() : rm(file, { force: true })),
    refresh: async () => {
      const current = await read();
      if (current !== null && current !== entry) await write();
    },
  };
}
