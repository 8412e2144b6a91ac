import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the headless shell keeps its settings and usage ledger. `BEDROCK_BRIDGE_HOME` overrides it
 * (tests, portable installs); the Electron shell passes `app.getPath('userData')` instead.
 * Secrets never live here: they go to the OS keychain or stay in memory.
 */
export function defaultDataDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.BEDROCK_BRIDGE_HOME) return env.BEDROCK_BRIDGE_HOME;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Bedrock Bridge');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Bedrock Bridge');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'bedrock-bridge');
}
