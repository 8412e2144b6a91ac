import { join } from 'node:path';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { z } from 'zod';
import { messageOf } from '../core/error-message.ts';
import { defaultModelId, isBedrockModelId, resolveModel, type ModelMapping } from '../core/model-catalog.ts';
import { RequestEventBus } from '../core/request-events.ts';
import {
  applyOverrides,
  DEFAULT_HOST,
  DEFAULT_PORT,
  modelMappingOf,
  type OrgModelChoices,
  parseSettings,
  resolveRegion,
  SettingsError,
  type Settings,
  type SettingsOverrides,
} from '../core/settings.ts';
import type { CredentialSource, DeviceCodePrompt, SignInUi } from '../credentials/credential-source.ts';
import { CredentialConfigurationError } from '../credentials/errors.ts';
import type { OrgGatewayDocument } from '../credentials/org-gateway-contract.ts';
import { SignInRequiredError } from '../credentials/sign-in-required-error.ts';
import { createBedrockClients, type BedrockClients } from '../server/bedrock-clients.ts';
import { createControlApp, type ControlApp } from '../server/control/control-app.ts';
import { RequestBatcher } from '../server/control/live-events.ts';
import { UI_COOKIE_NAME, UiSessions } from '../server/control/ui-session.ts';
import { formatHostForUrl, generateApiKey, startGateway, type RunningGateway } from '../server/gateway.ts';
import { ResponseStore } from '../server/response-store.ts';
import type { UsagePipeline } from '../usage/index.ts';
import { followSignIn } from '../usage/follow-sign-in.ts';
import { EMULATOR_LEDGER_DIRECTORY } from '../usage/ledger.ts';
import { CredentialSourceError, credentialSourceName, resolveCredentials, savedSignInSource } from './credential-options.ts';
import { AppInputError } from './errors.ts';
import { defaultUiDirectory, packageVersion } from './package-info.ts';
import { openSettingsStore, readSettings, settingsFileIn, writeSettings } from './settings-store.ts';
import type {
  AppState,
  BridgeApp,
  BridgeAppOptions,
  CredentialsState,
  EditableSettings,
  ModelsState,
  PendingSignIn,
  PinnedSettings,
  SecretStorageState,
  SettingsPatch,
  SettingsStore,
  SettingsUpdate,
  TryModelResult,
  UiCookie,
} from './types.ts';

/** How long quitting may wait for the last audit sync; unsynced records stay in the ledger for next time. */
const USAGE_SYNC_AT_QUIT_MS = 3000;
/** While signed out, how often the vault is checked for a sign-in made by another process. */
const SIGNED_OUT_CHECK_MS = 5000;
/** How often the audit sync's health is looked at (for the "sync keeps failing" notification). */
const SYNC_HEALTH_CHECK_MS = 30_000;
const SYNC_FAILURES_BEFORE_NOTICE = 3;

/** A source that signs in with a device flow (Identity Center, org gateway). */
interface InteractiveSource extends CredentialSource {
  signIn(options?: { signal?: AbortSignal }): Promise<void>;
  signOut(): Promise<void>;
  readonly signedIn: boolean;
  reload?(): Promise<boolean>;
  destroy?(): void;
}

function isInteractive(source: CredentialSource | null): source is InteractiveSource {
  return source !== null && 'signIn' in source && 'signOut' in source;
}

/**
 * A source's provider, marked as already memoized so the SDK clients ask it on every request instead
 * of keeping their own copy until expiry: the source caches in memory anyway (CredentialSource), and a
 * sign-out (or a sign-in as someone else) from the window must take effect on the very next request.
 */
function cachedBySource(source: CredentialSource, outcome: (error: unknown) => void): AwsCredentialIdentityProvider {
  const provider = async (options?: Parameters<AwsCredentialIdentityProvider>[0]) => {
    try {
      const credentials = await source.credentials(options);
      outcome(null);
      return credentials;
    } catch (error) {
      outcome(error);
      throw error;
    }
  };
  return Object.assign(provider, { memoized: true });
}

function isOrgGateway(source: CredentialSource): source is CredentialSource & { describe(): Promise<OrgGatewayDocument> } {
  return source.kind === 'org-gateway' && 'describe' in source;
}

const SOURCE_LABELS: Record<string, string> = {
  default: 'the AWS SDK credential chain',
  env: 'AWS credentials from the environment',
  'aws-profile': 'an AWS profile',
  'identity-center': 'IAM Identity Center',
  'org-gateway': "your organisation's gateway",
};

const settingsPatchSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).nullable().optional(),
  region: z.string().min(1).nullable().optional(),
  auth: z.record(z.string(), z.unknown()).nullable().optional(),
  auditEndpoint: z.url({ protocol: /^https?$/ }).nullable().optional(),
  models: z.record(z.string().min(1), z.string().min(1)).nullable().optional(),
  defaultModel: z.string().min(1).nullable().optional(),
  startAtLogin: z.boolean().nullable().optional(),
});

/** The settings a change of which only applies after restart(), as stored. */
function restartSnapshot(settings: Settings): Record<string, string> {
  return {
    port: JSON.stringify(settings.port),
    region: JSON.stringify(settings.region ?? null),
    auth: JSON.stringify(settings.auth),
    auditEndpoint: JSON.stringify((settings.usage as { endpoint?: unknown }).endpoint ?? null),
  };
}

interface Running {
  settings: Settings;
  region: string;
  orgModels: OrgModelChoices;
  clients: BedrockClients;
  gateway: RunningGateway;
  control: ControlApp | null;
  usage: UsagePipeline;
  /** Stored Responses-API responses (conversation text, on this machine only). */
  responseStore: ResponseStore;
  source: CredentialSource | null;
  emulator: { url: string; close(): Promise<void> } | null;
  apiKey: string;
  credentialLabel: string;
  snapshot: Record<string, string>;
  stopTimers: Array<() => void>;
}

/** What serve (and tests) read besides the BridgeApp contract. */
export interface BridgeAppHandle extends BridgeApp {
  /** Why the last start() ended in status error or port-in-use, as thrown (serve maps it to an exit code). */
  readonly startError: unknown;
  /**
   * With signInAtStart and no session: the sign-in start() began once listening (status signing-in);
   * settles when it succeeded (status serving) or failed (startError says why). Null otherwise.
   */
  readonly startupSignIn: Promise<void> | null;
  /** True when the API key was made for this run (serve prints it). */
  readonly apiKeyGenerated: boolean;
  readonly gateway: RunningGateway | null;
  readonly usage: UsagePipeline | null;
  /** "IAM Identity Center", "built-in emulator at http://...": for the banner. */
  readonly credentialLabel: string | null;
}

/**
 * The one composition root: settings, credentials, emulator, Bedrock clients, gateway, usage
 * pipeline, control API and UI, and the state both shells render. See src/app/types.ts.
 */
export function createBridgeApp(options: BridgeAppOptions): BridgeAppHandle {
  return new Bridge(options);
}

class Bridge implements BridgeAppHandle {
  readonly events = new RequestEventBus();
  readonly #options: BridgeAppOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: (line: string) => void;
  readonly #sessions = new UiSessions();
  readonly #listeners = new Set<(state: AppState) => void>();
  #overrides: SettingsOverrides;
  #store: SettingsStore | null = null;
  #running: Running | null = null;
  #starting: Promise<AppState> | null = null;
  #stopping: Promise<void> | null = null;
  #startError: unknown = null;
  #apiKeyGenerated = false;
  /** A key generated without a store lives as long as this process: a restart() must not break the tools using it. */
  #generatedApiKey: string | null = null;
  #startupSignIn: Promise<void> | null = null;
  #signing: { abort: AbortController; prompt: Promise<PendingSignIn> } | null = null;
  #onPrompt: ((pending: PendingSignIn) => void) | null = null;
  #syncNoticeSent = false;
  #renewalNoticeSent = false;
  #base: Omit<AppState, 'credentials' | 'models' | 'baseUrl' | 'secretStorage' | 'ledgerPath' | 'settingsPath'>;

  constructor(options: BridgeAppOptions) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#overrides = { ...options.overrides };
    this.#base = {
      status: 'stopped',
      message: 'Not started.',
      port: options.overrides?.port ?? DEFAULT_PORT,
      portHolder: null,
      region: resolveRegion(options.overrides?.region, this.#env, parseSettings({})),
      emulator: options.emulator === true,
      signIn: null,
      signInError: null,
      restartRequired: [],
      pinned: this.#pinned(),
    };
  }

  /** What serve's flags and the environment decide for the whole process (restart() keeps #overrides and the env). */
  #pinned(): PinnedSettings {
    const pinned: PinnedSettings = {};
    if (this.#overrides.port !== undefined) pinned.port = '--port';
    const regionVariable = ['AWS_REGION', 'AWS_DEFAULT_REGION'].find((name) => this.#env[name]);
    if (this.#overrides.region) pinned.region = '--region';
    else if (regionVariable) pinned.region = regionVariable;
    if (this.#options.auth !== undefined) pinned.auth = '--auth';
    return pinned;
  }

  // ---- state ------------------------------------------------------------------------------------

  get state(): AppState {
    const running = this.#running;
    return {
      ...this.#base,
      baseUrl: running?.gateway.url ?? null,
      credentials: this.#credentialsState(),
      models: this.#modelsState(),
      secretStorage: this.#secretStorage(),
      ledgerPath: running?.usage.ledger.path ?? null,
      settingsPath: this.#store?.path ?? settingsFileIn(this.#options.dataDirectory),
    };
  }

  get startError(): unknown {
    return this.#startError;
  }

  get startupSignIn(): Promise<void> | null {
    return this.#startupSignIn;
  }

  get apiKeyGenerated(): boolean {
    return this.#apiKeyGenerated;
  }

  get gateway(): RunningGateway | null {
    return this.#running?.gateway ?? null;
  }

  get usage(): UsagePipeline | null {
    return this.#running?.usage ?? null;
  }

  get credentialLabel(): string | null {
    return this.#running?.credentialLabel ?? null;
  }

  onStateChange(listener: (state: AppState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #setState(change: Partial<AppState>): void {
    this.#base = { ...this.#base, ...change };
    const state = this.state;
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch (error) {
        this.#log(`bedrock-bridge: a state listener threw: ${messageOf(error)}`);
      }
    }
  }

  #credentialsState(): CredentialsState {
    const running = this.#running;
    if (this.#options.emulator) {
      return { source: 'emulator', label: running?.credentialLabel ?? 'built-in emulator', interactive: false, signedIn: true, user: null, credentialsExpireAt: null };
    }
    const source = running?.source ?? null;
    if (!source) {
      return { source: 'default', label: running?.credentialLabel ?? SOURCE_LABELS.default!, interactive: false, signedIn: running !== null, user: null, credentialsExpireAt: null };
    }
    const status = source.status();
    return {
      source: source.kind,
      label: running?.credentialLabel ?? SOURCE_LABELS[source.kind] ?? source.kind,
      interactive: isInteractive(source),
      signedIn: status.signedIn,
      user: status.user,
      credentialsExpireAt: status.credentialsExpireAt?.toISOString() ?? null,
    };
  }

  #secretStorage(): SecretStorageState | null {
    const status = this.#running?.source?.status();
    if (!status?.tokenStorage) return null;
    const persistent = status.tokenStorage !== 'memory-only';
    return { kind: status.tokenStorage, persistent, warning: persistent ? null : status.warning };
  }

  #modelsState(): ModelsState {
    const mapping = this.#running?.gateway.models;
    if (!mapping) return { defaultModel: null, defaultModelId: null, aliases: {} };
    return { defaultModel: mapping.defaultModel, defaultModelId: defaultModelId(mapping), aliases: { ...mapping.aliases } };
  }

  // ---- start / stop -----------------------------------------------------------------------------

  start(): Promise<AppState> {
    if (this.#running) return Promise.resolve(this.state);
    this.#starting ??= this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<AppState> {
    this.#startError = null;
    this.#startupSignIn = null;
    this.#syncNoticeSent = false;
    this.#setState({ status: 'starting', message: 'Starting…', portHolder: null, signIn: null, restartRequired: [] });
    const undo: Array<() => unknown> = [];
    let port = this.#base.port;
    let host = this.#overrides.host ?? DEFAULT_HOST;
    try {
      const { settings: fileSettings } = readSettings(await this.#requireStore());
      const settings = applyOverrides(fileSettings, this.#overrides);
      port = settings.port;
      host = settings.host;
      let region = resolveRegion(this.#overrides.region, this.#env, fileSettings);
      this.#setState({ port, region });

      const credentials = await this.#startCredentials(settings, region);
      undo.push(() => credentials.emulator?.close(), () => (credentials.source as InteractiveSource | null)?.destroy?.());
      if (credentials.region) region = credentials.region;

      // The default model may name one of the org's aliases: only now can it be checked.
      const models = modelMappingOf(settings, credentials.orgModels);
      const clients = createBedrockClients({
        region,
        credentials: credentials.provider,
        ...(credentials.runtimeEndpoint ? { runtimeEndpoint: credentials.runtimeEndpoint } : {}),
        ...(credentials.controlEndpoint ? { controlEndpoint: credentials.controlEndpoint } : {}),
        maxAttempts: settings.maxAttempts,
      });
      undo.push(() => clients.destroy());

      const needsSignIn = isInteractive(credentials.source) && !(await this.#hasSession(credentials.source));

      const apiKey = await this.#apiKey(settings);
      let usageRef: UsagePipeline | null = null;
      let control: ControlApp | null = null;
      const batcher = new RequestBatcher({
        bus: this.events,
        costOf: (event) => (usageRef && event.modelId !== null ? usageRef.prices.cost(event.modelId, event.region, event.usage, event.effectiveModelId) : null),
      });
      // Emulator traffic keeps its ledger (and stored responses) apart, so trying things out never mixes with real use.
      const dataDir = credentials.emulator ? join(this.#options.dataDirectory, EMULATOR_LEDGER_DIRECTORY) : this.#options.dataDirectory;
      const responseStore = new ResponseStore({ dataDir, ...settings.responses });
      undo.push(() => responseStore.close());
      const gateway = await startGateway({
        responseStore,
        port: settings.port,
        host: settings.host,
        apiKey,
        allowedOrigins: settings.allowedOrigins,
        models,
        region,
        runtime: clients.runtime,
        control: clients.control,
        events: this.events,
        bodyLimitBytes: settings.bodyLimitBytes,
        imageFetch: settings.imageFetch,
        modelCacheMs: settings.modelCacheSeconds * 1000,
        sideApp: ({ allowedHosts }) => {
          control = createControlApp({
            app: this,
            usage: () => (usageRef ? { rows: (group, query) => usageRef!.aggregates.by(group, query), totals: (query) => usageRef!.aggregates.totals(query), sync: () => usageRef!.status().sync } : null),
            sessions: this.#sessions,
            batcher,
            allowedHosts,
            uiDirectory: this.#options.uiDirectory ?? defaultUiDirectory(),
            version: packageVersion(),
          });
          return control;
        },
      });
      undo.push(() => gateway.close(0));

      const usage = await this.#startUsage(dataDir, settings, credentials, region);
      usageRef = usage;

      const running: Running = {
        settings,
        region,
        orgModels: credentials.orgModels,
        clients,
        gateway,
        control,
        usage,
        responseStore,
        source: credentials.source,
        emulator: credentials.emulator,
        apiKey,
        credentialLabel: credentials.label,
        snapshot: restartSnapshot(fileSettings),
        stopTimers: [],
      };
      this.#running = running;
      this.#watch(running);
      const signedOut = isInteractive(running.source) && !running.source.signedIn;
      if (needsSignIn && this.#options.signInAtStart) {
        this.#startupSignIn = this.#signInAtStart(running, running.source as InteractiveSource);
        // Marked handled here; serve awaits it and exits when it fails.
        this.#startupSignIn.catch(() => {});
      } else if (signedOut) {
        this.#signedOut('You are not signed in: model calls answer 401 until you sign in.');
      } else {
        this.#setState({ status: 'serving', port: gateway.port, region, message: `Serving on ${gateway.url}` });
      }
      this.#lookUpUser();
      return this.state;
    } catch (error) {
      for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => {});
      this.#startError = error;
      if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
        const holder = (await this.#bedrockBridgeAt(host, port)) ? 'bedrock-bridge' : 'other-program';
        this.#setState({
          status: 'port-in-use',
          portHolder: holder,
          port,
          message: holder === 'bedrock-bridge' ? `Bedrock Bridge is already serving on port ${port}.` : `Port ${port} is used by another program: choose another port in Settings.`,
        });
      } else {
        this.#setState({ status: 'error', message: messageOf(error), signIn: null });
      }
      return this.state;
    }
  }

  /** Asks the port's holder whether it is a Bedrock Bridge (GET /control/v1/hello, unauthenticated, on loopback). */
  async #bedrockBridgeAt(host: string, port: number): Promise<boolean> {
    const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : formatHostForUrl(host);
    try {
      const answer = await fetch(`http://${probeHost}:${port}/control/v1/hello`, { signal: AbortSignal.timeout(2000) });
      const body = (await answer.json()) as { service?: unknown };
      return body.service === 'bedrock-bridge';
    } catch {
      return false;
    }
  }

  async #startCredentials(
    settings: Settings,
    region: string,
  ): Promise<{
    provider: AwsCredentialIdentityProvider | AwsCredentialIdentity;
    source: CredentialSource | null;
    emulator: { url: string; close(): Promise<void> } | null;
    runtimeEndpoint: string | undefined;
    controlEndpoint: string | undefined;
    label: string;
    region: string | null;
    orgModels: OrgModelChoices;
    orgUsageEndpoint: string | null;
  }> {
    const base = { runtimeEndpoint: settings.endpoints.bedrockRuntime, controlEndpoint: settings.endpoints.bedrock, region: null, orgModels: {}, orgUsageEndpoint: null };
    if (this.#options.emulator) {
      if (this.#options.auth !== undefined) {
        throw new CredentialSourceError(`--emulator brings its own credentials; leave out --auth ${this.#options.auth} (or drop --emulator to use real AWS).`);
      }
      const { startEmulator, DEFAULT_EMULATOR_CREDENTIALS } = await import('../emulator/index.ts');
      const emulator = await startEmulator({ port: 0, host: '127.0.0.1', region });
      return {
        ...base,
        provider: { accessKeyId: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, secretAccessKey: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey },
        source: null,
        emulator,
        runtimeEndpoint: emulator.url,
        controlEndpoint: emulator.url,
        label: `built-in emulator at ${emulator.url}`,
      };
    }
    const explicit = this.#options.auth !== undefined || typeof (settings.auth as { source?: unknown }).source === 'string';
    const name = credentialSourceName(this.#options.auth, settings, explicit ? null : await savedSignInSource(this.#options.dataDirectory));
    const { provider, source } = await resolveCredentials(name, {
      env: this.#env,
      settings,
      region,
      dataDirectory: this.#options.dataDirectory,
      log: this.#log,
      ui: this.#signInUi(),
      signInIfNeeded: false,
      ...(this.#options.safeStorage ? { safeStorage: this.#options.safeStorage } : {}),
    });
    const label = name === 'default' ? 'default (the AWS SDK credential chain)' : name;
    if (name === 'default') await this.#askDefaultChain(provider);
    if (!source) return { ...base, provider, source, emulator: null, label };
    const sourceProvider = cachedBySource(source, (error) => this.#credentialsOutcome(error));
    if (!isOrgGateway(source)) return { ...base, provider: sourceProvider, source, emulator: null, label };
    const org = await source.describe();
    // The org's choices fill what the user did not set: their own flags and settings win.
    const orgRegion = !this.#overrides.region && !this.#env.AWS_REGION && !this.#env.AWS_DEFAULT_REGION && org.region ? org.region : null;
    return {
      ...base,
      provider: sourceProvider,
      source,
      emulator: null,
      label,
      region: orgRegion,
      orgModels: { aliases: org.models, defaultModel: org.default_model },
      orgUsageEndpoint: org.usage_endpoint,
    };
  }

  /**
   * The SDK's chain is asked once before serving, as the other sources are: long-lived keys it would
   * refuse stop the start now rather than failing every request. Finding nothing is only a warning.
   */
  async #askDefaultChain(provider: AwsCredentialIdentityProvider): Promise<void> {
    try {
      await provider();
    } catch (error) {
      if (error instanceof CredentialConfigurationError) throw new CredentialSourceError(error.message);
      this.#log(`Warning: the AWS SDK credential chain found no credentials yet (${messageOf(error)}).`);
      this.#log('Warning: requests answer 401 until it does: run `aws sso login`, export AWS credentials, or use `bedrock-bridge login`.');
    }
  }

  /** Whether the stored session still gives credentials; a configuration problem shows now, not on the first request. */
  async #hasSession(source: InteractiveSource): Promise<boolean> {
    if (!source.signedIn) return false;
    try {
      await source.credentials();
      return true;
    } catch (error) {
      if (error instanceof SignInRequiredError) return false;
      if (this.#options.signInAtStart) throw error;
      this.#log(`Warning: could not get AWS credentials yet: ${messageOf(error)}`);
      return true;
    }
  }

  async #apiKey(settings: Settings): Promise<string> {
    if (settings.apiKey) {
      this.#apiKeyGenerated = false;
      return settings.apiKey;
    }
    const stored = (await this.#options.apiKeyStore?.load()) ?? null;
    if (stored) {
      this.#apiKeyGenerated = false;
      return stored;
    }
    const apiKey = this.#generatedApiKey ?? generateApiKey();
    this.#apiKeyGenerated = this.#options.apiKeyStore === undefined;
    if (this.#apiKeyGenerated) this.#generatedApiKey = apiKey;
    await this.#options.apiKeyStore?.save(apiKey);
    return apiKey;
  }

  /** Every request the gateway answers becomes a usage record; synced to the org when it names an audit endpoint. */
  async #startUsage(dataDir: string, settings: Settings, credentials: { source: CredentialSource | null; orgUsageEndpoint: string | null }, region: string): Promise<UsagePipeline> {
    const { startUsagePipeline, usageSettingsSchema } = await import('../usage/index.ts');
    const usage = usageSettingsSchema.parse(settings.usage);
    // The identity proof goes to the STS endpoint (and region) Identity Center's identity lookups use,
    // merged from sign-in.json and settings as the source itself was.
    let sts: { stsEndpoint: string; stsRegion: string } | null = null;
    if (credentials.source?.kind === 'identity-center') {
      const { resolveCredentialSettings } = await import('../credentials/index.ts');
      const identityCenter = (await resolveCredentialSettings(settings.auth, this.#options.dataDirectory, 'identity-center')).identityCenter;
      if (identityCenter?.stsEndpoint) sts = { stsEndpoint: identityCenter.stsEndpoint, stsRegion: identityCenter.region };
    }
    return startUsagePipeline({
      ...sts,
      dataDir,
      events: this.events,
      source: credentials.source,
      usageEndpoint: credentials.orgUsageEndpoint ?? usage.endpoint ?? null,
      region,
      prices: usage.prices,
      retentionDays: usage.retentionDays,
      syncIntervalMs: usage.syncIntervalSeconds * 1000,
      durability: usage.durability,
      clientVersion: packageVersion(),
    });
  }

  /** Follows the source (session ended, signed in again elsewhere) and the audit sync's health. */
  #watch(running: Running): void {
    const source = running.source;
    if (source) {
      running.stopTimers.push(followSignIn(source, () => running.usage.signedIn()));
      running.stopTimers.push(
        source.onSignInRequired(() => {
          if (this.#running === running && this.#base.status !== 'signing-in') this.#signedOut('Your sign-in has ended: model calls answer 401 until you sign in again.');
        }),
      );
    }
    if (isInteractive(source) && source.reload) {
      const reload = source.reload.bind(source);
      const timer = setInterval(() => {
        if (this.#base.status !== 'needs-sign-in') return;
        // A `bedrock-bridge login` in another process sharing the vault brings this server back.
        void reload().then(async (found) => {
          if (!found || this.#running !== running || this.#base.status !== 'needs-sign-in') return;
          try {
            await source.credentials();
            this.#signedInAgain(running);
          } catch {
            // still not usable: the next check tries again
          }
        });
      }, SIGNED_OUT_CHECK_MS);
      timer.unref();
      running.stopTimers.push(() => clearInterval(timer));
    }
    const health = setInterval(() => {
      const sync = running.usage.status().sync;
      if (!sync.enabled) return;
      if (sync.consecutiveFailures >= SYNC_FAILURES_BEFORE_NOTICE && !this.#syncNoticeSent) {
        this.#syncNoticeSent = true;
        this.#options.notify?.({ kind: 'sync-failing', title: 'Usage sync keeps failing', body: `Usage could not be sent to your organisation (${sync.lastError ?? 'no answer'}); it is kept and retried.` });
      } else if (sync.consecutiveFailures === 0) {
        this.#syncNoticeSent = false;
      }
    }, SYNC_HEALTH_CHECK_MS);
    health.unref();
    running.stopTimers.push(() => clearInterval(health));
  }

  /**
   * A request needed credentials: tell the user once when the source could not renew them for a reason
   * other than an ended sign-in (that one has its own notice), and again only after they worked.
   */
  #credentialsOutcome(error: unknown): void {
    if (error === null) {
      this.#renewalNoticeSent = false;
      return;
    }
    if (error instanceof SignInRequiredError || this.#renewalNoticeSent) return;
    this.#renewalNoticeSent = true;
    this.#options.notify?.({ kind: 'credentials-not-renewed', title: 'AWS credentials could not be renewed', body: `Requests fail until they can be: ${messageOf(error)}` });
  }

  #signedOut(message: string): void {
    this.#setState({ status: 'needs-sign-in', message, signIn: null });
    this.#options.notify?.({ kind: 'sign-in-needed', title: 'Sign in to Bedrock Bridge', body: message });
  }

  #signedInAgain(running: Running): void {
    if (this.#running !== running) return;
    this.#setState({ status: 'serving', message: `Serving on ${running.gateway.url}`, signIn: null, signInError: null });
    void running.usage.signedIn();
    this.#lookUpUser();
  }

  #lookUpUser(): void {
    const running = this.#running;
    if (!running?.source) return;
    void running.source.identity().then(
      () => {
        if (this.#running === running) this.#setState({});
      },
      () => {},
    );
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(graceMs?: number): Promise<void> {
    await this.#starting?.catch(() => {});
    this.cancelSignIn();
    const running = this.#running;
    if (!running) {
      this.#setState({ status: 'stopped', message: 'Stopped.' });
      return;
    }
    for (const stop of running.stopTimers) stop();
    running.control?.close();
    await running.gateway.close(graceMs ?? running.settings.shutdownGraceMs);
    await running.usage.close({ syncTimeoutMs: USAGE_SYNC_AT_QUIT_MS });
    running.responseStore.close();
    running.clients.destroy();
    (running.source as InteractiveSource | null)?.destroy?.();
    await running.emulator?.close();
    this.#running = null;
    this.#setState({ status: 'stopped', message: 'Stopped.', signIn: null });
  }

  async restart(): Promise<AppState> {
    await this.stop();
    return this.start();
  }

  // ---- models -----------------------------------------------------------------------------------

  /** Checks the stored settings after `change` would resolve, writes them, applies them to the running server. */
  async #applyModels(change: Record<string, unknown>, field: string): Promise<void> {
    const store = await this.#requireStore();
    const running = this.#running;
    let mapping: ModelMapping;
    try {
      const next = readSettings(store).raw;
      const candidate = applyOverrides(readSettings({ path: store.path, store: { ...next, ...change } }).settings, this.#overrides);
      mapping = modelMappingOf(candidate, running?.orgModels ?? {});
      writeSettings(store, change);
    } catch (error) {
      if (error instanceof SettingsError) throw new AppInputError(error.message, { field });
      throw error;
    }
    running?.gateway.setModels(mapping);
    this.#setState({});
  }

  async setDefaultModel(model: string): Promise<AppState> {
    // A --default-model flag no longer wins over what the user just chose.
    this.#overrides = { ...this.#overrides, defaultModel: undefined };
    await this.#applyModels({ defaultModel: model }, 'defaultModel');
    return this.state;
  }

  async setModelMapping(change: { aliases: Record<string, string>; defaultModel?: string | null }): Promise<AppState> {
    for (const [alias, target] of Object.entries(change.aliases)) {
      if (alias.trim() === '' || !isBedrockModelId(target.trim())) {
        throw new AppInputError(`The alias '${alias}' must name a Bedrock model id, inference profile or ARN (got '${target}').`, { field: `aliases.${alias}` });
      }
    }
    this.#overrides = { ...this.#overrides, models: undefined, ...(change.defaultModel !== undefined ? { defaultModel: undefined } : {}) };
    const write: Record<string, unknown> = { models: change.aliases };
    if (change.defaultModel !== undefined) write.defaultModel = change.defaultModel ?? undefined;
    await this.#applyModels(write, change.defaultModel !== undefined ? 'defaultModel' : 'aliases');
    return this.state;
  }

  async modelCatalogue(): Promise<{ data: Array<{ id: string; owned_by: string; bedrock_model_id?: string }>; degraded: string | null }> {
    const running = this.#requireRunning();
    const listing = await running.gateway.modelList.list();
    return { data: listing.data.map(({ id, owned_by, bedrock_model_id }) => ({ id, owned_by, ...(bedrock_model_id ? { bedrock_model_id } : {}) })), degraded: listing.degraded };
  }

  async tryModel(model?: string): Promise<TryModelResult> {
    const running = this.#requireRunning();
    const name = model ?? running.gateway.models.defaultModel ?? 'default';
    const started = Date.now();
    const answer = await fetch(`${running.gateway.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${running.apiKey}`, 'content-type': 'application/json', 'user-agent': 'bedrock-bridge-try' },
      body: JSON.stringify({ model: name, messages: [{ role: 'user', content: 'Say OK.' }], max_tokens: 8 }),
    });
    const body = (await answer.json().catch(() => null)) as { error?: { message?: string } } | null;
    const latencyMs = Date.now() - started;
    let modelId: string | null = null;
    try {
      modelId = resolveModel(name, running.gateway.models).modelId;
    } catch {
      modelId = null;
    }
    return { ok: answer.ok, model: name, modelId, latencyMs, status: answer.status, error: answer.ok ? null : (body?.error?.message ?? `HTTP ${answer.status}`) };
  }

  // ---- sign-in ----------------------------------------------------------------------------------

  #signInUi(): SignInUi {
    return {
      prompt: (info: DeviceCodePrompt) => {
        const pending: PendingSignIn = {
          userCode: info.userCode,
          verificationUri: info.verificationUri,
          verificationUriComplete: info.verificationUriComplete,
          expiresAt: info.expiresAt.toISOString(),
        };
        this.#setState({ status: 'signing-in', signIn: pending, signInError: null, message: `Sign in: confirm the code ${info.userCode} at ${info.verificationUri}` });
        this.#onPrompt?.(pending);
      },
      openUrl: async (url) => {
        await this.#options.openUrl?.(url);
      },
    };
  }

  /** Starts a sign-in; `done` settles when it succeeded (credentials in hand) or failed. */
  #beginSignIn(source: InteractiveSource): { prompt: Promise<PendingSignIn>; done: Promise<void> } {
    const abort = new AbortController();
    let promptReady!: (pending: PendingSignIn) => void;
    let promptFailed!: (error: unknown) => void;
    const prompt = new Promise<PendingSignIn>((resolve, reject) => {
      promptReady = resolve;
      promptFailed = reject;
    });
    prompt.catch(() => {});
    this.#onPrompt = promptReady;
    this.#signing = { abort, prompt };
    const done = (async () => {
      try {
        await source.signIn({ signal: abort.signal });
        await source.credentials();
      } catch (error) {
        promptFailed(error);
        throw error;
      } finally {
        if (this.#signing?.abort === abort) {
          this.#signing = null;
          this.#onPrompt = null;
        }
      }
    })();
    return { prompt, done };
  }

  /**
   * Headless start: the server already listens (model calls answer 401 sign_in_required meanwhile, the
   * window's link works and shows the code) while the sign-in runs. Its failure is the start's failure.
   */
  async #signInAtStart(running: Running, source: InteractiveSource): Promise<void> {
    this.#setState({ status: 'signing-in', port: running.gateway.port, region: running.region, message: 'Signing in…', signIn: null, signInError: null });
    try {
      await this.#beginSignIn(source).done;
    } catch (error) {
      this.#startError = new CredentialSourceError(`--auth ${source.kind}: ${messageOf(error)}`);
      if (this.#running === running) this.#setState({ status: 'needs-sign-in', message: 'You are not signed in: model calls answer 401 until you sign in.', signIn: null, signInError: messageOf(error) });
      throw this.#startError;
    }
    this.#signedInAgain(running);
  }

  async signIn(): Promise<PendingSignIn> {
    const running = this.#running;
    const source = running?.source ?? null;
    if (!running || !isInteractive(source)) {
      throw new AppInputError('This credential source has no sign-in: set up IAM Identity Center or your organisation\'s gateway in Settings.', { kind: 'conflict' });
    }
    if (this.#signing) return this.#signing.prompt;
    const { prompt, done } = this.#beginSignIn(source);
    done.then(
      () => this.#signedInAgain(running),
      (error: unknown) => {
        if (this.#running !== running) return;
        const cancelled = this.#base.signInError === 'Sign-in was cancelled.';
        this.#setState({
          status: source.signedIn ? 'serving' : 'needs-sign-in',
          message: source.signedIn ? `Serving on ${running.gateway.url}` : 'You are not signed in: model calls answer 401 until you sign in.',
          signIn: null,
          signInError: cancelled ? this.#base.signInError : messageOf(error),
        });
      },
    );
    return prompt;
  }

  cancelSignIn(): void {
    if (!this.#signing) return;
    this.#base = { ...this.#base, signInError: 'Sign-in was cancelled.' };
    this.#signing.abort.abort();
  }

  async openSignInPage(): Promise<boolean> {
    const pending = this.#base.signIn;
    if (!pending || !this.#options.openUrl) return false;
    return this.#options.openUrl(pending.verificationUriComplete ?? pending.verificationUri);
  }

  async signOut(): Promise<AppState> {
    const source = this.#running?.source ?? null;
    if (!isInteractive(source)) throw new AppInputError('This credential source has no sign-in to end.', { kind: 'conflict' });
    this.cancelSignIn();
    await source.signOut();
    this.#setState({ status: 'needs-sign-in', message: 'Signed out: model calls answer 401 until you sign in.', signIn: null, signInError: null });
    return this.state;
  }

  // ---- settings ---------------------------------------------------------------------------------

  async #requireStore(): Promise<SettingsStore> {
    this.#store ??= this.#options.settingsStore ?? (await openSettingsStore(this.#options.dataDirectory));
    return this.#store;
  }

  #requireRunning(): Running {
    if (!this.#running) throw new AppInputError('The server is not running.', { kind: 'conflict' });
    return this.#running;
  }

  async settings(): Promise<EditableSettings> {
    const { settings } = readSettings(await this.#requireStore());
    const endpoint = (settings.usage as { endpoint?: unknown }).endpoint;
    return {
      port: settings.port,
      region: settings.region ?? null,
      auth: settings.auth,
      auditEndpoint: typeof endpoint === 'string' ? endpoint : null,
      models: settings.models,
      defaultModel: settings.defaultModel ?? null,
      startAtLogin: this.#options.loginItem ? await this.#options.loginItem.get() : null,
    };
  }

  async updateSettings(patch: SettingsPatch): Promise<SettingsUpdate> {
    const parsed = settingsPatchSchema.safeParse(patch);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || null;
      throw new AppInputError(`${field ?? 'settings'}: ${issue.message}`, field ? { field } : {});
    }
    for (const [field, by] of Object.entries(this.#base.pinned)) {
      if (parsed.data[field as keyof PinnedSettings] !== undefined) {
        throw new AppInputError(`${field} is set by ${by} for this run: a change here would not apply after a restart. Start without ${by} to use the stored ${field}.`, { field, kind: 'conflict' });
      }
    }
    const { models, defaultModel, startAtLogin, auditEndpoint, ...rest } = parsed.data;
    const store = await this.#requireStore();
    const change: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) change[key] = value ?? undefined;
    }
    if (auditEndpoint !== undefined) {
      const { endpoint: _old, ...usage } = (readSettings(store).raw.usage ?? {}) as Record<string, unknown>;
      change.usage = auditEndpoint === null ? usage : { ...usage, endpoint: auditEndpoint };
    }
    if (Object.keys(change).length > 0) {
      try {
        writeSettings(store, change);
      } catch (error) {
        if (error instanceof SettingsError) throw new AppInputError(error.message, { field: Object.keys(change)[0]! });
        throw error;
      }
    }
    if (models !== undefined || defaultModel !== undefined) {
      if (models !== undefined) {
        await this.setModelMapping({ aliases: models ?? {}, ...(defaultModel !== undefined ? { defaultModel } : {}) });
      } else if (defaultModel === null) {
        this.#overrides = { ...this.#overrides, defaultModel: undefined };
        await this.#applyModels({ defaultModel: undefined }, 'defaultModel');
      } else {
        await this.setDefaultModel(defaultModel!);
      }
    }
    if (startAtLogin !== undefined && startAtLogin !== null) {
      if (!this.#options.loginItem) throw new AppInputError('Start at login is set by the desktop app, not by headless serve.', { field: 'startAtLogin', kind: 'conflict' });
      await this.#options.loginItem.set(startAtLogin);
    }
    this.#setState({ restartRequired: this.#restartRequired(readSettings(store).settings) });
    return { settings: await this.settings(), restartRequired: this.#base.restartRequired, pinned: this.#base.pinned };
  }

  #restartRequired(stored: Settings): string[] {
    const running = this.#running;
    if (!running) return [];
    const now = restartSnapshot(stored);
    return Object.keys(now).filter((key) => now[key] !== running.snapshot[key]);
  }

  // ---- connection and the window's credential -----------------------------------------------------

  #origin(): string | null {
    const url = this.#running?.gateway.url;
    return url ? url.replace(/\/v1$/, '') : null;
  }

  connection(): { baseUrl: string; apiKey: string } | null {
    const running = this.#running;
    return running ? { baseUrl: running.gateway.url, apiKey: running.apiKey } : null;
  }

  uiLink(): string | null {
    const origin = this.#origin();
    return origin ? `${origin}/ui/?token=${this.#sessions.issueLinkToken()}` : null;
  }

  uiCookie(): UiCookie | null {
    const origin = this.#origin();
    return origin ? { url: origin, name: UI_COOKIE_NAME, value: this.#sessions.sessionValue, path: '/', httpOnly: true, sameSite: 'strict' } : null;
  }
}
