/**
 * Claude's first-party model names (what Claude Code and the Anthropic SDKs send: `claude-sonnet-4-5`,
 * `claude-sonnet-4-5-20250929`, `claude-opus-4-1`, …) -> Bedrock foundation model ids, and what each
 * Claude model accepts in Anthropic's native body on Bedrock. One row per model: add a row when
 * Anthropic ships one (Claude Code's own catalogue lists `provider_ids.bedrock` for each).
 */

export interface ClaudeModel {
  /** The undated first-party name (`claude-sonnet-4-5`). */
  name: string;
  /** The dated first-party name, where the model has one (`claude-sonnet-4-5-20250929`). */
  dated?: string;
  /** The Bedrock foundation model id, without a geography prefix. */
  bedrock: string;
  /** `thinking: {type: "adaptive"}` and `output_config.effort` (Claude 4.6 and later). */
  adaptiveThinking: boolean;
  /** Extended thinking with `budget_tokens` (Claude 3.7 and later). */
  thinking: boolean;
  /** Input tokens the model takes without the 1M-context beta. */
  contextWindow: number;
  /** `role: "system"` messages inside `messages` (Claude Code sends them to models it does not know, too). */
  midConversationSystem: boolean;
}

const MILLION = 1_000_000;

function row(name: string, dated: string | null, bedrock: string, traits: { adaptive?: boolean; thinking?: boolean; window?: number; midSystem?: boolean } = {}): ClaudeModel {
  const model: ClaudeModel = {
    name,
    bedrock,
    adaptiveThinking: traits.adaptive ?? false,
    thinking: traits.thinking ?? true,
    contextWindow: traits.window ?? 200_000,
    midConversationSystem: traits.midSystem ?? false,
  };
  if (dated !== null) model.dated = dated;
  return model;
}

export const CLAUDE_MODELS: readonly ClaudeModel[] = [
  row('claude-3-5-haiku', 'claude-3-5-haiku-20241022', 'anthropic.claude-3-5-haiku-20241022-v1:0', { thinking: false }),
  row('claude-3-5-sonnet', 'claude-3-5-sonnet-20241022', 'anthropic.claude-3-5-sonnet-20241022-v2:0', { thinking: false }),
  row('claude-3-7-sonnet', 'claude-3-7-sonnet-20250219', 'anthropic.claude-3-7-sonnet-20250219-v1:0'),
  row('claude-sonnet-4-0', 'claude-sonnet-4-20250514', 'anthropic.claude-sonnet-4-20250514-v1:0'),
  row('claude-opus-4-0', 'claude-opus-4-20250514', 'anthropic.claude-opus-4-20250514-v1:0'),
  row('claude-opus-4-1', 'claude-opus-4-1-20250805', 'anthropic.claude-opus-4-1-20250805-v1:0'),
  row('claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', 'anthropic.claude-sonnet-4-5-20250929-v1:0'),
  row('claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'anthropic.claude-haiku-4-5-20251001-v1:0'),
  row('claude-opus-4-5', 'claude-opus-4-5-20251101', 'anthropic.claude-opus-4-5-20251101-v1:0'),
  row('claude-sonnet-4-6', null, 'anthropic.claude-sonnet-4-6', { adaptive: true }),
  row('claude-opus-4-6', null, 'anthropic.claude-opus-4-6-v1', { adaptive: true }),
  row('claude-opus-4-7', null, 'anthropic.claude-opus-4-7', { adaptive: true, window: MILLION }),
  row('claude-opus-4-8', null, 'anthropic.claude-opus-4-8', { adaptive: true, window: MILLION, midSystem: true }),
  row('claude-sonnet-5', null, 'anthropic.claude-sonnet-5', { adaptive: true, window: MILLION, midSystem: true }),
  row('claude-fable-5', null, 'anthropic.claude-fable-5', { adaptive: true, window: MILLION, midSystem: true }),
];

const byName = new Map<string, ClaudeModel>();
const byBedrockId = new Map<string, ClaudeModel>();
for (const model of CLAUDE_MODELS) {
  byName.set(model.name, model);
  // claude-sonnet-4-0 is also called claude-sonnet-4.
  if (model.name.endsWith('-0')) byName.set(model.name.slice(0, -2), model);
  if (model.dated) byName.set(model.dated, model);
  byBedrockId.set(model.bedrock, model);
}

// Claude Code names a model with a 1M context window `…[1m]` in its settings (and strips it before sending).
const CONTEXT_SUFFIX = /\[1m\]$/i;

/** The Claude model a first-party name stands for; undefined for any other name. */
export function claudeModelNamed(name: string): ClaudeModel | undefined {
  return byName.get(name.toLowerCase().replace(CONTEXT_SUFFIX, ''));
}

/** The Claude model behind a Bedrock foundation model id (no geography prefix); undefined when not in the table. */
export function claudeModelOfBedrockId(baseModelId: string): ClaudeModel | undefined {
  return byBedrockId.get(baseModelId);
}

// Claude 4.6 and later, by id, for models newer than the table (application profiles, new releases).
const ADAPTIVE_ID = /claude-(?:(?:opus|sonnet|haiku)-4-(?:[6-9]|\d\d)|[a-z]+-(?:[5-9]|\d\d))(?![0-9])/;
const NO_THINKING_ID = /claude-(?:instant|v2|3-(?:haiku|sonnet|opus|5-))/;

/** What a Claude model on Bedrock accepts, from the table, else from its id. */
export function claudeTraitsOf(baseModelId: string): Pick<ClaudeModel, 'adaptiveThinking' | 'thinking' | 'contextWindow' | 'midConversationSystem'> {
  const known = byBedrockId.get(baseModelId);
  if (known) return known;
  return { adaptiveThinking: ADAPTIVE_ID.test(baseModelId), thinking: !NO_THINKING_ID.test(baseModelId), contextWindow: 200_000, midConversationSystem: false };
}

/** The 1M-token context beta (Claude Sonnet 4 and later). */
export const CONTEXT_1M_BETA = 'context-1m-2025-08-07';

/** The input tokens a request may hold: the model's window, or 1M under the 1M-context beta. */
export function contextWindowOf(baseModelId: string, betas: readonly string[]): number {
  return betas.includes(CONTEXT_1M_BETA) ? Math.max(MILLION, claudeTraitsOf(baseModelId).contextWindow) : claudeTraitsOf(baseModelId).contextWindow;
}
