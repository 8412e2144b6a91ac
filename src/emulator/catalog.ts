import { EmulatedAwsError, validationError } from './aws-errors.ts';

/** The emulated account that owns inference profiles and application profiles. */
export const EMULATOR_ACCOUNT_ID = '111122223333';

export type ModelKind = 'chat' | 'titan-embed-v2' | 'cohere-embed-v3' | 'cohere-embed-v4';

export interface EmulatedModel {
  modelId: string;
  modelName: string;
  providerName: string;
  kind: ModelKind;
  inputModalities: string[];
  outputModalities: string[];
  /** 'ON_DEMAND' and/or 'INFERENCE_PROFILE' (profile-only models reject their bare id, as on AWS). */
  inferenceTypes: string[];
  maxOutputTokens: number;
  /** Claude Sonnet/Haiku 4.5 and Opus 4.1+ reject temperature together with topP. */
  rejectsTemperatureWithTopP: boolean;
  /** Accepts outputConfig.textFormat (structured output). */
  structuredOutput: boolean;
  /** Accepts Anthropic extended thinking (additionalModelRequestFields.thinking). */
  reasoning: boolean;
  /** Claude 4.6+: `thinking: {type: "adaptive"}` and `output_config.effort` (older models refuse both). */
  adaptiveThinking: boolean;
  /** The account has not been granted access: every invocation gets AccessDeniedException. */
  accessDenied: boolean;
  lifecycle: 'ACTIVE' | 'LEGACY';
  /** Profile prefixes (`us`, `global`) with a system-defined inference profile for this model. */
  profiles: string[];
}

interface ModelSeed {
  id: string;
  name: string;
  provider: string;
  kind?: ModelKind;
  in?: string[];
  out?: string[];
  types: ('ON_DEMAND' | 'INFERENCE_PROFILE')[];
  maxOut?: number;
  noTempWithTopP?: boolean;
  structured?: boolean;
  reasoning?: boolean;
  adaptive?: boolean;
  denied?: boolean;
  legacy?: boolean;
  profiles?: string[];
}

const SEEDS: ModelSeed[] = [
  { id: 'anthropic.claude-sonnet-4-6', name: 'Claude Sonnet 4.6', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 64000, noTempWithTopP: true, structured: true, reasoning: true, adaptive: true, profiles: ['us', 'global'] },
  { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', name: 'Claude Sonnet 4.5', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 64000, noTempWithTopP: true, structured: true, reasoning: true, profiles: ['us', 'global'] },
  { id: 'anthropic.claude-haiku-4-5-20251001-v1:0', name: 'Claude Haiku 4.5', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 64000, noTempWithTopP: true, structured: true, reasoning: true, profiles: ['us', 'global'] },
  { id: 'anthropic.claude-opus-4-5-20251101-v1:0', name: 'Claude Opus 4.5', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 64000, noTempWithTopP: true, structured: true, reasoning: true, profiles: ['us', 'global'] },
  { id: 'anthropic.claude-opus-4-1-20250805-v1:0', name: 'Claude Opus 4.1', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 32000, noTempWithTopP: true, structured: true, reasoning: true, profiles: ['us'] },
  { id: 'anthropic.claude-sonnet-4-20250514-v1:0', name: 'Claude Sonnet 4', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 64000, reasoning: true, profiles: ['us', 'global'] },
  { id: 'anthropic.claude-3-haiku-20240307-v1:0', name: 'Claude 3 Haiku', provider: 'Anthropic', in: ['TEXT', 'IMAGE'], types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 4096, legacy: true, profiles: ['us'] },
  { id: 'amazon.nova-micro-v1:0', name: 'Nova Micro', provider: 'Amazon', types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 10000, profiles: ['us'] },
  { id: 'amazon.nova-lite-v1:0', name: 'Nova Lite', provider: 'Amazon', in: ['TEXT', 'IMAGE', 'VIDEO'], types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 10000, profiles: ['us'] },
  { id: 'amazon.nova-pro-v1:0', name: 'Nova Pro', provider: 'Amazon', in: ['TEXT', 'IMAGE', 'VIDEO'], types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 10000, profiles: ['us'] },
  { id: 'amazon.nova-premier-v1:0', name: 'Nova Premier', provider: 'Amazon', in: ['TEXT', 'IMAGE', 'VIDEO'], types: ['INFERENCE_PROFILE'], maxOut: 32000, profiles: ['us'] },
  { id: 'meta.llama3-1-8b-instruct-v1:0', name: 'Llama 3.1 8B Instruct', provider: 'Meta', types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 2048, profiles: ['us'] },
  { id: 'meta.llama3-3-70b-instruct-v1:0', name: 'Llama 3.3 70B Instruct', provider: 'Meta', types: ['INFERENCE_PROFILE'], maxOut: 8192, profiles: ['us'] },
  { id: 'meta.llama4-maverick-17b-instruct-v1:0', name: 'Llama 4 Maverick 17B Instruct', provider: 'Meta', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 8192, profiles: ['us'] },
  { id: 'mistral.mistral-large-2402-v1:0', name: 'Mistral Large (24.02)', provider: 'Mistral AI', types: ['ON_DEMAND'], maxOut: 8192 },
  { id: 'mistral.mistral-small-2402-v1:0', name: 'Mistral Small (24.02)', provider: 'Mistral AI', types: ['ON_DEMAND'], maxOut: 8192 },
  { id: 'mistral.pixtral-large-2502-v1:0', name: 'Pixtral Large (25.02)', provider: 'Mistral AI', in: ['TEXT', 'IMAGE'], types: ['INFERENCE_PROFILE'], maxOut: 8192, profiles: ['us'] },
  { id: 'ai21.jamba-1-5-large-v1:0', name: 'Jamba 1.5 Large', provider: 'AI21 Labs', types: ['ON_DEMAND'], maxOut: 4096, denied: true },
  { id: 'amazon.titan-embed-text-v2:0', name: 'Titan Text Embeddings V2', provider: 'Amazon', kind: 'titan-embed-v2', out: ['EMBEDDING'], types: ['ON_DEMAND'], maxOut: 0 },
  { id: 'cohere.embed-english-v3', name: 'Embed English', provider: 'Cohere', kind: 'cohere-embed-v3', out: ['EMBEDDING'], types: ['ON_DEMAND'], maxOut: 0 },
  { id: 'cohere.embed-multilingual-v3', name: 'Embed Multilingual', provider: 'Cohere', kind: 'cohere-embed-v3', out: ['EMBEDDING'], types: ['ON_DEMAND'], maxOut: 0 },
  { id: 'cohere.embed-v4:0', name: 'Embed v4', provider: 'Cohere', kind: 'cohere-embed-v4', in: ['TEXT', 'IMAGE'], out: ['EMBEDDING'], types: ['ON_DEMAND', 'INFERENCE_PROFILE'], maxOut: 0, profiles: ['us', 'global'] },
];

export const EMULATED_MODELS: readonly EmulatedModel[] = SEEDS.map((s) => ({
  modelId: s.id,
  modelName: s.name,
  providerName: s.provider,
  kind: s.kind ?? 'chat',
  inputModalities: s.in ?? ['TEXT'],
  outputModalities: s.out ?? ['TEXT'],
  inferenceTypes: s.types,
  maxOutputTokens: s.maxOut ?? 8192,
  rejectsTemperatureWithTopP: s.noTempWithTopP ?? false,
  structuredOutput: s.structured ?? false,
  reasoning: s.reasoning ?? false,
  adaptiveThinking: s.adaptive ?? false,
  accessDenied: s.denied ?? false,
  lifecycle: s.legacy ? 'LEGACY' : 'ACTIVE',
  profiles: s.profiles ?? [],
}));

export interface InferenceProfileSummary {
  inferenceProfileName: string;
  inferenceProfileId: string;
  inferenceProfileArn: string;
  description: string;
  models: { modelArn: string }[];
  status: 'ACTIVE';
  type: 'SYSTEM_DEFINED' | 'APPLICATION';
  createdAt: string;
  updatedAt: string;
}

const PROFILE_REGIONS: Record<string, string[]> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  global: ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'ap-northeast-1'],
};
const PROFILE_LABEL: Record<string, string> = { us: 'US', global: 'Global' };
const CREATED_AT = '2025-10-01T00:00:00.000Z';

/** The id of the chat application inference profile (it routes to the US Claude Sonnet 4.5 profile). */
export const APPLICATION_PROFILE_ID = 'a1b2c3d4e5f6';
/** The id of the embeddings application inference profile (Titan Text Embeddings V2, in the emulator's region only). */
export const EMBEDDINGS_APPLICATION_PROFILE_ID = 'f6e5d4c3b2a1';

export interface ResolvedModel {
  model: EmulatedModel;
  /** The inference profile the request went through, if any. */
  profile?: InferenceProfileSummary;
}

/** Foundation models and inference profiles of one emulated region, with id/ARN resolution. */
export class ModelCatalog {
  readonly region: string;
  readonly models: readonly EmulatedModel[];
  readonly profiles: readonly InferenceProfileSummary[];
  readonly #byId = new Map<string, ResolvedModel>();
  readonly #modelById = new Map<string, EmulatedModel>();
  readonly #profileByIdOrArn = new Map<string, InferenceProfileSummary>();

  constructor(region: string) {
    this.region = region;
    this.models = EMULATED_MODELS;
    const profiles: InferenceProfileSummary[] = [];
    for (const model of EMULATED_MODELS) {
      this.#modelById.set(model.modelId, model);
      for (const prefix of model.profiles) {
        const id = `${prefix}.${model.modelId}`;
        const regions = PROFILE_REGIONS[prefix] ?? [region];
        const models = regions.map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${model.modelId}` }));
        if (prefix === 'global') models.push({ modelArn: `arn:aws:bedrock:::foundation-model/${model.modelId}` });
        profiles.push({
          inferenceProfileName: `${PROFILE_LABEL[prefix] ?? prefix} ${model.providerName} ${model.modelName}`,
          inferenceProfileId: id,
          inferenceProfileArn: `arn:aws:bedrock:${region}:${EMULATOR_ACCOUNT_ID}:inference-profile/${id}`,
          description: prefix === 'global'
            ? `Routes requests to ${model.modelName} in all commercial AWS Regions.`
            : `Routes requests to ${model.modelName} in ${regions.join(', ')}.`,
          models,
          status: 'ACTIVE',
          type: 'SYSTEM_DEFINED',
          createdAt: CREATED_AT,
          updatedAt: CREATED_AT,
        });
      }
    }
    const sonnet = profiles.find((p) => p.inferenceProfileId === 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')!;
    const appArn = `arn:aws:bedrock:${region}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${APPLICATION_PROFILE_ID}`;
    profiles.push({
      inferenceProfileName: 'team-chat',
      inferenceProfileId: APPLICATION_PROFILE_ID,
      inferenceProfileArn: appArn,
      description: 'Application inference profile for cost tracking (tag team=platform).',
      models: sonnet.models,
      status: 'ACTIVE',
      type: 'APPLICATION',
      createdAt: '2025-11-01T00:00:00.000Z',
      updatedAt: '2025-11-01T00:00:00.000Z',
    });
    profiles.push({
      inferenceProfileName: 'search-index',
      inferenceProfileId: EMBEDDINGS_APPLICATION_PROFILE_ID,
      inferenceProfileArn: `arn:aws:bedrock:${region}:${EMULATOR_ACCOUNT_ID}:application-inference-profile/${EMBEDDINGS_APPLICATION_PROFILE_ID}`,
      description: 'Application inference profile for embeddings (tag team=search).',
      models: [{ modelArn: `arn:aws:bedrock:${region}::foundation-model/amazon.titan-embed-text-v2:0` }],
      status: 'ACTIVE',
      type: 'APPLICATION',
      createdAt: '2025-11-02T00:00:00.000Z',
      updatedAt: '2025-11-02T00:00:00.000Z',
    });
    this.profiles = profiles;

    for (const model of EMULATED_MODELS) {
      this.#byId.set(model.modelId, { model });
      this.#byId.set(`arn:aws:bedrock:${region}::foundation-model/${model.modelId}`, { model });
    }
    for (const profile of profiles) {
      const modelId = profile.models[0]!.modelArn.slice(profile.models[0]!.modelArn.indexOf('/') + 1);
      const model = this.#modelById.get(modelId)!;
      this.#profileByIdOrArn.set(profile.inferenceProfileArn, profile);
      this.#byId.set(profile.inferenceProfileArn, { model, profile });
      if (profile.type === 'SYSTEM_DEFINED') {
        this.#profileByIdOrArn.set(profile.inferenceProfileId, profile);
        this.#byId.set(profile.inferenceProfileId, { model, profile });
      }
    }
  }

  /** The foundation model behind an id, foundation-model ARN, inference profile id or ARN; undefined if unknown. */
  lookup(modelId: string): ResolvedModel | undefined {
    return this.#byId.get(modelId);
  }

  /** Resolves as Bedrock's runtime does, with its errors: unknown id, profile-only model, no access. */
  resolveForInvocation(modelId: string): ResolvedModel {
    return this.#resolve(modelId, true);
  }

  /**
   * Resolves as CountTokens does: it takes the foundation model id, also of a model that runs only
   * through inference profiles (it runs nothing).
   */
  resolveForCountTokens(modelId: string): ResolvedModel {
    return this.#resolve(modelId, false);
  }

  #resolve(modelId: string, invoked: boolean): ResolvedModel {
    const resolved = this.#byId.get(modelId);
    if (!resolved) throw validationError('The provided model identifier is invalid.');
    if (invoked && !resolved.profile && !resolved.model.inferenceTypes.includes('ON_DEMAND')) {
      throw validationError(
        `Invocation of model ID ${resolved.model.modelId} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
      );
    }
    if (resolved.model.accessDenied) {
      throw new EmulatedAwsError('AccessDeniedException', "You don't have access to the model with the specified model ID.");
    }
    return resolved;
  }

  getModel(modelId: string): EmulatedModel | undefined {
    return this.#modelById.get(modelId);
  }

  getProfile(idOrArn: string): InferenceProfileSummary | undefined {
    return this.#profileByIdOrArn.get(idOrArn);
  }

  foundationModelSummary(model: EmulatedModel): Record<string, unknown> {
    return {
      modelArn: `arn:aws:bedrock:${this.region}::foundation-model/${model.modelId}`,
      modelId: model.modelId,
      modelName: model.modelName,
      providerName: model.providerName,
      inputModalities: model.inputModalities,
      outputModalities: model.outputModalities,
      responseStreamingSupported: model.kind === 'chat',
      customizationsSupported: [],
      inferenceTypesSupported: model.inferenceTypes,
      modelLifecycle: { status: model.lifecycle },
    };
  }
}
