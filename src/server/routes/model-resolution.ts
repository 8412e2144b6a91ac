import { resolveModel, type ModelMapping, type ResolvedModel } from '../../core/model-catalog.ts';
import type { RequestLog } from '../request-log.ts';

/** The model id a request's traits and price follow: the one behind an application inference profile. */
export type EffectiveModelOf = (modelId: string) => Promise<string>;

export interface RequestModel extends ResolvedModel {
  /** See EffectiveModelOf; equal to modelId unless that is an application inference profile. */
  effectiveModelId: string;
}

/** Resolves a request's `model` through the mapping and records all three names in its log. */
export async function resolveRequestModel(requested: string | null | undefined, mapping: ModelMapping, effectiveModelOf: EffectiveModelOf, log: RequestLog): Promise<RequestModel> {
  const resolved = resolveModel(requested, mapping, log.region);
  log.requestedModel = resolved.requested;
  log.modelId = resolved.modelId;
  const effectiveModelId = await effectiveModelOf(resolved.modelId);
  log.effectiveModelId = effectiveModelId;
  // The live log shows the model as soon as it is known, not only when the request ends.
  log.progress(0);
  return { ...resolved, effectiveModelId };
}
