import type { TokenUsage } from '../core/request-events.ts';
import bundledPrices from './prices.json' with { type: 'json' };

/** USD per million tokens. A null/absent cache price means "not published": tokens of that kind make the cost unknown. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number | null;
  cacheWrite?: number | null;
}

export interface PriceEntry extends ModelPrice {
  /** Multiplier for geographic profiles and in-region calls when the listed rate is the global one. */
  geoPremium?: number;
  /** Per-region rates that differ from the entry's own. */
  regions?: Record<string, ModelPrice>;
}

export interface PriceTableData {
  source: string;
  retrieved: string;
  currency: string;
  unit?: string;
  notes?: string;
  models: Record<string, PriceEntry>;
}

/**
 * Settings overrides: keyed by a base model id (`anthropic.claude-...`) or an exact profile id
 * (`us.anthropic.claude-...`) or application-inference-profile ARN; an exact key wins over the base.
 */
export type PriceOverrides = Record<string, PriceEntry>;

export interface ResolvedPrice extends ModelPrice {
  /** The key the price came from. */
  key: string;
  from: 'override' | 'table';
  multiplier: number;
}

/** Prefixes of system-defined cross-region inference profiles. */
const PROFILE_PREFIX = /^(us|eu|apac|jp|au|ca|us-gov|global)\./;

/**
 * The model id inside a Bedrock id, profile id or ARN: strips the ARN part, then any
 * cross-region profile prefix. `prefix` is that prefix ('global', 'us', ...) or null.
 */
export function parseModelId(modelId: string): { bare: string; base: string; prefix: string | null } {
  let bare = modelId.trim();
  if (bare.startsWith('arn:')) {
    const slash = bare.indexOf('/');
    const resource = slash >= 0 ? bare.slice(0, slash) : bare;
    // Application inference profiles have opaque ids: only an override keyed by the whole ARN prices them.
    if (resource.endsWith(':application-inference-profile')) return { bare, base: bare, prefix: null };
    bare = slash >= 0 ? bare.slice(slash + 1) : bare;
  }
  const match = PROFILE_PREFIX.exec(bare);
  if (!match) return { bare, base: bare, prefix: null };
  return { bare, base: bare.slice(match[0].length), prefix: match[1]! };
}

function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

export class PriceTable {
  readonly source: string;
  readonly retrieved: string;
  readonly currency: string;
  readonly #models: Record<string, PriceEntry>;
  readonly #overrides: PriceOverrides;

  constructor(data: PriceTableData = bundledPrices as PriceTableData, overrides: PriceOverrides = {}) {
    this.source = data.source;
    this.retrieved = data.retrieved;
    this.currency = data.currency;
    this.#models = data.models;
    this.#overrides = overrides;
  }

  /**
   * The price that applies to a model id / profile / ARN in a region, or null when unknown.
   * `routesAs`: for an application inference profile, the system-defined id it behaves like
   * (profileRouteId); an override keyed by the profile's own ARN still wins.
   */
  priceFor(modelId: string | null, region: string, routesAs: string | null = null): ResolvedPrice | null {
    if (!modelId) return null;
    if (routesAs !== null && routesAs !== modelId) {
      const own = this.#overrides[modelId.trim()];
      return own ? this.#resolve(own, modelId.trim(), 'override', region, 1) : this.priceFor(routesAs, region);
    }
    const { bare, base, prefix } = parseModelId(modelId);
    const exactKeys = modelId === bare ? [bare] : [modelId, bare];
    for (const key of exactKeys) {
      const override = this.#overrides[key];
      if (override) return this.#resolve(override, key, 'override', region, 1);
    }
    if (base !== bare) {
      const tableExact = this.#models[bare];
      if (tableExact) return this.#resolve(tableExact, bare, 'table', region, 1);
    }
    const override = this.#overrides[base];
    const entry = override ?? this.#models[base];
    if (!entry) return null;
    const multiplier = prefix === 'global' ? 1 : (entry.geoPremium ?? 1);
    return this.#resolve(entry, base, override ? 'override' : 'table', region, multiplier);
  }

  #resolve(entry: PriceEntry, key: string, from: 'override' | 'table', region: string, multiplier: number): ResolvedPrice | null {
    const regional = entry.regions?.[region];
    const price: ModelPrice = regional ?? entry;
    if (!isFiniteNonNegative(price.input) || !isFiniteNonNegative(price.output)) return null;
    return {
      key,
      from,
      multiplier,
      input: price.input,
      output: price.output,
      cacheRead: price.cacheRead ?? null,
      cacheWrite: price.cacheWrite ?? null,
    };
  }

  /**
   * Estimated USD for a request; null when the model (or a cache rate it needs) is unknown.
   * Never returns 0 for an unknown price.
   */
  cost(modelId: string | null, region: string, usage: TokenUsage, routesAs: string | null = null): number | null {
    const price = this.priceFor(modelId, region, routesAs);
    if (!price) return null;
    let total = usage.inputTokens * price.input + usage.outputTokens * price.output;
    if (usage.cacheReadTokens > 0) {
      if (!isFiniteNonNegative(price.cacheRead)) return null;
      total += usage.cacheReadTokens * price.cacheRead;
    }
    if (usage.cacheWriteTokens > 0) {
      if (!isFiniteNonNegative(price.cacheWrite)) return null;
      total += usage.cacheWriteTokens * price.cacheWrite;
    }
    return roundUsd((total * price.multiplier) / 1_000_000);
  }
}

/** The bundled table (src/usage/prices.json) with settings overrides on top. */
export function loadPriceTable(overrides: PriceOverrides = {}): PriceTable {
  return new PriceTable(bundledPrices as PriceTableData, overrides);
}
