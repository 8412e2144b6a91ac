import { spawn } from 'node:child_process';
import { consoleSignInUi, type SignInUi } from '../credentials/index.ts';

export interface BrowserCommand {
  command: string;
  args: string[];
}

/**
 * How to open `url` in the user's browser here, or null when there is no browser to open (no
 * desktop session, `BROWSER=none`) or the URL is not http(s). Like `aws sso login`: `BROWSER`
 * wins, then the platform's opener. The URL is passed as one argument, never through a shell.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): BrowserCommand | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const href = parsed.href;
  const chosen = env.BROWSER?.trim();
  if (chosen === 'none') return null;
  if (chosen) return { command: chosen, args: [href] };
  if (platform === 'darwin') return { command: 'open', args: [href] };
  // `start` is a cmd.exe built-in that re-parses `&` in query strings; the URL protocol handler does not.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', href] };
  // Over SSH or on a server there is nobody to look at a browser: print the URL only.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return { command: 'xdg-open', args: [href] };
}

/** Opens the URL without waiting for the browser; true when an opener was started. Never throws. */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const opener = browserCommand(url, env, platform);
  if (!opener) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore', env });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/** The terminal's sign-in prompt: the URL and code on stderr, and the page opened in the browser when there is one. */
export function terminalSignInUi(log: (line: string) => void, env: NodeJS.ProcessEnv): SignInUi {
  return {
    ...consoleSignInUi(log),
    openUrl: async (url) => {
      if (await openInBrowser(url, env)) log('(opened in your browser)');
    },
  };
}
