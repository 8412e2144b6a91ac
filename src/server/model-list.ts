import {
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  type BedrockClient,
  type InferenceProfileType,
} from '@aws-sdk/client-bedrock';
import type { ModelMapping } from '../core/model-catalog.ts';

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
  now?: () => number;
}

const PROFILE_TYPES: InferenceProfileType[] = ['SYSTEM_DEFINED', 'APPLICATION'];

interface BedrockCatalog {
  entries: ModelEntry[];
  /** Every name a model can be looked up by (id and ARN) -> its entry. */
  byName: Map<string, ModelEntry>;
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
  #failing = false;

  constructor(options: ModelListOptions) {
    this.#options = options;
  }

  /** The alias entries, rebuilt when the (mutable) mapping changed since the last call. */
  #currentAliases(): { list: ModelEntry[]; byName: Map<string, ModelEntry> } {
    const mapping = this.#options.mapping;
    const version = `${mapping.defaultModel ?? ''}\u0000${JSON.stringify(mapping.aliases)}`;
    if (this.#aliasSource !== mapping || version !== this.#aliasVersion) {
      const aliases: Record<string, string> = { ...mapping.aliases };
      if (mapping.defaultModel && aliases.default === undefined) aliases.default = mapping.defaultModel;
      this.#aliases = Object.entries(aliases).map(([id, target]) => ({
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

  /** An alias, foundation model id/ARN, or inference profile id/ARN. */
  async find(id: string): Promise<{ entry: ModelEntry | null; degraded: string | null }> {
    const alias = this.#currentAliases().byName.get(id);
    if (alias) return { entry: alias, degraded: null };
    const { catalog, error } = await this.#current();
    return { entry: catalog?.byName.get(id) ?? null, degraded: error };
  }

  /** Forget the cache (e.g. after the credentials changed). */
  invalidate(): void {
    this.#cached = null;
  }

  async #current(): Promise<{ catalog: BedrockCatalog | null; error: string | null }> {
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#cached;
    if (cached) {
      const ttl = cached.catalog ? this.#options.ttlMs : (this.#options.failureTtlMs ?? 30_000);
      if (now - cached.at < ttl) return cached;
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
      this.#failing = false;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      // Keep serving a previous good catalog if there is one.
      const previous = this.#cached?.catalog ?? null;
      this.#cached = previous
        ? { at, catalog: previous, error: null }
        : { at, catalog: null, error: `${name}: ${message}` };
      if (!this.#failing) {
        this.#failing = true;
        this.#options.onError?.(error);
      }
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
      }
    }
    return { entries, byName };
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
