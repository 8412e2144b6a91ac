import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Context } from 'hono';
import { toEmbeddingInvocations, toEmbeddingsResponse } from '../../core/embeddings.ts';
import { embeddingFamily, type ModelMapping } from '../../core/model-catalog.ts';
import { fromBedrockError, OpenAIError } from '../../core/openai-errors.ts';
import { parseEmbeddingsRequest } from '../../core/openai-schemas.ts';
import type { JsonBodyVariables } from '../guards/json-body.ts';
import { CLIENT_CLOSED } from './chat.ts';
import { resolveRequestModel, type EffectiveModelOf } from './model-resolution.ts';
import { onRawResponse, tokenCountHeader } from './raw-response.ts';
import { jsonResponse, modelNameOf, openAIErrorResponse, type RequestLogVariables } from '../request-log.ts';

export interface EmbeddingsRouteDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  effectiveModelOf: EffectiveModelOf;
  /** Bedrock calls in flight at once for one request (Titan takes one text per call). */
  concurrency?: number;
}

const decoder = new TextDecoder();
const INPUT_TOKEN_COUNT_HEADER = 'x-amzn-bedrock-input-token-count';

/** Runs `task` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** POST /v1/embeddings: one InvokeModel per invocation the family needs, bounded concurrency. */
export function embeddingsHandler(deps: EmbeddingsRouteDeps) {
  const { runtime, models, effectiveModelOf } = deps;
  const concurrency = deps.concurrency ?? 8;

  return async function embeddings(c: Context<{ Variables: JsonBodyVariables & RequestLogVariables }>): Promise<Response> {
    const log = c.get('requestLog');
    const body = c.get('jsonBody');
    log.requestedModel = modelNameOf(body);
    // One failing call cancels the others.
    const abort = new AbortController();
    const clientSignal = c.req.raw.signal;
    const onClientGone = () => abort.abort(new Error('client disconnected'));
    clientSignal.addEventListener('abort', onClientGone, { once: true });
    try {
      const request = parseEmbeddingsRequest(body);
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      // An application inference profile is invoked by its ARN, in the request shape of the model behind it.
      const family = embeddingFamily(resolved.effectiveModelId);
      if (!family) {
        throw new OpenAIError(
          400,
          `The model '${resolved.requested ?? resolved.modelId}' (${resolved.modelId}) is not an embedding model Bedrock Bridge supports: use Amazon Titan Text Embeddings V2 or Cohere Embed v3/v4.`,
          { type: 'invalid_request_error', code: 'model_not_supported', param: 'model' },
        );
      }
      const invocations = toEmbeddingInvocations(request, resolved.effectiveModelId);
      // Bedrock's count of each call, which the SDK's output leaves out.
      const tokenCounts = new Array<number | undefined>(invocations.length);
      const results = await mapBounded(invocations, concurrency, async (invocation, index) => {
        try {
          const command = new InvokeModelCommand({
            modelId: resolved.modelId,
            body: invocation.body,
            contentType: 'application/json',
            accept: 'application/json',
          });
          onRawResponse(command, (raw) => {
            tokenCounts[index] = tokenCountHeader(raw, INPUT_TOKEN_COUNT_HEADER);
          });
          const output = await runtime.send(command, { abortSignal: abort.signal });
          return JSON.parse(decoder.decode(output.body)) as unknown;
        } catch (error) {
          abort.abort(error);
          throw error;
        }
      });
      const response = toEmbeddingsResponse(family, results, request, resolved.requested ?? resolved.modelId, tokenCounts);
      log.usage = { inputTokens: response.usage.prompt_tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
      log.finish(200, null);
      return jsonResponse(response, { 'x-request-id': log.id });
    } catch (error) {
      const failure = fromBedrockError(error);
      const clientGone = clientSignal.aborted;
      log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
      return openAIErrorResponse(failure, log.id);
    } finally {
      clientSignal.removeEventListener('abort', onClientGone);
    }
  };
}
