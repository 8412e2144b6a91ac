import { z } from 'zod';
import { parseAllowEntry } from './address-policy.ts';
import { DEFAULT_ALIASES, DEFAULT_MODEL, defaultModelId, type ModelMapping } from './model-catalog.ts';

/**
 * The settings file (JSON) of the headless server, and the merge of command-line overrides over it.
 * Pure: reading and writing the file is src/app/settings-store.ts's job.
 */

export const DEFAULT_PORT = 8741;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_REGION = 'us-east-1';
/** Large enough for a few data-URI images; OpenAI itself caps images at 20 MB. */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_IMAGE_TIMEOUT_MS = 15_000;
export const DEFAULT_MODEL_CACHE_SECONDS = 600;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 1;

const imageFetchSchema = z.object({
  /** When false, http(s) image URLs are refused with a 400; data: URIs always work. */
  enabled: z.boolean().default(true),
  maxBytes: z.number().int().positive().default(DEFAULT_IMAGE_MAX_BYTES),
  timeoutMs: z.number().int().positive().default(DEFAULT_IMAGE_TIMEOUT_MS),
  /**
   * Non-public hosts image URLs may reach (an intranet image server): `name`, `name:port`, an IP,
   * `IP:port` or a CIDR range. Loopback, private, link-local and other non-public addresses are refused
   * otherwise; public ones are always allowed.
   */
  allowHosts: z
    .array(z.string().refine((entry) => parseAllowEntry(entry) !== null, 'expected a host name, host:port, an IP address (optionally with :port) or a CIDR range'))
    .default([]),
});

export const settingsSchema = z.looseObject({
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  host: z.string().min(1).default(DEFAULT_HOST),
  /** The local API key clients must send; generated at start when absent. */
  apiKey: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  /** Alias -> Bedrock model id, inference profile id or ARN; merged over the built-in aliases. */
  models: z.record(z.string().min(1), z.string().min(1)).default({}),
  /**
   * Used when a request names no model (or names `default`): an alias or a Bedrock id. Absent: a
   * `models.default` entry, else DEFAULT_MODEL (applied by modelMappingOf, so the two can be told apart).
   */
  defaultModel: z.string().min(1).optional(),
  /** Browser origins allowed to call the API (exact match, e.g. `http://localhost:3000`). `*` is not accepted. */
  allowedOrigins: z
    .array(
      z
        .string()
        .min(1)
        .refine((origin) => origin !== '*' && !origin.includes('*'), 'wildcards are not allowed in allowedOrigins'),
    )
    .default([]),
  bodyLimitBytes: z.number().int().positive().default(DEFAULT_BODY_LIMIT_BYTES),
  imageFetch: imageFetchSchema.prefault({}),
  /** How long the /v1/models catalog read from the control plane is cached. */
  modelCacheSeconds: z.number().int().min(0).default(DEFAULT_MODEL_CACHE_SECONDS),
  /** How long in-flight requests may run after SIGINT/SIGTERM. */
  shutdownGraceMs: z.number().int().min(0).default(DEFAULT_SHUTDOWN_GRACE_MS),
  /** SDK attempts per Bedrock call; 1 passes throttling straight to the client, which retries on its own. */
  maxAttempts: z.number().int().min(1).max(10).default(DEFAULT_MAX_ATTEMPTS),
  /** Endpoint overrides (VPC endpoints, emulators). The SDK's AWS_ENDPOINT_URL_* variables also work. */
  endpoints: z
    .object({
      bedrockRuntime: z.url().optional(),
      bedrock: z.url().optional(),
    })
    .prefault({}),
  /** Stored responses of the Responses API (conversation text, on this machine only): how long and how many. */
  responses: z
    .object({
      retentionDays: z.number().int().min(1).max(3650).default(30),
      maxStored: z.number().int().min(0).max(1_000_000).default(1000),
    })
    .prefault({}),
  /** Owned by the credentials engineers; kept open here. */
  auth: z.looseObject({}).prefault({}),
  /** Owned by the usage engineers; kept open here. */
  usage: z.looseObject({}).prefault({}),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** What the command line can set; absent fields leave the file's value. */
export interface SettingsOverrides {
  port?: number | undefined;
  host?: string | undefined;
  apiKey?: string | undefined;
  region?: string | undefined;
  models?: Record<string, string> | undefined;
  defaultModel?: string | undefined;
  allowedOrigins?: string[] | undefined;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Parses a settings object (already JSON-parsed); throws SettingsError naming each bad key. */
export function parseSettings(input: unknown, source = 'settings'): Settings {
  const result = settingsSchema.safeParse(input ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new SettingsError(`Invalid ${source}: ${problems.join('; ')}`);
  }
  return result.data;
}

/** File settings with command-line overrides on top (model aliases merge key by key). */
export function applyOverrides(settings: Settings, overrides: SettingsOverrides): Settings {
  const merged: Settings = { ...settings };
  if (overrides.port !== undefined) merged.port = overrides.port;
  if (overrides.host !== undefined) merged.host = overrides.host;
  if (overrides.apiKey !== undefined) merged.apiKey = overrides.apiKey;
  if (overrides.region !== undefined) merged.region = overrides.region;
  // `--model default=ID` is a way to say `--default-model ID`: on the command line, it beats the file's.
  const defaultModel = overrides.defaultModel ?? overrides.models?.default;
  if (defaultModel !== undefined) merged.defaultModel = defaultModel;
  if (overrides.allowedOrigins !== undefined) merged.allowedOrigins = overrides.allowedOrigins;
  if (overrides.models !== undefined) merged.models = { ...settings.models, ...overrides.models };
  return parseSettings(merged, 'settings after command-line overrides');
}

/** `ALIAS=BEDROCK_ID` pairs from `--model` flags. */
export function parseModelFlags(values: readonly string[]): Record<string, string> {
  const models: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1) {
      throw new SettingsError(`--model expects ALIAS=BEDROCK_MODEL_ID, got "${value}"`);
    }
    models[value.slice(0, at).trim()] = value.slice(at + 1).trim();
  }
  return models;
}

/** Region precedence: explicit flag, then the AWS environment, then the settings file, then us-east-1. */
export function resolveRegion(flag: string | undefined, env: NodeJS.ProcessEnv, settings: Settings): string {
  return flag || env.AWS_REGION || env.AWS_DEFAULT_REGION || settings.region || DEFAULT_REGION;
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The default model the user chose (`defaultModel`, else a `models.default` entry), if any. */
function configuredDefaultModel(settings: Pick<Settings, 'models' | 'defaultModel'>): string | undefined {
  return settings.defaultModel ?? settings.models.default;
}

/** Models an org gateway's document names: they fill in what the user's settings leave open. */
export interface OrgModelChoices {
  aliases?: Record<string, string> | undefined;
  defaultModel?: string | undefined;
}

/**
 * The alias map the server resolves with: the built-in aliases, the org's over them (an org names its
 * own models for the familiar names), then the settings' (and flags') on top. `default` is not kept as an alias: it always means the default model (the
 * user's, else the org's, else DEFAULT_MODEL), which is checked against the org's aliases too.
 */
export function modelMappingOf(settings: Pick<Settings, 'models' | 'defaultModel'>, org: OrgModelChoices = {}): ModelMapping {
  const { default: _default, ...models } = settings.models;
  const { default: orgDefault, ...orgAliases } = org.aliases ?? {};
  const mapping: ModelMapping = {
    aliases: { ...DEFAULT_ALIASES, ...orgAliases, ...models },
    defaultModel: configuredDefaultModel(settings) ?? org.defaultModel ?? orgDefault ?? DEFAULT_MODEL,
  };
  if (defaultModelId(mapping) === null) {
    throw new SettingsError(`The default model '${mapping.defaultModel}' is neither a model alias nor a Bedrock model id, inference profile or ARN.`);
  }
  return mapping;
}
