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
    const profile = claudeProfileOf(model.name, region)!;
    if (!listed.has(model.name) && (degraded || listed.has(profile))) {
      claudeNames.push({ id: model.name, object: 'model', created: 0, owned_by: 'bedrock-bridge', bedrock_model_id: profile });
    }
  }
  const entries = [...claudeNames, ...data].map((entry) => ({
    type: 'model',
    id: entry.id,
    display_name: entry.bedrock_model_id ? `${entry.id} (${entry.bedrock_model_id})` : entry.id,
    created_at: new Date(entry.created * 1000).toISOString(),
  }));
  return { data: entries, has_more: false, first_id: entries[0]?.id ?? null, last_id: entries.at(-1)?.id ?? null };
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
export function retrieveModelHandler(modelList: ModelList) {
  return async function retrieveModel(c: Context): Promise<Response> {
    const id = c.req.param('id') ?? '';
    const { entry, degraded } = await modelList.find(id);
    if (!entry) return openAIErrorResponse(unknownModelError(id));
    return jsonResponse(entry, degradedHeaders(degraded));
  };
}
