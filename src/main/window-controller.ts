/**
 * The one window: made on first use (a launch with --hidden holds no renderer), hidden on close, shown
 * again by the tray or a second launch. It shows the UI of the local server, with the UI cookie set on
 * its session first; when the server moves (restart on another port) or stops listening it follows.
 */
import type { BridgeApp } from '../app/types.ts';
import { messageOf } from '../core/error-message.ts';
import type { DesktopPorts, WindowPort } from './ports.ts';
import { appOrigin, mayOpenExternally, notServingPage } from './window-policy.ts';

export interface WindowController {
  open(): Promise<void>;
  /** Called on every state change: reloads a window whose content no longer matches the server. */
  follow(): Promise<void>;
  /** From now on closing the window closes it (the app is quitting). */
  release(): void;
}

export function windowController(ports: Pick<DesktopPorts, 'createWindow'>, app: BridgeApp, log: (line: string) => void): WindowController {
  let window: WindowPort | null = null;
  let quitting = false;
  /** The origin shown, or the not-serving page's URL. */
  let shown: string | null = null;

  const target = () => {
    const origin = appOrigin(app.state);
    const cookie = app.uiCookie();
    return origin !== null && cookie !== null ? { url: `${origin}/ui/`, cookie } : { url: notServingPage(app.state), cookie: null };
  };

  const load = async (current: WindowPort) => {
    const { url, cookie } = target();
    if (url === shown) return;
    shown = url;
    if (cookie) await current.loadUi(url, cookie);
    else await current.loadPage(url);
  };

  const create = () => {
    const created = ports.createWindow({
      origin: () => appOrigin(app.state),
      mayOpenExternally: (url) => mayOpenExternally(url, app.state),
    });
    created.onClose((event) => {
      if (quitting) return;
      event.preventDefault();
      created.hide();
    });
    return created;
  };

  return {
    async open() {
      window ??= create();
      try {
        await load(window);
      } catch (error) {
        shown = null;
        log(`The window could not load the UI: ${messageOf(error)}`);
      }
      window.show();
    },
    async follow() {
      if (!window) return;
      try {
        await load(window);
      } catch (error) {
        shown = null;
        log(`The window could not follow the server: ${messageOf(error)}`);
      }
    },
    release() {
      quitting = true;
    },
  };
}
