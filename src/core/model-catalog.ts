/**
 * Model names: aliases a client knows (gpt-4o, ...) -> Bedrock model ids / inference profiles / ARNs,
 * and what each Bedrock model can do (traits that shape the Converse request).
 */
import { claudeModelNamed } from './claude-models.ts';
import { OpenAIError, unknownModelError } from './openai-errors.ts';

export interface ModelMapping {
  aliases: Record<string, string>;
  /** What `default` (and a request without a model) calls: an alias or a Bedrock id; null for none. */
  defaultModel: string | null;
}

export interface ResolvedModel {
  /** What the client asked for, as it asked; null when it sent no model. */
  requested: string | null;
  /** The Bedrock model id, inference profile id or ARN to call. */
  modelId: string;
}

const SONNET = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
const OPUS = 'global.anthropic.claude-opus-4-5-20251101-v1:0';
const TITAN_EMBED = 'amazon.titan-embed-text-v2:0';
const COHERE_EMBED = 'cohere.embed-english-v3';

/** The default model out of the box: the model `gpt-4o` stands for, so `default` works with no configuration. */
export const DEFAULT_MODEL = SONNET;

/**
 * Names OpenAI-first tools default to, mapped to current Claude models through global cross-region
 * inference profiles (they work from any commercial region that has Bedrock). Users override or
 * extend these with `--model ALIAS=ID` or the settings file.
 */
export const DEFAULT_ALIASES: Record<string, string> = {
  'gpt-4o': SONNET,
  'gpt-4o-mini': HAIKU,
  'gpt-4.1': SONNET,
  'gpt-4.1-mini': HAIKU,
  'gpt-4.1-nano': HAIKU,
  'gpt-4-turbo': SONNET,
  'gpt-4': SONNET,
  'gpt-3.5-turbo': HAIKU,
  'gpt-5': OPUS,
  'gpt-5-mini': SONNET,
  'gpt-5-nano': HAIKU,
  o1: OPUS,
  o3: OPUS,
  'o3-mini': SONNET,
  'o4-mini': SONNET,
  'claude-sonnet': SONNET,
  'claude-haiku': HAIKU,
  'claude-opus': OPUS,
  'text-embedding-3-small': TITAN_EMBED,
  'text-embedding-3-large': COHERE_EMBED,
  'text-embedding-ada-002': TITAN_EMBED,
};

// A foundation model id (provider.model[:version]) with an optional geography prefix of a
// system-defined inference profile (us., eu., apac., us-gov., global., jp., au., ...).
// The provider is letters/digits without '-', and the model part starts with a letter, so
// names like gpt-4.1, claude-3.5-sonnet, llama3.1 or qwen2.5-coder are not mistaken for ids.
const BEDROCK_ID_PATTERN = /^(?:[a-z]{2,6}(?:-gov)?\.)?[a-z][a-z0-9]*\.[a-z][a-z0-9._:-]*$/;
const BEDROCK_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]*:\d{0,12}:[a-z-]+\/\S+$/;

export function isBedrockModelId(value: string): boolean {
  return BEDROCK_ID_PATTERN.test(value) || BEDROCK_ARN_PATTERN.test(value);
}

const APPLICATION_PROFILE_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]*:\d{0,12}:application-inference-profile\/\S+$/;

/** An application inference profile's ARN: opaque, it does not say which model it routes to. */
export function isApplicationInferenceProfile(modelId: string): boolean {
  return APPLICATION_PROFILE_ARN_PATTERN.test(modelId);
}

/**
 * The system-defined inference profile of a Claude first-party name (`claude-sonnet-4-5`, dated or not)
 * in the region's geography (`us.anthropic.claude-sonnet-4-5-20250929-v1:0` from us-east-1), as Claude
 * Code itself picks in its Bedrock mode; null for other names or without a region.
 */
export function claudeProfileOf(name: string, region: string | undefined): string | null {
  if (region === undefined) return null;
  const model = claudeModelNamed(name);
  return model ? `${geographyOf(region)}.${model.bedrock}` : null;
}

// `default` is never an alias target of its own, so a default model named `default` cannot loop.
// Aliases come first: a user's alias for a Claude name wins over its built-in profile.
function targetOf(name: string, mapping: ModelMapping, region?: string): string | null {
  if (name !== 'default' && Object.hasOwn(mapping.aliases, name)) {
    const target = mapping.aliases[name]!;
    return claudeProfileOf(target, region) ?? target;
  }
  return isBedrockModelId(name) ? name : claudeProfileOf(name, region);
}

/** The configured default model's name; an alias named `default` counts where no default model is set. */
function configuredDefault(mapping: ModelMapping): string | null {
  return mapping.defaultModel ?? (Object.hasOwn(mapping.aliases, 'default') ? mapping.aliases.default! : null);
}

/** The Bedrock id `default` stands for, or null when no default model is set or it names nothing known. */
export function defaultModelId(mapping: ModelMapping, region?: string): string | null {
  const name = configuredDefault(mapping);
  return name === null ? null : targetOf(name, mapping, region);
}

/**
 * A request's model name -> the Bedrock id to call: an alias, a Bedrock id or ARN as is, or (given the
 * region) a Claude first-party name as its inference profile there.
 */
export function resolveModel(requested: string | undefined | null, mapping: ModelMapping, region?: string): ResolvedModel {
  const name = typeof requested === 'string' ? requested.trim() : '';
  if (name === '' || name === 'default') {
    const modelId = defaultModelId(mapping, region);
    if (!modelId) {
      const configured = configuredDefault(mapping);
      const asked = name === '' ? 'No model was given' : "The model 'default' was asked for";
      throw new OpenAIError(
        400,
        configured === null
          ? `${asked} and no default model is configured.`
          : `${asked}, but the default model '${configured}' is neither an alias nor a Bedrock model id.`,
        { type: 'invalid_request_error', code: 'model_not_found', param: 'model' },
      );
    }
    return { requested: name === '' ? null : name, modelId };
  }
  const modelId = targetOf(name, mapping, region);
  if (modelId !== null) return { requested: name, modelId };
  throw unknownModelError(name);
}

export type EmbeddingFamily = 'titan-v2' | 'cohere-v3' | 'cohere-v4';

const TITAN_V2_PATTERN = /(?:^|[./])amazon\.titan-embed-text-v2/;
const COHERE_V3_PATTERN = /(?:^|[./])cohere\.embed-(?:english|multilingual)-v3/;
const COHERE_V4_PATTERN = /(?:^|[./])cohere\.embed-v4/;

export function embeddingFamily(modelId: string): EmbeddingFamily | null {
  if (TITAN_V2_PATTERN.test(modelId)) return 'titan-v2';
  if (COHERE_V3_PATTERN.test(modelId)) return 'cohere-v3';
  if (COHERE_V4_PATTERN.test(modelId)) return 'cohere-v4';
  return null;
}

export interface ModelTraits {
  /** An Anthropic Claude model (directly or through an inference profile). */
  anthropic: boolean;
  /** Claude 4.1+ answer 400 when both temperature and top_p are sent. */
  rejectsTemperatureWithTopP: boolean;
  /** reasoning_effort can be honoured (see `reasoning` for how). */
  supportsReasoning: boolean;
  /** Converse `outputConfig.textFormat` (JSON schema structured output). */
  supportsNativeStructuredOutput: boolean;
  /** Converse `cachePoint` blocks. */
  supportsPromptCache: boolean;
  /**
   * How reasoning_effort maps: Anthropic extended thinking (`thinking.budget_tokens`), the
   * `reasoning_effort` field of OpenAI's open-weight models, a model that always reasons, or none.
   */
  reasoning: 'anthropic-thinking' | 'reasoning-effort' | 'always' | null;
  /** The largest maxTokens the model accepts (Bedrock rejects more), where known; null otherwise. */
  maxOutputTokens: number | null;
}

// Strips an ARN's resource type and a geography prefix: what is left is a foundation model id.
const ARN_PREFIX_PATTERN = /^arn:[^/]*\//;
const GEO_PREFIX_PATTERN = /^[a-z]{2,6}(?:-gov)?\.(?=[a-z][a-z0-9]*\.)/;
const CLAUDE_4_1_PLUS = /claude-(?:opus|sonnet|haiku)-(?:4-[1-9]|[5-9])(?![0-9])/;
const CLAUDE_THINKING = /claude-(?:3-7-sonnet|(?:opus|sonnet|haiku)-[4-9](?![0-9]))/;
const CLAUDE_CACHE = /claude-(?:3-5-haiku|3-7-sonnet|(?:opus|sonnet|haiku)-[4-9](?![0-9]))/;
// Anthropic's published output limits of the Claude models with extended thinking. The date after
// the version keeps opus-4-5 (64K) from matching opus-4(-1) (32K).
const CLAUDE_32K_OUTPUT = /claude-opus-4-(?:1-)?20\d{6}/;
const CLAUDE_64K_OUTPUT = /claude-(?:3-7-sonnet|sonnet-4|sonnet-4-5|haiku-4-5|opus-4-5)-20\d{6}/;
const NOVA = /^amazon\.nova-/;
const GPT_OSS = /^openai\.gpt-oss/;
const ALWAYS_REASONS = /^deepseek\.r1/;

const traitCache = new Map<string, ModelTraits>();

export function baseModelId(modelId: string): string {
  return modelId.replace(ARN_PREFIX_PATTERN, '').replace(GEO_PREFIX_PATTERN, '');
}

// The geography prefix of system-defined profiles by a region's first part (us-east-1 -> us).
const GEOGRAPHY_PREFIX: Record<string, string> = { us: 'us', eu: 'eu', ap: 'apac', ca: 'ca' };

/** us-gov-west-1 -> us-gov, ap-south-1 -> apac; a geography without a known prefix keeps its own name. */
function geographyOf(region: string): string {
  if (region.startsWith('us-gov-')) return 'us-gov';
  const part = region.split('-')[0]!;
  return GEOGRAPHY_PREFIX[part] ?? part;
}

// Countries inside Asia Pacific with system-defined profiles of their own (jp.…, au.…).
const COUNTRY_PREFIX: ReadonlyArray<readonly [string, ReadonlySet<string>]> = [
  ['jp', new Set(['ap-northeast-1', 'ap-northeast-3'])],
  ['au', new Set(['ap-southeast-2', 'ap-southeast-4'])],
];

/** The prefix of regions that share one geography: a country's own when every region is in it. */
function prefixOf(geography: string, regions: ReadonlySet<string>): string {
  if (geography !== 'apac') return geography;
  const country = COUNTRY_PREFIX.find(([, members]) => [...regions].every((region) => members.has(region)));
  return country ? country[0] : geography;
}

/**
 * The system-defined id an application inference profile behaves like, from the model ARNs it routes
 * to (ListInferenceProfiles' `models`): the foundation model id when it routes to one region,
 * `<geography>.<model>` across regions of one geography, `global.<model>` when it lists the
 * region-less ARN of a global profile or spans geographies. Model traits and prices follow from it
 * (a cross-region profile is priced as one). Null when the list is empty or names several models.
 */
export function profileRouteId(modelArns: readonly string[]): string | null {
  const models = new Set(modelArns.map(baseModelId));
  if (models.size !== 1) return null;
  const model = [...models][0]!;
  const regions = new Set(modelArns.map((arn) => arn.split(':')[3] ?? ''));
  if (regions.size === 1 && !regions.has('')) return model;
  if (regions.has('')) return `global.${model}`;
  const geographies = new Set([...regions].map(geographyOf));
  return geographies.size === 1 ? `${prefixOf([...geographies][0]!, regions)}.${model}` : `global.${model}`;
}

export function modelTraits(modelId: string): ModelTraits {
  const cached = traitCache.get(modelId);
  if (cached) return cached;
  const base = baseModelId(modelId);
  const anthropic = base.startsWith('anthropic.');
  const modern = anthropic && CLAUDE_4_1_PLUS.test(base);
  const reasoning: ModelTraits['reasoning'] =
    anthropic && CLAUDE_THINKING.test(base) ? 'anthropic-thinking' : GPT_OSS.test(base) ? 'reasoning-effort' : ALWAYS_REASONS.test(base) ? 'always' : null;
  const traits: ModelTraits = {
    anthropic,
    rejectsTemperatureWithTopP: modern,
    supportsReasoning: reasoning !== null,
    supportsNativeStructuredOutput: modern,
    supportsPromptCache: (anthropic && CLAUDE_CACHE.test(base)) || NOVA.test(base),
    reasoning,
    maxOutputTokens: !anthropic ? null : CLAUDE_32K_OUTPUT.test(base) ? 32000 : CLAUDE_64K_OUTPUT.test(base) ? 64000 : null,
  };
  if (traitCache.size < 1000) traitCache.set(modelId, traits);
  return traits;
}
