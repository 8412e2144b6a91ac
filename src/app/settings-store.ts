import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../core/error-message.ts';
import { JsonTextError, parseJsonText } from '../core/json-text.ts';
import { parseSettings, SettingsError, settingsSchema, type Settings } from '../core/settings.ts';
import type { SettingsStore } from './types.ts';

export const SETTINGS_CONFIG_NAME = 'settings';

type JsonSchema = { [key: string]: unknown };

/** Drops every `default`: the file keeps only what the user set, so a later built-in default still applies. */
function withoutDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDefaults);
  if (typeof node !== 'object' || node === null) return node;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'default') copy[key] = withoutDefaults(value);
  }
  return copy;
}

/**
 * The settings file's JSON Schema, made from the one zod schema (src/core/settings.ts) for conf and
 * electron-store: the shape the file may have as written (input side, no defaults filled in).
 * Refinements zod cannot express in JSON Schema (no wildcard origins) are still checked by zod on read.
 */
export function settingsJsonSchema(): { properties: Record<string, JsonSchema> } {
  const schema = withoutDefaults(z.toJSONSchema(settingsSchema, { io: 'input', unrepresentable: 'any' })) as { properties: Record<string, JsonSchema> };
  return { properties: schema.properties };
}

/**
 * The options both shells give their store (conf here, electron-store in src/main): one file, one schema.
 * The file is read with parseJsonText: a syntax error says where without quoting the file (it may hold
 * the API key), and a byte order mark (Windows editors write one) is ignored.
 */
export function settingsStoreOptions(file: string): {
  cwd: string;
  configName: string;
  fileExtension: string;
  schema: Record<string, JsonSchema>;
  configFileMode: number;
  deserialize: (text: string) => Record<string, unknown>;
} {
  const extension = extname(file);
  return {
    cwd: dirname(file),
    configName: basename(file, extension),
    fileExtension: extension.replace(/^\./, ''),
    schema: settingsJsonSchema().properties,
    configFileMode: 0o600,
    deserialize: (text) => {
      const value = parseJsonText(text);
      // conf would take anything else for an empty store and overwrite it on the next change.
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonTextError('not a JSON object');
      return value as Record<string, unknown>;
    },
  };
}

type ConfClass = typeof import('conf').default;
let confClass: Promise<ConfClass> | null = null;

/**
 * conf writes through `atomically`, whose `when-exit` hooks every exit signal when it is first imported
 * and raises the signal again after its own handler: `serve`'s drain handler would then see each SIGINT
 * or SIGTERM twice, and a second signal means "stop now, cut what is in flight". Its purpose (removing
 * temp files of writes cut short) does not apply to the small synchronous writes here, so the signal
 * handlers the import added are taken out again; its `exit` hook stays.
 */
function loadConf(): Promise<ConfClass> {
  confClass ??= (async () => {
    const signals = Object.keys(constants.signals) as NodeJS.Signals[];
    const before = new Map(signals.map((signal) => [signal, new Set(process.rawListeners(signal))]));
    const { default: Conf } = await import('conf');
    for (const [signal, known] of before) {
      for (const listener of process.rawListeners(signal)) {
        if (!known.has(listener)) process.removeListener(signal, listener as (...args: unknown[]) => void);
      }
    }
    return Conf;
  })();
  return confClass;
}

/** `<data directory>/settings.json`: the one settings file of both shells. */
export function settingsFileIn(dataDirectory: string): string {
  return join(dataDirectory, `${SETTINGS_CONFIG_NAME}.json`);
}

/** `<data directory>/settings.json` as a conf store (headless). `--config FILE` names another file, which must exist. */
export async function openSettingsStore(dataDirectory: string, configFile?: string): Promise<SettingsStore> {
  const file = configFile ?? settingsFileIn(dataDirectory);
  if (configFile !== undefined && !existsSync(configFile)) throw new SettingsError(`Cannot read settings file ${configFile}: it does not exist.`);
  const Conf = await loadConf();
  try {
    return new Conf<Record<string, unknown>>(settingsStoreOptions(file));
  } catch (error) {
    throw new SettingsError(`Settings file ${file} cannot be used: ${messageOf(error)}`);
  }
}

/** The stored settings, validated by the zod schema (defaults filled in). Throws SettingsError naming the file. */
export function readSettings(store: SettingsStore): { settings: Settings; raw: Record<string, unknown> } {
  let raw: Record<string, unknown>;
  try {
    raw = store.store;
  } catch (error) {
    throw new SettingsError(`Settings file ${store.path} cannot be read: ${messageOf(error)}`);
  }
  return { settings: parseSettings(raw, `settings file ${store.path}`), raw };
}

/**
 * Writes `change` over the stored settings (a key set to undefined is removed) after checking the
 * result with the zod schema, so a refused change leaves the file as it was.
 */
export function writeSettings(store: SettingsStore, change: Record<string, unknown>): Settings {
  const next: Record<string, unknown> = { ...store.store };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  const settings = parseSettings(next);
  try {
    store.store = next;
  } catch (error) {
    throw new SettingsError(`Cannot save settings to ${store.path}: ${messageOf(error)}`);
  }
  return settings;
}
