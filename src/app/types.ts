/**
 * The contract between the one composition root (src/app) and the shells that start it: the headless
 * `bedrock-bridge serve` (src/cli/serve.ts), the Electron main process (src/main) and, through the
 * control API (docs/control-api.md), the window (renderer/). No Electron import here or anywhere in
 * src/app: whatever only a shell can do (settings store, safeStorage, opening URLs, notifications,
 * login items) comes in through the small ports at the end of this file.
 */
import type { CredentialSourceKind } from '../credentials/credential-source.ts';
import type { SafeStorageLike, VaultProtection } from '../credentials/vault.ts';
import type { RequestEventBus } from '../core/request-events.ts';
import type { SettingsOverrides } from '../core/settings.ts';

/**
 * What the tray icon, its tooltip and the window header show.
 * - starting: settings read, server not listening yet.
 * - serving: listening, credentials in hand (or the SDK chain / env, which cannot be "signed in").
 * - needs-sign-in: listening, but model calls answer 401 sign_in_required until the user signs in.
 * - signing-in: a device-flow sign-in is waiting for the user (`AppState.signIn` has the code).
 * - error: could not start (bad settings, credential source refused); `message` says why.
 * - port-in-use: the port is held, by another Bedrock Bridge or by another program (`portHolder`).
 * - stopped: stop() finished (or not started yet).
 */
export type AppStatus = 'starting' | 'serving' | 'needs-sign-in' | 'signing-in' | 'error' | 'port-in-use' | 'stopped';

/** A device-flow sign-in waiting for the user: show the code, open the page. */
export interface PendingSignIn {
  userCode: string;
  verificationUri: string;
  /** The page with the code filled in, when the IdP gives one. */
  verificationUriComplete: string | null;
  /** ISO 8601; the code is refused after this. */
  expiresAt: string;
}

/** Where credentials come from: a sign-in source, the AWS SDK chain ('default') or the built-in emulator. */
export type CredentialsKind = CredentialSourceKind | 'default' | 'emulator';

export interface CredentialsState {
  source: CredentialsKind;
  /** For people: "IAM Identity Center (https://example.awsapps.com/start)", "built-in emulator". */
  label: string;
  /** True when sign in / sign out apply (identity-center, org-gateway). */
  interactive: boolean;
  signedIn: boolean;
  /** The signed-in user once known, else null. */
  user: string | null;
  /** ISO 8601 expiry of the AWS credentials in hand, else null. */
  credentialsExpireAt: string | null;
}

export interface ModelsState {
  /** The default model as configured: an alias or a Bedrock id; null when requests must name a model. */
  defaultModel: string | null;
  /** The Bedrock id / inference profile / ARN `defaultModel` resolves to. */
  defaultModelId: string | null;
  /** Every alias the server resolves (built-in, org, user), alias -> Bedrock id. */
  aliases: Record<string, string>;
}

/** The whole state a shell renders. Plain JSON (dates as ISO strings); never holds a secret. */
export interface AppState {
  status: AppStatus;
  /** One sentence for the tray's status line and the window header. */
  message: string;
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:8741/v1`; null unless listening. */
  baseUrl: string | null;
  /** The port listened on, or the one asked for while not listening. */
  port: number;
  /** Only with status port-in-use: who holds the port. */
  portHolder: 'bedrock-bridge' | 'other-program' | null;
  region: string;
  /** Serving the built-in Bedrock emulator instead of AWS (`serve --emulator`). */
  emulator: boolean;
  credentials: CredentialsState;
  /** Only with status signing-in. */
  signIn: PendingSignIn | null;
  /** Why the last sign-in did not finish (denied, expired, cancelled, failed); null after a success. */
  signInError: string | null;
  models: ModelsState;
  /** Settings keys changed since start that apply after restart(), e.g. ['port']; empty when none. */
  restartRequired: string[];
  /**
   * Settings a command-line flag or environment variable decides for this process, by the flag or
   * variable that does, e.g. `{ port: '--port', region: 'AWS_REGION' }`: a restart keeps them, so the
   * window cannot change them (PATCH /settings answers 409).
   */
  pinned: PinnedSettings;
  /**
   * Where the sign-in's tokens are kept; null for sources that keep none. `persistent: false` when only
   * memory is left (no OS keychain headless, Electron's safeStorage `basic_text`): the sign-in ends with
   * the process, and `warning` says why (null when the user chose memory only).
   */
  secretStorage: SecretStorageState | null;
  /** Where usage is recorded; null before start. */
  ledgerPath: string | null;
  /** Where settings are stored (the settings.json path). */
  settingsPath: string;
}

export interface SecretStorageState {
  kind: VaultProtection;
  persistent: boolean;
  warning: string | null;
}

export type PinnedSettings = Partial<Record<'port' | 'region' | 'auth', string>>;

/** The settings the window and tray may read and change (a subset of src/core/settings.ts). */
export interface EditableSettings {
  port: number;
  /** null: from the AWS environment, else us-east-1. */
  region: string | null;
  /** The auth object of settings.json: `source` plus the fields of that source (see README "Sign-in"). */
  auth: Record<string, unknown>;
  /** The org audit endpoint (usage.endpoint); null: none (or the org gateway's). */
  auditEndpoint: string | null;
  /** Alias -> Bedrock id, the user's own (built-in and org aliases are not listed here). */
  models: Record<string, string>;
  defaultModel: string | null;
  /** null where the shell cannot set it (headless). */
  startAtLogin: boolean | null;
}

/** A partial update; a field set to null clears it (back to its default). */
export type SettingsPatch = Partial<EditableSettings>;

export interface SettingsUpdate {
  settings: EditableSettings;
  /** Keys of this and earlier changes that apply only after restart(). */
  restartRequired: string[];
  /** As AppState.pinned. */
  pinned: PinnedSettings;
}

/** The result of "try it": one tiny chat request through the real server. */
export interface TryModelResult {
  ok: boolean;
  /** The name tried (alias or id) and what it resolved to. */
  model: string;
  modelId: string | null;
  /** Wall time of the request through the local server, ms. */
  latencyMs: number;
  /** HTTP status of the answer. */
  status: number;
  /** The error message when not ok; never prompt or completion text. */
  error: string | null;
}

/** The cookie that lets the window call the control API; for Electron's `session.cookies.set(details)`. */
export interface UiCookie {
  /** The server's origin, e.g. `http://127.0.0.1:8741`. */
  url: string;
  name: string;
  value: string;
  path: '/';
  httpOnly: true;
  sameSite: 'strict';
}

/** The one composition root both shells start. */
export interface BridgeApp {
  readonly state: AppState;
  /** Every request's started / progress / finished events (src/core/request-events.ts). */
  readonly events: RequestEventBus;
  /**
   * Reads settings, starts credentials, Bedrock clients, server and usage pipeline. Resolves once the
   * status is serving, needs-sign-in, signing-in, port-in-use or error; rejects only on a bug.
   */
  start(): Promise<AppState>;
  /** Drains requests (bounded grace), flushes the ledger, one bounded final sync; status stopped. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** stop() then start(), applying restartRequired settings. */
  restart(): Promise<AppState>;
  /** Switches the default model for the next request and persists it. Throws AppInputError when unknown. */
  setDefaultModel(model: string): Promise<AppState>;
  /** Replaces the user's aliases (and optionally the default model), applies and persists them. */
  setModelMapping(change: { aliases: Record<string, string>; defaultModel?: string | null }): Promise<AppState>;
  /** Aliases plus the Bedrock catalogue (foundation models, inference profiles), as /v1/models lists them. */
  modelCatalogue(): Promise<{ data: Array<{ id: string; owned_by: string; bedrock_model_id?: string }>; degraded: string | null }>;
  /** Sends a tiny chat request ("Say OK", max 8 tokens) to `model` (default: the default model). */
  tryModel(model?: string): Promise<TryModelResult>;
  /**
   * Starts a device-flow sign-in (or returns the one under way); resolves with the code once the IdP
   * gave one. The outcome arrives as a state change (serving, or signInError). Throws AppInputError
   * when the credential source has no sign-in.
   */
  signIn(): Promise<PendingSignIn>;
  /** Cancels a sign-in under way (no-op otherwise). */
  cancelSignIn(): void;
  /** Opens the pending sign-in's verification page through the shell; false when nothing opened. */
  openSignInPage(): Promise<boolean>;
  /** Ends the session at the IdP where possible and wipes the vault; status needs-sign-in. */
  signOut(): Promise<AppState>;
  settings(): Promise<EditableSettings>;
  /** Validates, persists, applies what applies live, and says what needs a restart. Throws AppInputError. */
  updateSettings(patch: SettingsPatch): Promise<SettingsUpdate>;
  /** Base URL and the local API key, for the Setup tab's copy buttons and the tray. Null unless listening. */
  connection(): { baseUrl: string; apiKey: string } | null;
  /** A fresh one-time link that opens the window's UI in a browser (`.../ui/?token=...`); null unless listening. */
  uiLink(): string | null;
  /** A UI session cookie for the Electron window's session; null unless listening. */
  uiCookie(): UiCookie | null;
  /** Called with the new state after every change; returns the unsubscribe function. */
  onStateChange(listener: (state: AppState) => void): () => void;
}

// ---- Ports: what a shell injects -------------------------------------------------------------------

/**
 * The settings file. `conf` headless, electron-store in the app: both satisfy this (electron-store
 * extends conf). Built with `cwd: <data dir>`, `configName: 'settings'` and the JSON Schema of
 * src/core/settings.ts (settingsJsonSchema() in src/app/settings-store.ts). Never holds a secret.
 */
export interface SettingsStore {
  readonly path: string;
  /** Reading returns the whole file; assigning writes it (validated against the schema, atomically). */
  store: Record<string, unknown>;
}

/** Keeps the local API key across launches (the app: safeStorage). Headless has none: flag, env or a key per run. */
export interface ApiKeyStore {
  load(): Promise<string | null>;
  save(apiKey: string): Promise<void>;
}

export type NotificationKind = 'sign-in-needed' | 'credentials-not-renewed' | 'sync-failing';

export interface AppNotification {
  kind: NotificationKind;
  title: string;
  body: string;
}

/** Start-at-login, where the shell can set it (macOS/Windows login items, XDG autostart). */
export interface LoginItemPort {
  get(): Promise<boolean>;
  set(enabled: boolean): Promise<void>;
}

export interface BridgeAppOptions {
  /** Settings, ledger, sign-in.json live here (the app: `app.getPath('userData')`). */
  dataDirectory: string;
  /** Default: a `conf` store of `<dataDirectory>/settings.json`. */
  settingsStore?: SettingsStore;
  /** Command-line flags: applied over the stored settings, never written back. */
  overrides?: SettingsOverrides;
  /** `serve --auth`: the credential source for this run. */
  auth?: string;
  /** Serve the built-in Bedrock emulator (no AWS account). */
  emulator?: boolean;
  /**
   * Start a device-flow sign-in at start() when the source has no session (headless serve: true): the
   * server listens first (status signing-in), see BridgeAppHandle.startupSignIn.
   */
  signInAtStart?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Electron's safeStorage: the token vault's backend in the app. Default: the OS keychain. */
  safeStorage?: SafeStorageLike;
  apiKeyStore?: ApiKeyStore;
  /**
   * Opens an http(s) URL in the system browser (only sign-in verification pages are passed); resolves
   * false when nothing could be opened (no desktop session, `BROWSER=none`).
   */
  openUrl?: (url: string) => Promise<boolean>;
  notify?: (notification: AppNotification) => void;
  loginItem?: LoginItemPort;
  /** Notices for people (never secrets). Default: stderr. */
  log?: (line: string) => void;
  /** Where /ui/ files come from. Default: dist/renderer of this package. */
  uiDirectory?: string;
}
