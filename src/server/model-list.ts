import {
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  type BedrockClient,
  type FoundationModelSummary,
  type InferenceProfileSummary,
  type InferenceProfileType,
} from '@aws-sdk/client-bedrock';
import { defaultModelId, isApplicationInferenceProfile, profileRouteId, type ModelMapping } from '../core/model-catalog.ts';
import { messageOf } from '../core/error-message.ts';

/** One entry of OpenAI's `GET /v1/models` list; `bedrock_model_id` says where an alias points. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  bedrock_model_id?: string;
}

export interface ModelListing {
  data: ModelEntry[];
  /** Why the Bedrock part is missing (control plane unreachable, access denied...), else null. */
  degraded: string | null;
}

export interface ModelListOptions {
  client: BedrockClient;
  mapping: ModelMapping;
  /** How long a successful read of the control plane is reused. */
  ttlMs: number;
  /** How long to wait before asking again after a failure. */
  failureTtlMs?: number;
  /** Called once per run of failures (not per request). */
  onError?: (error: unknown) => void;
  /**
   * Called once per application inference profile whose model could not be found (default: a warning
   * on stderr); its requests then go out without that model's traits.
   */
  onUnresolvedProfile?: (profileArn: string, reason: string) => void;
  /**
   * How long a chat request waits for the profile list (default 5 s) before it goes out without the
   * profile's model traits; the read carries on and serves the requests after it.
   */
  profileLookupTimeoutMs?: number;
  now?: () => number;
}

const PROFILE_TYPES: InferenceProfileType[] = ['SYSTEM_DEFINED', 'APPLICATION'];

/** The control plane's own summaries, as read (for the Bedrock-native control-plane routes). */
export interface BedrockSummaries {
  foundationModels: FoundationModelSummary[];
  inferenceProfiles: InferenceProfileSummary[];
}

interface BedrockCatalog {
  summaries: BedrockSummaries;
  entries: ModelEntry[];
  /** Every name a model can be looked up by (id and ARN) -> its entry. */
  byName: Map<string, ModelEntry>;
  /** Application inference profile ARN -> the system-defined id it behaves like (see profileRouteId). */
  profileRoutes: Map<string, string>;
}

// Bounds the per-profile bookkeeping against a client cycling through made-up ARNs.
const MAX_TRACKED_PROFILES = 1000;

/** The promise's value, or null when it has not settled within `ms`. */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<null>((resolve) => {
    timer = setTimeout(resolve, ms, null);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function warnUnresolvedProfile(profileArn: string, reason: string): void {
  console.warn(
    `bedrock-bridge: could not find the model behind the application inference profile ${profileArn} (${reason}); ` +
      'its requests go out without model-specific handling (reasoning_effort, prompt caching, Claude parameter rules).',
  );
}

/**
 * The configured aliases plus the account's foundation models and inference profiles (system-defined
 * and application, all pages), read from the control plane and cached. When the control plane fails
 * the aliases are still served and `degraded` says why.
 */
export class ModelList {
  readonly #options: ModelListOptions;
  #aliasSource: ModelMapping | null = null;
  #aliasVersion = '';
  #aliases: ModelEntry[] = [];
  #aliasByName = new Map<string, ModelEntry>();
  #cached: { at: number; catalog: BedrockCatalog | null; error: string | null } | null = null;
  #pending: Promise<void> | null = null;
  /** Why the last read of the control plane failed; null after a success. */
  #lastFailure: string | null = null;
  /** Unknown application profile -> when the catalog was last read again for it. */
  #profileLookups = new Map<string, number>();
  #warnedProfiles = new Set<string>();

  constructor(options: ModelListOptions) {
    this.#options = options;
  }

  /** The alias entries, rebuilt when the (mutable) mapping changed since the last call. */
  #currentAliases(): { list: ModelEntry[]; byName: Map<string, ModelEntry> } {
    const mapping = this.#options.mapping;
    const version = `${mapping.defaultModel ?? ''}\u0000${JSON.stringify(mapping.aliases)}`;
    if (this.#aliasSource !== mapping || version !== this.#aliasVersion) {
      // `default` first (some clients preselect the first model), pointing where it resolves now.
      const defaultId = defaultModelId(mapping);
      const targets: [string, string][] = defaultId === null ? [] : [['default', defaultId]];
      for (const [id, target] of Object.entries(mapping.aliases)) if (id !== 'default') targets.push([id, target]);
      this.#aliases = targets.map(([id, target]) => ({
        id,
        object: 'model' as const,
        created: 0,
        owned_by: 'bedrock-bridge',
        bedrock_model_id: target,
      }));
      this.#aliasByName = new Map(this.#aliases.map((entry) => [entry.id, entry]));
      this.#aliasSource = mapping;
      this.#aliasVersion = version;
    }
    return { list: this.#aliases, byName: this.#aliasByName };
  }

  async list(): Promise<ModelListing> {
    const { catalog, error } = await this.#current();
    const aliases = this.#currentAliases().list;
    return { data: catalog ? [...aliases, ...catalog.entries] : [...aliases], degraded: error };
  }

  /** The foundation models and inference profiles as the control plane listed them; null and why when it could not be read. */
  async summaries(): Promise<{ summaries: BedrockSummaries | null; degraded: string | null }> {
    const { catalog, error } = await this.#current();
    return { summaries: catalog?.summaries ?? null, degraded: error };
  }

  /** An alias, foundation model id/ARN, or inference profile id/ARN. */
  async find(id: string): Promise<{ entry: ModelEntry | null; degraded: string | null }> {
    const alias = this.#currentAliases().byName.get(id);
    if (alias) return { entry: alias, degraded: null };
    const { catalog, error } = await this.#current();
    return { entry: catalog?.byName.get(id) ?? null, degraded: error };
  }

  /**
   * The model id whose traits shape a request to `modelId` and whose price it costs. An application
   * inference profile's ARN says nothing about its model: the system-defined id it behaves like
   * (`us.anthropic...`, or a foundation model id) comes from the profile list, read once more when an
   * unknown profile is first used. Anything else, or a profile that cannot be found, is its own answer.
   */
  async effectiveModelOf(modelId: string): Promise<string> {
    if (!isApplicationInferenceProfile(modelId)) return modelId;
    const known = this.#cached?.catalog?.profileRoutes.get(modelId);
    if (known !== undefined) return known;
    const waitMs = this.#options.profileLookupTimeoutMs ?? 5_000;
    // A control plane that takes connections but never answers (or the SDK's retries of one that
    // refuses them) must not hold a chat request for minutes.
    const current = await withinMs(this.#current(this.#firstLookup(modelId)), waitMs);
    const found = current?.catalog?.profileRoutes.get(modelId);
    if (found !== undefined) return found;
    if (!this.#warnedProfiles.has(modelId) && this.#warnedProfiles.size < MAX_TRACKED_PROFILES) {
      this.#warnedProfiles.add(modelId);
      const reason =
        current === null
          ? `the profile list did not arrive within ${waitMs} ms`
          : (this.#lastFailure ?? 'not among the account\'s application inference profiles');
      (this.#options.onUnresolvedProfile ?? warnUnresolvedProfile)(modelId, reason);
    }
    return modelId;
  }

  /** True when `profileArn` was not looked for recently: worth reading the profile list again. */
  #firstLookup(profileArn: string): boolean {
    const now = (this.#options.now ?? Date.now)();
    const last = this.#profileLookups.get(profileArn);
    if (last !== undefined && now - last < this.#failureTtl()) return false;
    if (this.#profileLookups.size >= MAX_TRACKED_PROFILES) this.#profileLookups.clear();
    this.#profileLookups.set(profileArn, now);
    return true;
  }

  #failureTtl(): number {
    return this.#options.failureTtlMs ?? 30_000;
  }

  /** Forget the cache (e.g. after the credentials changed). */
  invalidate(): void {
    this.#cached = null;
  }

  /** `refresh`: read again even when a good catalog is still fresh (a recent failure is not retried). */
  async #current(refresh = false): Promise<{ catalog: BedrockCatalog | null; error: string | null }> {
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#cached;
    if (cached) {
      const ttl = cached.catalog ? this.#options.ttlMs : this.#failureTtl();
      if (now - cached.at < ttl && !(refresh && cached.catalog)) return cached;
    }
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = null;
    });
    await this.#pending;
    return this.#cached ?? { catalog: null, error: 'model catalog unavailable' };
  }

  async #refresh(): Promise<void> {
    const at = (this.#options.now ?? Date.now)();
    try {
      const catalog = await this.#read();
      this.#cached = { at, catalog, error: null };
      this.#lastFailure = null;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = messageOf(error);
      const failure = `${name}: ${message}`;
      // Keep serving a previous good catalog if there is one.
      const previous = this.#cached?.catalog ?? null;
      this.#cached = previous ? { at, catalog: previous, error: null } : { at, catalog: null, error: failure };
      const firstOfRun = this.#lastFailure === null;
      this.#lastFailure = failure;
      if (firstOfRun) this.#options.onError?.(error);
    }
  }

  async #read(): Promise<BedrockCatalog> {
    const { client } = this.#options;
    const [foundation, ...profilePages] = await Promise.all([
      client.send(new ListFoundationModelsCommand({})),
      ...PROFILE_TYPES.map((type) => this.#allProfiles(type)),
    ]);
    const entries: ModelEntry[] = [];
    const byName = new Map<string, ModelEntry>();
    const profileRoutes = new Map<string, string>();
    const seen = new Set<string>();
    for (const model of foundation.modelSummaries ?? []) {
      if (!model.modelId || seen.has(model.modelId)) continue;
      seen.add(model.modelId);
      const entry: ModelEntry = { id: model.modelId, object: 'model', created: 0, owned_by: model.providerName ?? 'bedrock' };
      entries.push(entry);
      byName.set(model.modelId, entry);
      if (model.modelArn) byName.set(model.modelArn, entry);
    }
    for (const profiles of profilePages) {
      for (const profile of profiles) {
        // Application profiles are invoked by ARN; system-defined ones by their id (us.anthropic...).
        const id = profile.type === 'APPLICATION' ? profile.inferenceProfileArn : profile.inferenceProfileId;
        if (!id || seen.has(id)) continue;
        seen.add(id);
        const created = profile.createdAt ? Math.floor(profile.createdAt.getTime() / 1000) : 0;
        const entry: ModelEntry = { id, object: 'model', created, owned_by: 'bedrock-inference-profile' };
        entries.push(entry);
        byName.set(id, entry);
        if (profile.inferenceProfileArn) byName.set(profile.inferenceProfileArn, entry);
        if (profile.inferenceProfileId) byName.set(profile.inferenceProfileId, entry);
        if (profile.type === 'APPLICATION' && profile.inferenceProfileArn) {
          const route = profileRouteId((profile.models ?? []).flatMap((model) => (model.modelArn ? [model.modelArn] : [])));
          if (route !== null) profileRoutes.set(profile.inferenceProfileArn, route);
        }
      }
    }
    return { summaries: { foundationModels: foundation.modelSummaries ?? [], inferenceProfiles: profilePages.flat() }, entries, byName, profileRoutes };
  }

  async #allProfiles(typeEquals: InferenceProfileType) {
    const { client } = this.#options;
    const profiles = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListInferenceProfilesCommand({ typeEquals, nextToken, maxResults: 1000 }));
      profiles.push(...(page.inferenceProfileSummaries ?? []));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken && pages < 100);
    return profiles;
  }
}
