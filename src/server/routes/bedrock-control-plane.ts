import type { Context } from 'hono';
import { resolveModel, type ModelMapping } from '../../core/model-catalog.ts';
import { dialectErrorResponse } from '../dialect.ts';
import type { BedrockSummaries, ModelList } from '../model-list.ts';
import { jsonResponse } from '../request-log.ts';

/**
 * The read-only Bedrock control-plane calls a Bedrock client makes on start (Claude Code in Bedrock
 * mode lists the system-defined inference profiles, then reads the one it will use), answered from
 * the bridge's model catalogue in the control plane's JSON shape. One page holds everything: no
 * `nextToken` is ever sent.
 */
export function bedrockControlPlaneHandlers(modelList: ModelList, models: ModelMapping) {
  const notFound = (message: string) => dialectErrorResponse('bedrock', { status: 404, message, type: 'not_found_error', code: null });

  async function withSummaries(answer: (summaries: BedrockSummaries) => Response): Promise<Response> {
    const { summaries, degraded } = await modelList.summaries();
    if (!summaries) {
      return dialectErrorResponse('bedrock', { status: 503, message: `The Bedrock model catalogue could not be read: ${degraded ?? 'unavailable'}`, type: 'api_error', code: null });
    }
    return answer(summaries);
  }

  /** An id or ARN as given, else what an alias of the bridge stands for. */
  const lookupNames = (id: string): string[] => {
    try {
      return [id, resolveModel(id, models).modelId];
    } catch {
      return [id];
    }
  };

  return {
    /** GET /inference-profiles (ListInferenceProfiles, `?type=`). */
    listInferenceProfiles: (c: Context) =>
      withSummaries(({ inferenceProfiles }) => {
        const type = c.req.query('type');
        return jsonResponse({ inferenceProfileSummaries: inferenceProfiles.filter((profile) => type === undefined || profile.type === type) });
      }),

    /** GET /inference-profiles/{id} (GetInferenceProfile): by id, ARN or alias. */
    getInferenceProfile: (c: Context) =>
      withSummaries(({ inferenceProfiles }) => {
        const names = lookupNames(c.req.param('id')!);
        const profile = inferenceProfiles.find((p) => names.includes(p.inferenceProfileId ?? '') || names.includes(p.inferenceProfileArn ?? ''));
        return profile ? jsonResponse(profile) : notFound('Inference profile not found.');
      }),

    /** GET /foundation-models (ListFoundationModels, `byProvider`, `byOutputModality`, `byInferenceType`). */
    listFoundationModels: (c: Context) =>
      withSummaries(({ foundationModels }) => {
        const provider = c.req.query('byProvider')?.toLowerCase();
        const output = c.req.query('byOutputModality');
        const inference = c.req.query('byInferenceType');
        const modelSummaries = foundationModels.filter(
          (model) =>
            (provider === undefined || model.providerName?.toLowerCase() === provider) &&
            (output === undefined || (model.outputModalities ?? []).includes(output as never)) &&
            (inference === undefined || (model.inferenceTypesSupported ?? []).includes(inference as never)),
        );
        return jsonResponse({ modelSummaries });
      }),

    /** GET /foundation-models/{id} (GetFoundationModel): by id, ARN or alias. */
    getFoundationModel: (c: Context) =>
      withSummaries(({ foundationModels }) => {
        const names = lookupNames(c.req.param('id')!);
        const model = foundationModels.find((m) => names.includes(m.modelId ?? '') || names.includes(m.modelArn ?? ''));
        return model ? jsonResponse({ modelDetails: model }) : notFound('The specified model was not found.');
      }),
  };
}
