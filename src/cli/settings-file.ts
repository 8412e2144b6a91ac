import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDirectory } from '../core/paths.ts';
import { parseSettings, SettingsError, type Settings } from '../core/settings.ts';
import { messageOf } from '../core/error-message.ts';
import { parseJsonText } from '../core/json-text.ts';

export const SETTINGS_FILE_NAME = 'settings.json';

/** `<data directory>/settings.json` (BEDROCK_BRIDGE_HOME overrides the directory). */
export function defaultSettingsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultDataDirectory(env), SETTINGS_FILE_NAME);
}

/**
 * Reads the settings: the `--config` file (which must exist), else the default file if there is one,
 * else built-in defaults. Throws SettingsError with the file name on unreadable or invalid content.
 */
export function loadSettings(configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): { settings: Settings; path: string | null } {
  const path = configPath ?? defaultSettingsPath(env);
  if (!configPath && !existsSync(path)) return { settings: parseSettings({}), path: null };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettingsError(`Cannot read settings file ${path}: ${messageOf(error)}`);
  }
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (error) {
    // Says where, never quotes the file: it holds the API key.
    throw new SettingsError(`Settings file ${path} is ${messageOf(error)}.`);
  }
  return { settings: parseSettings(json, `settings file ${path}`), path };
}
