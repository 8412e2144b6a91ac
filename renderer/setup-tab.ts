import type { AppState } from '../src/app/types.ts';
import { api } from './api.ts';
import { describeError, type UiContext } from './context.ts';
import { h, replaceChildren } from './dom.ts';
import { formatRemaining } from './format.ts';
import { SNIPPETS, type SnippetContext } from './snippets.ts';

const SNIPPET_CHOICE_KEY = 'bedrock-bridge.snippet';
const MASK = '••••••••••••';

/**
 * Setup: how to reach the server (base URL, API key, both copyable), the sign-in state with the
 * device code while one is under way, and ready-to-paste configuration for each tool.
 */
export function createSetupTab(panel: HTMLElement, context: UiContext): { show(): void; serverLost(): void } {
  let connection: { baseUrl: string; apiKey: string } | null = null;
  let keyShown = false;

  const baseUrlValue = h('code', { class: 'value grow', id: 'base-url' }, '…');
  const apiKeyValue = h('code', { class: 'value grow', id: 'api-key' }, '…');
  const showKeyButton = h('button', { attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: toggleKey } }, 'Show');
  const problemBox = h('div', { id: 'server-problem' });
  const signInBox = h('div', { id: 'sign-in' });
  const snippetPicker = h('select', { class: 'snippet-picker', id: 'snippet-picker', attrs: { 'aria-label': 'Tool to configure' }, on: { change: renderSnippet } });
  for (const snippet of SNIPPETS) snippetPicker.append(h('option', { attrs: { value: snippet.id } }, snippet.title));
  snippetPicker.value = localStorage.getItem(SNIPPET_CHOICE_KEY) ?? SNIPPETS[0]!.id;
  const snippetBox = h('div', { class: 'snippet', id: 'snippet' });

  panel.append(
    problemBox,
    h('h2', null, 'Connection'),
    h('div', { class: 'row' }, h('span', { class: 'field-label' }, 'Base URL'), baseUrlValue, h('button', { attrs: { type: 'button', 'aria-label': 'Copy base URL' }, on: { click: () => connection && void context.copy(connection.baseUrl, 'Base URL') } }, 'Copy')),
    h('div', { class: 'row' }, h('span', { class: 'field-label' }, 'API key'), apiKeyValue, showKeyButton, h('button', { attrs: { type: 'button', 'aria-label': 'Copy API key' }, on: { click: () => connection && void context.copy(connection.apiKey, 'API key') } }, 'Copy')),
    h('h2', null, 'Sign-in'),
    signInBox,
    h('h2', null, 'Connect a tool'),
    snippetPicker,
    snippetBox,
  );

  function toggleKey(): void {
    keyShown = !keyShown;
    showKeyButton.textContent = keyShown ? 'Hide' : 'Show';
    showKeyButton.setAttribute('aria-pressed', String(keyShown));
    renderConnection();
    renderSnippet();
  }

  function snippetContext(apiKey: string): SnippetContext | null {
    const state = context.state;
    if (!connection || !state) return null;
    const origin = new URL(connection.baseUrl).origin;
    return { origin, baseURL: connection.baseUrl, apiKey, model: state.models.defaultModel ?? 'default', region: state.region };
  }

  function renderConnection(): void {
    baseUrlValue.textContent = connection?.baseUrl ?? 'not listening';
    apiKeyValue.textContent = connection ? (keyShown ? connection.apiKey : MASK) : '—';
  }

  function renderSnippet(): void {
    const snippet = SNIPPETS.find((candidate) => candidate.id === snippetPicker.value) ?? SNIPPETS[0]!;
    localStorage.setItem(SNIPPET_CHOICE_KEY, snippet.id);
    const shown = snippetContext(keyShown ? (connection?.apiKey ?? '') : MASK);
    const real = snippetContext(connection?.apiKey ?? '');
    if (!shown || !real) {
      replaceChildren(snippetBox, h('p', { class: 'muted' }, 'The server is not listening yet.'));
      return;
    }
    replaceChildren(
      snippetBox,
      h('div', { class: 'row' }, h('span', { class: 'muted small grow' }, `In ${snippet.where}`), h('button', { attrs: { type: 'button' }, on: { click: () => void context.copy(snippet.text(real), snippet.title) } }, 'Copy')),
      h('pre', { attrs: { tabindex: '0', 'aria-label': `${snippet.title} configuration` }, data: { language: snippet.language } }, snippet.text(shown)),
      snippet.note ? h('p', { class: 'muted small' }, snippet.note) : null,
    );
  }

  let expiryTimer: ReturnType<typeof setInterval> | undefined;

  function renderSignIn(state: AppState): void {
    clearInterval(expiryTimer);
    const { credentials } = state;
    const children: Array<Node | null> = [];
    if (state.status === 'signing-in' && state.signIn) {
      const pending = state.signIn;
      const expiry = h('span', { id: 'sign-in-expiry' });
      const updateExpiry = () => {
        expiry.textContent = `Code expires ${formatRemaining(Date.parse(pending.expiresAt), Date.now())}`;
      };
      updateExpiry();
      expiryTimer = setInterval(updateExpiry, 1000);
      children.push(
        h(
          'div',
          { class: 'card', data: { level: 'warn' } },
          h('p', null, 'Confirm this code on the sign-in page:'),
          h('p', { class: 'device-code mono', id: 'device-code' }, pending.userCode),
          h('p', { class: 'small' }, expiry, ' · ', verificationLink(pending.verificationUriComplete ?? pending.verificationUri, pending.verificationUri)),
          secretStorageNote(state),
          h(
            'div',
            { class: 'row' },
            h('button', { class: 'primary', id: 'open-verification', attrs: { type: 'button' }, on: { click: () => void openVerification() } }, 'Open sign-in page'),
            h('button', { attrs: { type: 'button' }, on: { click: () => void run(api.cancelSignIn(), 'Sign-in cancelled') } }, 'Cancel'),
          ),
        ),
      );
    } else {
      const level = credentials.signedIn ? 'ok' : state.status === 'needs-sign-in' ? 'warn' : undefined;
      const detail = credentials.signedIn
        ? [credentials.user ? `Signed in as ${credentials.user}` : 'Signed in', credentials.credentialsExpireAt ? `, credentials renew by ${new Date(credentials.credentialsExpireAt).toLocaleTimeString()}` : ''].join('')
        : credentials.interactive
          ? 'Not signed in: model calls answer 401 until you sign in.'
          : 'No sign-in needed for this source.';
      children.push(
        h(
          'div',
          { class: 'card', data: level ? { level } : {} },
          h('p', { id: 'credentials-label' }, credentials.label),
          h('p', { class: 'small', id: 'sign-in-detail' }, detail),
          state.signInError ? h('p', { class: 'small error-text', id: 'sign-in-error' }, state.signInError) : null,
          secretStorageNote(state),
          credentials.interactive
            ? h(
                'div',
                { class: 'row' },
                credentials.signedIn
                  ? h('button', { id: 'sign-out', attrs: { type: 'button' }, on: { click: () => void run(api.signOut(), 'Signed out') } }, 'Sign out')
                  : h('button', { class: 'primary', id: 'sign-in-button', attrs: { type: 'button' }, on: { click: () => void run(api.signIn(), null) } }, 'Sign in'),
              )
            : null,
        ),
      );
    }
    replaceChildren(signInBox, ...children);
  }

  async function run(action: Promise<unknown>, done: string | null): Promise<void> {
    try {
      await action;
      if (done) context.toast(done);
    } catch (error) {
      context.toast(describeError(error));
    }
  }

  /** Where the sign-in's tokens cannot outlive the process (AppState.secretStorage), the card says so. */
  function secretStorageNote(state: AppState): HTMLElement | null {
    if (!state.secretStorage || state.secretStorage.persistent) return null;
    return h('p', { class: 'small warn-text', id: 'secret-storage' }, state.secretStorage.warning ?? 'Sign-in tokens are kept in memory only (as set): you will sign in again after each restart.');
  }

  /**
   * The page as a plain link too: in a browser it opens in a new tab whatever the server can do (a
   * headless serve may have no browser to open). Only http(s) URLs become links.
   */
  function verificationLink(url: string, label: string): HTMLElement {
    if (!/^https?:\/\//.test(url)) return h('span', { class: 'mono' }, label);
    const link = h('a', { class: 'mono', id: 'verification-link', attrs: { target: '_blank', rel: 'noopener noreferrer' } }, label);
    link.href = url;
    return link;
  }

  /** The shell opens the page in the system browser; when it could not (headless, no browser), the plain link is pointed at. */
  async function openVerification(): Promise<void> {
    try {
      const { opened } = await api.openSignInPage();
      if (opened) return;
      const link = document.getElementById('verification-link');
      link?.classList.add('attention');
      link?.focus();
      context.toast('No browser could be opened from here: follow the sign-in link.');
    } catch (error) {
      context.toast(describeError(error));
    }
  }

  async function loadConnection(): Promise<void> {
    try {
      connection = await api.connection();
    } catch {
      connection = null;
    }
    renderConnection();
    renderSnippet();
  }

  /** Why the server is not serving (could not start, port taken), with the way out. */
  function renderProblem(state: AppState): void {
    if (state.status !== 'error' && state.status !== 'port-in-use') {
      problemBox.replaceChildren();
      return;
    }
    const hint =
      state.status === 'port-in-use'
        ? state.portHolder === 'bedrock-bridge'
          ? 'Another Bedrock Bridge already serves on this port: use that one, or pick another port.'
          : 'Another program uses this port: pick another one in Settings.'
        : null;
    replaceChildren(
      problemBox,
      h(
        'div',
        { class: 'card', data: { level: 'error' } },
        h('p', null, state.message),
        hint ? h('p', { class: 'small' }, hint) : null,
        state.status === 'port-in-use' ? h('button', { attrs: { type: 'button' }, on: { click: () => context.showTab('tab-settings') } }, 'Change the port') : null,
      ),
    );
  }

  let lastBaseUrl: string | null | undefined;
  context.onState((state) => {
    renderProblem(state);
    renderSignIn(state);
    if (state.baseUrl !== lastBaseUrl) {
      lastBaseUrl = state.baseUrl;
      void loadConnection();
    } else renderSnippet();
  });

  return {
    show() {
      if (!connection) void loadConnection();
    },
    /** The event stream dropped (a restart, perhaps): the key may be new, so read it again on the next state. */
    serverLost() {
      lastBaseUrl = undefined;
    },
  };
}
