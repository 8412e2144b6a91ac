import type { Context } from 'hono';
import { CLAUDE_MODELS } from '../../core/claude-models.ts';
import { claudeProfileOf } from '../../core/model-catalog.ts';
import { unknownModelError } from '../../core/openai-errors.ts';
import type { ModelEntry, ModelList } from '../model-list.ts';
import { jsonResponse, openAIErrorResponse } from '../request-log.ts';

/** Set when the Bedrock part of the list could not be read; the aliases are still served. */
export const DEGRADED_HEADER = 'x-bedrock-bridge-models-degraded';

function degradedHeaders(degraded: string | null): Record<string, string> | undefined {
  // Header values must be single-line latin1; the message is diagnostic only.
  return degraded ? { [DEGRADED_HEADER]: degraded.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300) } : undefined;
}

/**
 * Anthropic's model list (`GET /v1/models` with an `anthropic-version` header: Claude Code's gateway
 * model discovery): the aliases, the Claude first-party names whose inference profile the region has
 * (all of them when the catalog cannot be read), then every Bedrock model and profile.
 */
function anthropicModelList(data: readonly ModelEntry[], region: string, degraded: boolean): unknown {
  const listed = new Set(data.map((entry) => entry.id));
  const claudeNames: ModelEntry[] = [];
  for (const model of CLAUDE_MODELS) {
    const entry = claudeNameEntry(model.name, region)!;
    if (!listed.has(model.name) && (degraded || listed.has(entry.bedrock_model_id!))) claudeNames.push(entry);
  }
  const entries = [...claudeNames, ...data].map(anthropicModel);
  return { data: entries, has_more: false, first_id: entries[0]?.id ?? null, last_id: entries.at(-1)?.id ?? null };
}

/** A Claude first-party name as a list entry pointing at its profile in the region; null for other names. */
function claudeNameEntry(name: string, region: string): ModelEntry | null {
  const profile = claudeProfileOf(name, region);
  return profile === null ? null : { id: name, object: 'model', created: 0, owned_by: 'bedrock-bridge', bedrock_model_id: profile };
}

/** One model in Anthropic's shape. */
function anthropicModel(entry: ModelEntry): Record<string, string> {
  return {
    type: 'model',
    id: entry.id,
    display_name: entry.bedrock_model_id ? `${entry.id} (${entry.bedrock_model_id})` : entry.id,
    created_at: new Date(entry.created * 1000).toISOString(),
  };
}

/** GET /v1/models: OpenAI's list, or Anthropic's when the request carries `anthropic-version`. */
export function listModelsHandler(modelList: ModelList, region: string) {
  return async function listModels(c: Context): Promise<Response> {
    const { data, degraded } = await modelList.list();
    const body = c.req.header('anthropic-version') ? anthropicModelList(data, region, degraded !== null) : { object: 'list', data };
    return jsonResponse(body, degradedHeaders(degraded));
  };
}

/**
 * GET /v1/models/{id}. Ids contain `:` and, for ARNs, `/`: the route captures the rest of the path and
 * hono decodes it, so both `.../models/arn:aws:...:application-inference-profile/abc` and the
 * `%2F`-encoded form work.
 */
export function retrieveModelHandler(modelList: ModelList, region: string) {
  return async function retrieveModel(c: Context): Promise<Response> {
    const id = c.req.param('id') ?? '';
    const anthropic = c.req.header('anthropic-version') !== undefined;
    const found = await modelList.find(id);
    // An Anthropic client may ask for a Claude name the way it sends it (it resolves on /v1/messages).
    const entry = found.entry ?? (anthropic ? claudeNameEntry(id, region) : null);
    if (!entry) return openAIErrorResponse(unknownModelError(id));
    return jsonResponse(anthropic ? anthropicModel(entry) : entry, degradedHeaders(found.degraded));
  };
}
