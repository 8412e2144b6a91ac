import { createHash, randomUUID } from 'node:crypto';
import { validationError } from './aws-errors.ts';
import type { EmulatedModel } from './catalog.ts';
import { countWords, scriptedDelayMs } from './scripted-model.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export interface EmbeddingResult {
  body: unknown;
  inputTokens: number;
  /** From a `[[slow:…]]` marker in the texts: the answer waits this long (0: at once). */
  delayMs: number;
}

/**
 * A deterministic unit vector for a text: SHA-256 in counter mode seeds the components, so the same
 * text (and dimension) always gives the same vector, and different texts give different ones.
 */
export function deterministicVector(text: string, dimensions: number, normalize = true): number[] {
  const out = new Array<number>(dimensions);
  let block = 0;
  let bytes = Buffer.alloc(0);
  let offset = 0;
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    if (offset + 2 > bytes.length) {
      bytes = createHash('sha256').update(`${block++}:${text}`).digest();
      offset = 0;
    }
    const v = (bytes.readUInt16BE(offset) / 65535) * 2 - 1;
    offset += 2;
    out[i] = v;
    norm += v * v;
  }
  if (normalize) {
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
    for (let i = 0; i < dimensions; i++) out[i] = out[i]! * scale;
  }
  return out;
}

function malformed(detail: string): never {
  throw validationError(`Malformed input request: ${detail}, please reformat your input and try again.`);
}

function quantize(vector: number[], type: string): number[] {
  switch (type) {
    case 'int8':
      return vector.map((v) => Math.max(-128, Math.min(127, Math.round(v * 127))));
    case 'uint8':
      return vector.map((v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))));
    case 'binary':
    case 'ubinary': {
      const packed: number[] = [];
      for (let i = 0; i < vector.length; i += 8) {
        let byte = 0;
        for (let b = 0; b < 8; b++) byte = (byte << 1) | ((vector[i + b] ?? 0) > 0 ? 1 : 0);
        packed.push(type === 'binary' ? byte - 128 : byte);
      }
      return packed;
    }
    default:
      return vector;
  }
}

/** Titan Text Embeddings V2: `{inputText, dimensions?, normalize?, embeddingTypes?}`. */
function titanV2(body: Json): EmbeddingResult {
  if (typeof body !== 'object' || body === null) malformed('#: expected type: JSONObject');
  const known = new Set(['inputText', 'dimensions', 'normalize', 'embeddingTypes']);
  for (const key of Object.keys(body)) if (!known.has(key)) malformed(`#: extraneous key [${key}] is not permitted`);
  if (typeof body.inputText !== 'string') malformed('#: required key [inputText] not found');
  if (body.inputText.length === 0) malformed('#/inputText: expected minLength: 1, actual: 0');
  if (body.inputText.length > 50_000) malformed(`#/inputText: expected maxLength: 50000, actual: ${body.inputText.length}`);
  const dimensions = body.dimensions ?? 1024;
  if (![256, 512, 1024].includes(dimensions)) malformed(`#/dimensions: ${String(dimensions)} is not a valid enum value`);
  const normalize = body.normalize ?? true;
  const types: string[] = body.embeddingTypes ?? ['float'];
  const embedding = deterministicVector(body.inputText, dimensions, normalize);
  const byType: Record<string, number[]> = {};
  for (const type of types) {
    if (type === 'float') byType.float = embedding;
    else if (type === 'binary') byType.binary = embedding.map((v) => (v > 0 ? 1 : 0));
    else malformed(`#/embeddingTypes/0: ${String(type)} is not a valid enum value`);
  }
  const inputTextTokenCount = countWords(body.inputText);
  return { body: { embedding, embeddingsByType: byType, inputTextTokenCount }, inputTokens: inputTextTokenCount, delayMs: scriptedDelayMs(body.inputText) };
}

const COHERE_INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);
const COHERE_EMBEDDING_TYPES = new Set(['float', 'int8', 'uint8', 'binary', 'ubinary']);

/** Cohere Embed v3 (`texts`, 1024 dims) and v4 (`texts`/`inputs`, `output_dimension`, always by type). */
function cohere(body: Json, v4: boolean): EmbeddingResult {
  if (typeof body !== 'object' || body === null) malformed('#: expected type: JSONObject');
  const texts: unknown = body.texts;
  const images: unknown = body.images;
  const inputs: unknown = body.inputs;
  if (texts === undefined && images === undefined && !(v4 && inputs !== undefined)) malformed('#: required key [texts] not found');
  const textList: string[] = [];
  if (texts !== undefined) {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) malformed('#/texts: expected type: JSONArray of strings');
    if (texts.length > 96) malformed(`#/texts: expected maximum item count: 96, found: ${texts.length}`);
    if (texts.length === 0) malformed('#/texts: expected minimum item count: 1, found: 0');
    textList.push(...(texts as string[]));
  }
  if (v4 && Array.isArray(inputs)) {
    for (const input of inputs) {
      for (const part of input?.content ?? []) if (part?.type === 'text' && typeof part.text === 'string') textList.push(part.text);
    }
  }
  const imageList: string[] = Array.isArray(images) ? images.map(String) : [];
  if (typeof body.input_type !== 'string' || !COHERE_INPUT_TYPES.has(body.input_type)) {
    if (body.input_type === undefined) malformed('#: required key [input_type] not found');
    malformed(`#/input_type: ${String(body.input_type)} is not a valid enum value`);
  }
  const types: string[] | undefined = body.embedding_types;
  if (types !== undefined) {
    if (!Array.isArray(types)) malformed('#/embedding_types: expected type: JSONArray');
    for (const t of types) if (!COHERE_EMBEDDING_TYPES.has(t)) malformed(`#/embedding_types/0: ${String(t)} is not a valid enum value`);
  }
  let dimensions = 1024;
  if (v4) {
    dimensions = body.output_dimension ?? 1536;
    if (![256, 512, 1024, 1536].includes(dimensions)) malformed(`#/output_dimension: ${String(dimensions)} is not a valid enum value`);
  } else if (body.output_dimension !== undefined) {
    malformed('#: extraneous key [output_dimension] is not permitted');
  }
  const all = [...textList, ...imageList];
  const floats = all.map((t) => deterministicVector(t, dimensions, true));
  const inputTokens = textList.reduce((n, t) => n + countWords(t), 0) + imageList.length;
  const id = randomUUID();
  const delayMs = scriptedDelayMs(textList.join(' '));
  if (!v4 && types === undefined) {
    return { body: { id, texts: textList, embeddings: floats, response_type: 'embeddings_floats' }, inputTokens, delayMs };
  }
  const byType: Record<string, number[][]> = {};
  for (const type of types ?? ['float']) byType[type] = type === 'float' ? floats : floats.map((f) => quantize(f, type));
  const out: Record<string, unknown> = { id, texts: textList, embeddings: byType, response_type: 'embeddings_by_type' };
  if (imageList.length > 0) out.images = imageList.map(() => ({ width: 1, height: 1, format: 'png', bit_depth: 8 }));
  return { body: out, inputTokens, delayMs };
}

/** InvokeModel for an embedding model: the model's native request -> native response. */
export function invokeEmbeddingModel(model: EmulatedModel, body: Json): EmbeddingResult {
  switch (model.kind) {
    case 'titan-embed-v2':
      return titanV2(body);
    case 'cohere-embed-v3':
      return cohere(body, false);
    case 'cohere-embed-v4':
      return cohere(body, true);
    default:
      throw validationError('The provided model is not an embedding model.');
  }
}
