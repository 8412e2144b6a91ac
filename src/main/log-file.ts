/**
 * The desktop shell's log: `<logs>/main.log` ("Open logs folder"), one timestamped line per notice and
 * tray action (a tray that seems to do nothing can then be diagnosed). Never a secret: callers log what
 * happened, not values. Lines also go to stderr, for a terminal launch.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const LOG_FILE = 'main.log';

export function fileLog(directory: string, stderr: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): (line: string) => void {
  const file = path.join(directory, LOG_FILE);
  let writable = true;
  try {
    mkdirSync(directory, { recursive: true });
  } catch {
    writable = false;
  }
  return (line) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    stderr(stamped);
    if (!writable) return;
    try {
      // Synchronous and unbuffered: the last lines before a crash or a forced exit are there.
      appendFileSync(file, `${stamped}\n`, { mode: 0o600 });
    } catch {
      writable = false;
    }
  };
}
