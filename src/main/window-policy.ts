/**
 * What the window may do, as pure decisions the Electron adapter applies: it stays on the local
 * server's own origin, opens nothing itself, and hands the system browser only the verification page
 * of the sign-in under way (never a URL the page made up).
 */
import type { AppState } from '../app/types.ts';

/** The origin of the local server, from the state's base URL; null while not listening. */
export function appOrigin(state: AppState): string | null {
  return state.baseUrl === null ? null : new URL(state.baseUrl).origin;
}

/** True for a URL on the app's own origin (a reload, the one-time link); any other navigation is refused. */
export function isOwnUrl(url: string, origin: string | null): boolean {
  if (origin === null) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** Only http(s) and only the exact verification URL of the sign-in under way. */
export function mayOpenExternally(url: string, state: AppState): boolean {
  const pending = state.signIn;
  if (pending === null || !/^https?:\/\//i.test(url)) return false;
  return url === pending.verificationUri || url === pending.verificationUriComplete;
}

/** The only permission the UI gets: writing to the clipboard (its copy buttons), on its own origin. */
export function permissionAllowed(permission: string, requestingUrl: string, origin: string | null): boolean {
  return permission === 'clipboard-sanitized-write' && isOwnUrl(requestingUrl, origin);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * What the window shows while the server is not listening (port in use, could not start): the UI is
 * served by that server, so there is nothing else to load. Static HTML, no script.
 */
export function notServingPage(state: AppState): string {
  const title = state.status === 'port-in-use' ? `Port ${state.port} is in use` : 'Bedrock Bridge is not serving';
  const hint =
    state.status === 'port-in-use' && state.portHolder === 'other-program'
      ? 'Choose "Use another port" in the tray menu (it picks a free one and remembers it), or stop the program that holds the port.'
      : 'The tray menu shows the status; the log has the details (Open logs folder).';
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>Bedrock Bridge</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222;background:#fff}@media(prefers-color-scheme:dark){body{color:#eee;background:#1e1e1e}}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(state.message)}</p><p>${escapeHtml(hint)}</p></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}
