import type { Context } from 'hono';
import { unknownModelError } from '../../core/openai-errors.ts';
import type { ModelList } from '../model-list.ts';
import { jsonResponse, openAIErrorResponse } from '../request-log.ts';

/** Set when the Bedrock part of the list could not be read; the aliases are still served. */
export const DEGRADED_HEADER = 'x-bedrock-bridge-models-degraded';

function degradedHeaders(degraded: string | null): Record<string, string> | undefined {
  // Header values must be single-line latin1; the message is diagnostic only.
  return degraded ? { [DEGRADED_HEADER]: degraded.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300) } : undefined;
}

/** GET /v1/models */
export function listModelsHandler(modelList: ModelList) {
  return async function listModels(_c: Context): Promise<Response> {
    const { data, degraded } = await modelList.list();
    return jsonResponse({ object: 'list', data }, degradedHeaders(degraded));
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
