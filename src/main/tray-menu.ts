/**
 * The tray: its menu, icon and tooltip as a pure function of the app's state. Rebuilt whole on every
 * state change (Linux trays show a changed item only once the menu is set again; Tailscale's tray does
 * the same). The template is data: src/main/desktop.ts turns actions into calls on the app, the
 * Electron adapter (src/main/electron-ports.ts) turns items into Electron menu items.
 */
import { baseModelId, DEFAULT_ALIASES, embeddingFamily } from '../core/model-catalog.ts';
import type { AppState } from '../app/types.ts';
import type { TrayIconState } from './tray-icon.ts';

export type TrayAction =
  | { kind: 'open-window' }
  | { kind: 'use-another-port' }
  | { kind: 'set-default-model'; model: string }
  | { kind: 'copy-base-url' }
  | { kind: 'copy-api-key' }
  | { kind: 'sign-in' }
  | { kind: 'sign-out' }
  | { kind: 'set-start-at-login'; enabled: boolean }
  | { kind: 'open-logs' }
  | { kind: 'quit' };

export interface TrayMenuItem {
  type: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio';
  label?: string;
  /** False: shown greyed out (a status line, an item that cannot apply now). */
  enabled?: boolean;
  checked?: boolean;
  submenu?: TrayMenuItem[];
  action?: TrayAction;
}

export interface TrayView {
  state: AppState;
  /** The real OS state of the login item, read at start and after each change. */
  startAtLogin: boolean;
}

export const APP_NAME = 'Bedrock Bridge';

const SEPARATOR: TrayMenuItem = { type: 'separator' };

/** The status line: what is going on, in a few words. */
export function statusLine(state: AppState): string {
  switch (state.status) {
    case 'starting':
      return 'Starting…';
    case 'serving':
      return `Serving on port ${state.port}`;
    case 'needs-sign-in':
      return 'Sign-in needed';
    case 'signing-in':
      return state.signIn ? `Signing in: enter code ${state.signIn.userCode}` : 'Signing in…';
    case 'port-in-use':
      return state.portHolder === 'bedrock-bridge'
        ? `Port ${state.port}: another Bedrock Bridge is already serving`
        : `Port ${state.port} is in use by another program`;
    case 'error':
      return 'Not serving: see the window';
    case 'stopped':
      return 'Stopped';
  }
}

export function trayIconState(state: AppState): TrayIconState {
  switch (state.status) {
    case 'serving':
      return 'serving';
    case 'needs-sign-in':
    case 'signing-in':
      return 'sign-in';
    case 'error':
    case 'port-in-use':
      return 'error';
    case 'starting':
    case 'stopped':
      return 'starting';
  }
}

/** The tooltip: app name, the status and, while serving, the default model. */
export function trayTooltip(state: AppState): string {
  const lines = [`${APP_NAME}: ${statusLine(state)}`];
  if (state.status === 'serving' && state.models.defaultModel) lines.push(`Default model: ${state.models.defaultModel}`);
  const status = statusLine(state);
  const repeats = state.message.replace(/\.$/, '') === status;
  if ((state.status === 'error' || state.status === 'port-in-use') && state.message && !repeats) lines.push(state.message);
  if (state.secretStorage && !state.secretStorage.persistent) lines.push('Sign-in kept in memory only: sign in again after each restart');
  return lines.join('\n');
}

/** `global.anthropic.claude-haiku-4-5-20251001-v1:0` -> `claude-haiku-4-5`: enough to tell models apart in a menu. */
export function shortModelName(modelId: string): string {
  return baseModelId(modelId)
    .replace(/^[a-z0-9-]+\./, '')
    .replace(/:\d+$/, '')
    .replace(/-v\d+$/, '')
    .replace(/-\d{8}$/, '');
}

interface ModelChoice {
  /** What setDefaultModel gets: an alias, or a Bedrock id no alias names. */
  model: string;
  label: string;
  checked: boolean;
}

/**
 * One radio item per chat model, not per alias: the built-in aliases name three Claude models many
 * times over (gpt-4o, gpt-4.1, claude-sonnet...). Each model is offered under one of its names: the
 * current default if it is one of them, else the user's own alias, else a claude-* alias, else the
 * first. Embedding models are left out: a default model answers chat requests.
 */
export function modelChoices(state: AppState): ModelChoice[] {
  const { aliases, defaultModel, defaultModelId } = state.models;
  const byModel = new Map<string, string[]>();
  for (const [alias, modelId] of Object.entries(aliases)) {
    if (embeddingFamily(modelId) !== null) continue;
    byModel.set(modelId, [...(byModel.get(modelId) ?? []), alias]);
  }
  const choices: ModelChoice[] = [];
  for (const [modelId, names] of byModel) {
    const sorted = [...names].sort();
    const name =
      sorted.find((alias) => alias === defaultModel) ??
      sorted.find((alias) => !(alias in DEFAULT_ALIASES)) ??
      sorted.find((alias) => alias.startsWith('claude-')) ??
      sorted[0]!;
    choices.push({ model: name, label: `${name} (${shortModelName(modelId)})`, checked: modelId === defaultModelId });
  }
  if (defaultModelId !== null && !byModel.has(defaultModelId)) {
    choices.push({ model: defaultModelId, label: shortModelName(defaultModelId), checked: true });
  }
  return choices.sort((a, b) => a.label.localeCompare(b.label));
}

function signInItem(state: AppState): TrayMenuItem | null {
  if (!state.credentials.interactive) return null;
  if (state.status === 'signing-in') return { type: 'normal', label: 'Show sign-in code…', action: { kind: 'open-window' } };
  if (state.credentials.signedIn) return { type: 'normal', label: 'Sign out', action: { kind: 'sign-out' } };
  const canSignIn = state.status === 'needs-sign-in' || state.status === 'serving';
  return { type: 'normal', label: 'Sign in…', enabled: canSignIn, action: { kind: 'sign-in' } };
}

export function trayMenu({ state, startAtLogin }: TrayView): TrayMenuItem[] {
  const listening = state.baseUrl !== null;
  const choices = modelChoices(state);
  const items: Array<TrayMenuItem | null> = [
    { type: 'normal', label: `Open ${APP_NAME}`, action: { kind: 'open-window' } },
    { type: 'normal', label: statusLine(state), enabled: false },
    state.status === 'port-in-use' && state.portHolder === 'other-program'
      ? { type: 'normal', label: 'Use another port', action: { kind: 'use-another-port' } }
      : null,
    SEPARATOR,
    {
      type: 'submenu',
      label: 'Model',
      enabled: choices.length > 0,
      submenu: choices.map((choice) => ({
        type: 'radio',
        label: choice.label,
        checked: choice.checked,
        action: { kind: 'set-default-model', model: choice.model },
      })),
    },
    { type: 'normal', label: 'Copy base URL', enabled: listening, action: { kind: 'copy-base-url' } },
    { type: 'normal', label: 'Copy API key', enabled: listening, action: { kind: 'copy-api-key' } },
    SEPARATOR,
    signInItem(state),
    { type: 'checkbox', label: 'Start at login', checked: startAtLogin, action: { kind: 'set-start-at-login', enabled: !startAtLogin } },
    { type: 'normal', label: 'Open logs folder', action: { kind: 'open-logs' } },
    SEPARATOR,
    { type: 'normal', label: `Quit ${APP_NAME}`, action: { kind: 'quit' } },
  ];
  return items.filter((item): item is TrayMenuItem => item !== null);
}
