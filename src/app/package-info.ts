import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of this package's package.json, found upwards from this module: the same answer from the
 * sources (src/app), the CLI bundle (dist/cli) and a packaged app's resources.
 */
function packageRoot(): string | null {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown }).name === 'bedrock-bridge') return directory;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return null;
    directory = parent;
  }
}

let cached: { root: string | null; version: string } | null = null;

function info(): { root: string | null; version: string } {
  if (cached) return cached;
  const root = packageRoot();
  let version = '0.0.0';
  if (root) version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  cached = { root, version };
  return cached;
}

export function packageVersion(): string {
  return info().version;
}

/** Where the built renderer is (`npm run build` writes dist/renderer). */
export function defaultUiDirectory(): string {
  const root = info().root;
  return root ? join(root, 'dist', 'renderer') : join(process.cwd(), 'dist', 'renderer');
}
