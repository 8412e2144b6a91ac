import type { AppState, EditableSettings, SettingsPatch, SettingsUpdate } from '../src/app/types.ts';
import { api, ControlApiError } from './api.ts';
import { describeError, type UiContext } from './context.ts';
import { h, replaceChildren } from './dom.ts';

/** The desktop app's preload exposes this (src/preload/index.ts); a browser has none. */
function inDesktopApp(): boolean {
  return 'bedrockBridgeDesktop' in window;
}

/** The sign-in sources and the fields of each, as sign-in.json / settings `auth` name them. */
const SOURCES: ReadonlyArray<{ value: string; label: string; key?: string; fields: ReadonlyArray<{ name: string; label: string; placeholder: string; type?: string }> }> = [
  { value: 'default', label: 'AWS SDK default chain', fields: [] },
  { value: 'env', label: 'Environment variables', fields: [] },
  { value: 'aws-profile', label: 'AWS profile', key: 'awsProfile', fields: [{ name: 'profile', label: 'Profile', placeholder: 'AWS_PROFILE, else default' }] },
  {
    value: 'identity-center',
    label: 'IAM Identity Center',
    key: 'identityCenter',
    fields: [
      { name: 'startUrl', label: 'Start URL', placeholder: 'https://my-org.awsapps.com/start', type: 'url' },
      { name: 'region', label: 'SSO region', placeholder: 'us-east-1' },
      { name: 'accountId', label: 'Account id', placeholder: '12 digits (optional)' },
      { name: 'roleName', label: 'Role', placeholder: 'optional' },
    ],
  },
  { value: 'org-gateway', label: 'Organisation gateway', key: 'orgGateway', fields: [{ name: 'url', label: 'Gateway URL', placeholder: 'https://bridge.example.com', type: 'url' }] },
];

const RESTART_LABELS: Record<string, string> = { port: 'port', region: 'region', auth: 'sign-in source', auditEndpoint: 'audit endpoint' };

/**
 * Settings: port, region, sign-in source and its fields, audit endpoint, start at login. Saved with
 * PATCH (only what changed); what applies after a restart says so, with a button to restart.
 */
export function createSettingsTab(panel: HTMLElement, context: UiContext): { show(): void } {
  let loaded: EditableSettings | null = null;

  const port = h('input', { id: 'setting-port', attrs: { type: 'number', min: '0', max: '65535', inputmode: 'numeric' } });
  const portHint = h('span', { class: 'hint', id: 'setting-port-hint' });
  const sourceHint = h('span', { class: 'hint', id: 'setting-source-hint', attrs: { hidden: '' } }, 'This run uses the built-in emulator (--emulator): the sign-in here applies to runs without it.');
  const region = h('input', { id: 'setting-region', attrs: { type: 'text', placeholder: 'from AWS_REGION, else us-east-1', spellcheck: 'false' } });
  const regionHint = h('span', { class: 'hint', id: 'setting-region-hint', attrs: { hidden: '' } });
  const source = h('select', { id: 'setting-source' }, ...SOURCES.map((entry) => h('option', { attrs: { value: entry.value } }, entry.label)));
  // display: contents: the source's fields join the form's grid.
  const sourceFields = h('div', { class: 'grid-contents', id: 'setting-source-fields' });
  const auditEndpoint = h('input', { id: 'setting-audit', attrs: { type: 'url', placeholder: 'none (or the org gateway’s)', spellcheck: 'false' } });
  const startAtLogin = h('input', { id: 'setting-login', attrs: { type: 'checkbox' } });
  const startAtLoginHint = h('span', { class: 'hint', id: 'setting-login-hint' });
  const message = h('p', { class: 'small', id: 'settings-message', attrs: { 'aria-live': 'polite' } });
  const restartBox = h('div', { id: 'restart-box' });
  const fieldInputs = new Map<string, HTMLInputElement>();

  source.addEventListener('change', () => renderSourceFields());

  panel.append(
    h(
      'div',
      { class: 'form-grid' },
      h('label', { attrs: { for: 'setting-port' } }, 'Port'),
      port,
      portHint,
      h('label', { attrs: { for: 'setting-region' } }, 'Region'),
      region,
      regionHint,
      h('label', { attrs: { for: 'setting-source' } }, 'Sign-in'),
      source,
      sourceHint,
      sourceFields,
      h('label', { attrs: { for: 'setting-audit' } }, 'Audit endpoint'),
      auditEndpoint,
      h('label', { attrs: { for: 'setting-login' } }, 'Start at login'),
      h('div', null, startAtLogin),
      startAtLoginHint,
    ),
    message,
    restartBox,
    h('div', { class: 'actions' }, h('button', { attrs: { type: 'button' }, on: { click: () => loaded && render(loaded) } }, 'Revert'), h('button', { class: 'primary', id: 'save-settings', attrs: { type: 'button' }, on: { click: () => void save() } }, 'Save')),
  );

  function authOf(settings: EditableSettings): Record<string, unknown> {
    return settings.auth ?? {};
  }

  function renderSourceFields(): void {
    const chosen = SOURCES.find((entry) => entry.value === source.value) ?? SOURCES[0]!;
    const current = loaded && chosen.key ? ((authOf(loaded)[chosen.key] as Record<string, unknown> | undefined) ?? {}) : {};
    fieldInputs.clear();
    replaceChildren(
      sourceFields,
      ...chosen.fields.flatMap((field) => {
        const id = `setting-auth-${field.name}`;
        const input = h('input', { id, attrs: { type: field.type ?? 'text', placeholder: field.placeholder, spellcheck: 'false' } });
        input.value = typeof current[field.name] === 'string' ? (current[field.name] as string) : '';
        input.disabled = source.disabled;
        fieldInputs.set(field.name, input);
        return [h('label', { attrs: { for: id } }, field.label), input];
      }),
    );
  }

  function render(settings: EditableSettings): void {
    loaded = settings;
    port.value = String(settings.port);
    renderPortHint();
    region.value = settings.region ?? '';
    const auth = authOf(settings);
    source.value = typeof auth.source === 'string' ? auth.source : 'default';
    renderSourceFields();
    auditEndpoint.value = settings.auditEndpoint ?? '';
    startAtLogin.checked = settings.startAtLogin === true;
    startAtLogin.disabled = settings.startAtLogin === null;
    startAtLoginHint.textContent = settings.startAtLogin === null ? 'Only in the desktop app.' : 'Off until you turn it on.';
    for (const input of panel.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  }

  function renderRestart(restartRequired: readonly string[]): void {
    if (restartRequired.length === 0) {
      restartBox.replaceChildren();
      return;
    }
    const names = restartRequired.map((key) => RESTART_LABELS[key] ?? key).join(', ');
    replaceChildren(
      restartBox,
      h('div', { class: 'card', data: { level: 'warn' } }, h('p', null, `The new ${names} applies after a restart.`), h('div', { class: 'row' }, h('button', { class: 'primary', id: 'restart', attrs: { type: 'button' }, on: { click: () => void restart(restartRequired) } }, 'Restart now'))),
    );
  }

  /** The auth object to store: what was there (flags, endpoint overrides) with the chosen source and fields. */
  function chosenAuth(): Record<string, unknown> | null {
    if (source.value === 'default') return null;
    const chosen = SOURCES.find((entry) => entry.value === source.value)!;
    const auth: Record<string, unknown> = { ...(loaded ? authOf(loaded) : {}), source: chosen.value };
    if (chosen.key) {
      const previous = (auth[chosen.key] as Record<string, unknown> | undefined) ?? {};
      const fields: Record<string, unknown> = { ...previous };
      for (const [name, input] of fieldInputs) {
        if (input.value.trim()) fields[name] = input.value.trim();
        else delete fields[name];
      }
      auth[chosen.key] = fields;
    }
    return auth;
  }

  function patchOf(before: EditableSettings): SettingsPatch {
    const patch: SettingsPatch = {};
    const portValue = Number(port.value);
    if (portValue !== before.port) patch.port = portValue;
    const regionValue = region.value.trim() || null;
    if (regionValue !== before.region) patch.region = regionValue;
    const auth = chosenAuth();
    const beforeAuth = Object.keys(authOf(before)).length === 0 ? null : authOf(before);
    if (JSON.stringify(auth) !== JSON.stringify(beforeAuth)) patch.auth = auth as Record<string, unknown>; // null clears it: back to the default chain
    const audit = auditEndpoint.value.trim() || null;
    if (audit !== before.auditEndpoint) patch.auditEndpoint = audit;
    if (before.startAtLogin !== null && startAtLogin.checked !== before.startAtLogin) patch.startAtLogin = startAtLogin.checked;
    return patch;
  }

  function fieldInput(field: string | null): HTMLInputElement | HTMLSelectElement | null {
    if (!field) return null;
    if (field === 'port') return port;
    if (field === 'region') return region;
    if (field === 'auditEndpoint') return auditEndpoint;
    if (field === 'startAtLogin') return startAtLogin;
    if (field.startsWith('auth')) return fieldInputs.get(field.split('.').pop() ?? '') ?? source;
    return null;
  }

  async function save(): Promise<void> {
    if (!loaded) return;
    for (const input of panel.querySelectorAll('input')) input.removeAttribute('aria-invalid');
    if (!Number.isInteger(Number(port.value)) || Number(port.value) < 0 || Number(port.value) > 65535 || port.value.trim() === '') {
      port.setAttribute('aria-invalid', 'true');
      message.className = 'small error-text';
      message.textContent = 'Port: a whole number from 0 to 65535.';
      return;
    }
    const patch = patchOf(loaded);
    if (Object.keys(patch).length === 0) {
      message.className = 'small muted';
      message.textContent = 'Nothing changed.';
      return;
    }
    try {
      const update: SettingsUpdate = await api.updateSettings(patch);
      render(update.settings);
      renderRestart(update.restartRequired);
      message.className = 'small ok-text';
      message.textContent = 'Saved.';
    } catch (error) {
      message.className = 'small error-text';
      message.textContent = describeError(error);
      if (error instanceof ControlApiError) fieldInput(error.field)?.setAttribute('aria-invalid', 'true');
    }
  }

  async function restart(restartRequired: readonly string[]): Promise<void> {
    const newPort = loaded?.port ?? 0;
    try {
      // A new port is a new origin: take a one-time link first, then open it on the new port. The desktop
      // app's main process moves its window itself (cookie for the new origin, reload).
      const link = restartRequired.includes('port') && newPort !== 0 && !inDesktopApp() ? await api.uiLink() : null;
      await api.restart();
      restartBox.replaceChildren();
      message.className = 'small muted';
      if (link) {
        const url = new URL(link.url);
        url.port = String(newPort);
        message.textContent = `Restarting on port ${newPort}…`;
        setTimeout(() => location.assign(url.href), 2000);
      } else {
        message.textContent = 'Restarting…';
      }
    } catch (error) {
      message.className = 'small error-text';
      message.textContent = describeError(error);
    }
  }

  async function load(): Promise<void> {
    try {
      const update = await api.settings();
      render(update.settings);
      renderRestart(update.restartRequired);
    } catch (error) {
      message.className = 'small error-text';
      message.textContent = describeError(error);
    }
  }

  /** The stored port and the one in use differ with --port or a change waiting for a restart. */
  function renderPortHint(): void {
    const pinnedBy = context.state?.pinned.port;
    if (pinnedBy) {
      portHint.textContent = `Set by ${pinnedBy} for this run${context.state?.baseUrl ? ` (serving on ${context.state.port})` : ''}.`;
      return;
    }
    const inUse = context.state?.baseUrl ? context.state.port : null;
    portHint.textContent = inUse !== null && loaded && inUse !== loaded.port ? `0 picks a free port. Now serving on ${inUse}.` : '0 picks a free port.';
  }

  /**
   * A setting a flag or environment variable decides (AppState.pinned) is kept by a restart: its field is
   * disabled and says which one, so a change that would never apply cannot be made.
   */
  function renderPinned(state: AppState): void {
    port.disabled = state.pinned.port !== undefined;
    region.disabled = state.pinned.region !== undefined;
    regionHint.hidden = state.pinned.region === undefined;
    regionHint.textContent = state.pinned.region ? `Set by ${state.pinned.region} for this run.` : '';
    source.disabled = state.pinned.auth !== undefined;
    for (const input of fieldInputs.values()) input.disabled = source.disabled;
    sourceHint.hidden = !state.emulator && !state.pinned.auth;
    sourceHint.textContent = state.pinned.auth
      ? `Set by ${state.pinned.auth} for this run.`
      : 'This run uses the built-in emulator (--emulator): the sign-in here applies to runs without it.';
  }

  context.onState((state) => {
    if (loaded) renderRestart(state.restartRequired);
    renderPortHint();
    renderPinned(state);
  });

  return {
    show() {
      if (!loaded) void load();
    },
  };
}
