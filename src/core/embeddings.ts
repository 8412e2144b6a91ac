/**
 * OpenAI /v1/embeddings <-> Bedrock InvokeModel bodies for Titan Text Embeddings V2 and Cohere Embed
 * v3 / v4. The server runs the invocations (Titan: one text per call, run concurrently) and hands the
 * parsed JSON bodies back, in call order, to toEmbeddingsResponse.
 */
import { embeddingFamily, type EmbeddingFamily } from './model-catalog.ts';
import { invalidRequest } from './openai-errors.ts';
import type { EmbeddingsRequest } from './openai-schemas.ts';

export const COHERE_BATCH_SIZE = 96;
export const TITAN_DIMENSIONS: readonly number[] = [256, 512, 1024];
export const COHERE_V3_DIMENSIONS: readonly number[] = [1024];
export const COHERE_V4_DIMENSIONS: readonly number[] = [256, 512, 1024, 1536];

export interface EmbeddingInvocation {
  /** The InvokeModel JSON body. */
  body: string;
  /** How many input texts this call embeds. */
  inputs: number;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** The texts to embed; token arrays and empty input are a 400. */
export function embeddingTexts(request: EmbeddingsRequest): string[] {
  const input = request.input;
  if (typeof input === 'string') {
    if (input === '') throw invalidRequest("'input' must not be empty.", 'input');
    return [input];
  }
  if (input.length === 0) throw invalidRequest("'input' must not be an empty array.", 'input');
  const texts: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const item = input[i];
    if (typeof item !== 'string') {
      throw invalidRequest('Token arrays are not supported as embeddings input by Bedrock models; send the text itself.', 'input', 'unsupported_parameter');
    }
    if (item === '') throw invalidRequest(`'input[${i}]' must not be empty.`, `input[${i}]`);
    texts.push(item);
  }
  return texts;
}

function familyOrThrow(modelId: string): EmbeddingFamily {
  const family = embeddingFamily(modelId);
  if (!family) {
    throw invalidRequest(
      `The model '${modelId}' is not a supported embeddings model (Titan Text Embeddings V2, Cohere Embed v3 or v4).`,
      'model',
      'model_not_supported',
    );
  }
  return family;
}

function checkDimensions(dimensions: number | null | undefined, allowed: readonly number[], family: string): void {
  if (dimensions != null && !allowed.includes(dimensions)) {
    throw invalidRequest(`dimensions ${dimensions} is not supported by ${family}; use one of ${allowed.join(', ')}.`, 'dimensions', 'unsupported_parameter');
  }
}

export function toEmbeddingInvocations(request: EmbeddingsRequest, modelId: string): EmbeddingInvocation[] {
  const family = familyOrThrow(modelId);
  const texts = embeddingTexts(request);
  if (family === 'titan-v2') {
    checkDimensions(request.dimensions, TITAN_DIMENSIONS, 'Titan Text Embeddings V2');
    // OpenAI's embeddings are unit length; Titan normalises when asked.
    const suffix = request.dimensions != null ? `,"dimensions":${request.dimensions},"normalize":true}` : ',"normalize":true}';
    return texts.map((text) => ({ body: `{"inputText":${JSON.stringify(text)}${suffix}`, inputs: 1 }));
  }
  if (family === 'cohere-v3') checkDimensions(request.dimensions, COHERE_V3_DIMENSIONS, 'Cohere Embed v3');
  else checkDimensions(request.dimensions, COHERE_V4_DIMENSIONS, 'Cohere Embed v4');
  const inputType = request.input_type ?? 'search_document';
  const invocations: EmbeddingInvocation[] = [];
  for (let start = 0; start < texts.length; start += COHERE_BATCH_SIZE) {
    const batch = texts.slice(start, start + COHERE_BATCH_SIZE);
    const body: Record<string, unknown> = { texts: batch, input_type: inputType, embedding_types: ['float'] };
    if (family === 'cohere-v4' && request.dimensions != null) body.output_dimension = request.dimensions;
    invocations.push({ body: JSON.stringify(body), inputs: batch.length });
  }
  return invocations;
}

/** Little-endian float32, base64: what OpenAI returns for encoding_format 'base64'. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const buffer = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i]!, i * 4);
  return buffer.toString('base64');
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && (value.length === 0 || typeof value[0] === 'number');
}

function cohereVectors(result: unknown): number[][] {
  const embeddings = (result as { embeddings?: unknown } | null)?.embeddings;
  // embedding_types given: { embeddings: { float: [[...]] } }; otherwise { embeddings: [[...]] }
  const list = Array.isArray(embeddings) ? embeddings : (embeddings as { float?: unknown } | undefined)?.float;
  if (!Array.isArray(list) || !list.every(isNumberArray)) throw new Error('Unexpected Cohere embeddings response shape');
  return list as number[][];
}

function cohereTokens(result: unknown): number | undefined {
  const meta = (result as { meta?: { billed_units?: { input_tokens?: unknown } } } | null)?.meta;
  const tokens = meta?.billed_units?.input_tokens;
  return typeof tokens === 'number' ? tokens : undefined;
}

/**
 * results: the parsed InvokeModel bodies in call order. tokenCounts (optional, per call): Bedrock's
 * `x-amzn-bedrock-input-token-count` header, what Bedrock bills. Cohere's bodies on Bedrock carry no
 * count, so the header decides (Cohere's own `meta.billed_units` only if it is missing); Titan's body
 * count comes first, the header when it is missing. Without either, characters / 4.
 */
export function toEmbeddingsResponse(
  family: EmbeddingFamily,
  results: unknown[],
  request: EmbeddingsRequest,
  model: string,
  tokenCounts?: readonly (number | undefined)[],
): EmbeddingsResponse {
  const base64 = request.encoding_format === 'base64';
  const texts = embeddingTexts(request);
  const data: EmbeddingsResponse['data'] = [];
  let tokens = 0;
  let index = 0;
  for (let call = 0; call < results.length; call++) {
    const result = results[call];
    let vectors: number[][];
    let count: number | undefined;
    if (family === 'titan-v2') {
      const body = result as { embedding?: unknown; inputTextTokenCount?: unknown } | null;
      if (!body || !isNumberArray(body.embedding)) throw new Error('Unexpected Titan embeddings response shape');
      vectors = [body.embedding];
      count = typeof body.inputTextTokenCount === 'number' ? body.inputTextTokenCount : tokenCounts?.[call];
    } else {
      vectors = cohereVectors(result);
      count = tokenCounts?.[call] ?? cohereTokens(result);
    }
    if (count === undefined) {
      let chars = 0;
      for (let k = 0; k < vectors.length; k++) chars += texts[index + k]?.length ?? 0;
      count = Math.ceil(chars / 4);
    }
    tokens += count;
    for (const vector of vectors) {
      data.push({ object: 'embedding', index: index++, embedding: base64 ? encodeFloat32Base64(vector) : vector });
    }
  }
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

export { embeddingFamily };
