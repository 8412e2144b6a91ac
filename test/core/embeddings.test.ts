import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toEmbeddingInvocations, toEmbeddingsResponse, encodeFloat32Base64 } from '../../src/core/embeddings.ts';
import { parseEmbeddingsRequest } from '../../src/core/openai-schemas.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

const TITAN = 'amazon.titan-embed-text-v2:0';
const COHERE3 = 'cohere.embed-english-v3';
const COHERE4 = 'us.cohere.embed-v4:0';

function req(body: Record<string, unknown>) {
  return parseEmbeddingsRequest({ model: 'text-embedding-3-small', ...body });
}

function is400(fn: () => unknown, param: string) {
  assert.throws(fn, (e: unknown) => e instanceof OpenAIError && e.status === 400 && e.param === param);
}

test('Titan: one normalised invocation per text, with dimensions when asked', () => {
  assert.deepEqual(toEmbeddingInvocations(req({ input: 'hello' }), TITAN), [{ body: '{"inputText":"hello","normalize":true}', inputs: 1 }]);
  const many = toEmbeddingInvocations(req({ input: ['a', 'b "quoted"'], dimensions: 256 }), TITAN);
  assert.deepEqual(many, [
    { body: '{"inputText":"a","dimensions":256,"normalize":true}', inputs: 1 },
    { body: '{"inputText":"b \\"quoted\\"","dimensions":256,"normalize":true}', inputs: 1 },
  ]);
  assert.deepEqual(JSON.parse(many[1]!.body), { inputText: 'b "quoted"', dimensions: 256, normalize: true });
  is400(() => toEmbeddingInvocations(req({ input: 'x', dimensions: 1536 }), TITAN), 'dimensions');
});

test('Cohere v3: batches of at most 96 texts; dimensions only 1024', () => {
  const texts = Array.from({ length: 100 }, (_, i) => `t${i}`);
  const calls = toEmbeddingInvocations(req({ input: texts }), COHERE3);
  assert.deepEqual(calls.map((c) => c.inputs), [96, 4]);
  assert.deepEqual(JSON.parse(calls[1]!.body), { texts: ['t96', 't97', 't98', 't99'], input_type: 'search_document', embedding_types: ['float'] });
  assert.equal(JSON.parse(toEmbeddingInvocations(req({ input: 'q', input_type: 'search_query' }), COHERE3)[0]!.body).input_type, 'search_query');
  toEmbeddingInvocations(req({ input: 'x', dimensions: 1024 }), COHERE3);
  is400(() => toEmbeddingInvocations(req({ input: 'x', dimensions: 512 }), COHERE3), 'dimensions');
});

test('Cohere v4: dimensions map to output_dimension', () => {
  assert.deepEqual(JSON.parse(toEmbeddingInvocations(req({ input: ['x'], dimensions: 512 }), COHERE4)[0]!.body), {
    texts: ['x'],
    input_type: 'search_document',
    embedding_types: ['float'],
    output_dimension: 512,
  });
  is400(() => toEmbeddingInvocations(req({ input: 'x', dimensions: 300 }), COHERE4), 'dimensions');
});

test('a chat model is not an embeddings model', () => {
  is400(() => toEmbeddingInvocations(req({ input: 'x' }), 'anthropic.claude-3-haiku-20240307-v1:0'), 'model');
});

test('Titan results -> OpenAI list with token usage', () => {
  const request = req({ input: ['a', 'b'] });
  const response = toEmbeddingsResponse('titan-v2', [{ embedding: [0.1, 0.2], inputTextTokenCount: 3 }, { embedding: [0.3, 0.4], inputTextTokenCount: 4 }], request, 'text-embedding-3-small');
  assert.deepEqual(response, {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
      { object: 'embedding', index: 1, embedding: [0.3, 0.4] },
    ],
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 7, total_tokens: 7 },
  });
});

test('base64 is little-endian float32, as OpenAI sends it', () => {
  const response = toEmbeddingsResponse('titan-v2', [{ embedding: [1, -2.5], inputTextTokenCount: 1 }], req({ input: 'a', encoding_format: 'base64' }), 'm');
  const encoded = response.data[0]!.embedding as string;
  assert.equal(encoded, encodeFloat32Base64([1, -2.5]));
  const bytes = Buffer.from(encoded, 'base64');
  assert.equal(bytes.length, 8);
  assert.equal(bytes.readFloatLE(0), 1);
  assert.equal(bytes.readFloatLE(4), -2.5);
  assert.equal(encoded, 'AACAPwAAIMA=');
});

test('Cohere results in both shapes, indices continue across batches; token counts from headers or estimated', () => {
  const request = req({ input: ['aaaa', 'bbbbbbbb', 'c'] });
  const byType = { id: '1', response_type: 'embeddings_by_type', embeddings: { float: [[1], [2]] }, texts: ['aaaa', 'bbbbbbbb'] };
  const floats = { id: '2', response_type: 'embeddings_floats', embeddings: [[3]], texts: ['c'] };
  const response = toEmbeddingsResponse('cohere-v3', [byType, floats], request, 'm', [5, undefined]);
  assert.deepEqual(response.data.map((d) => [d.index, d.embedding]), [[0, [1]], [1, [2]], [2, [3]]]);
  assert.deepEqual(response.usage, { prompt_tokens: 5 + 1, total_tokens: 6 });
});

test('an unexpected body shape throws (the server reports a 5xx)', () => {
  assert.throws(() => toEmbeddingsResponse('titan-v2', [{ nope: 1 }], req({ input: 'a' }), 'm'));
  assert.throws(() => toEmbeddingsResponse('cohere-v3', [{ embeddings: 'x' }], req({ input: 'a' }), 'm'));
});

test("token counts: Bedrock's header first for Cohere, the body's count first for Titan, else the other", () => {
  const cohere = { embeddings: [[1]], meta: { billed_units: { input_tokens: 2 } } };
  assert.equal(toEmbeddingsResponse('cohere-v3', [cohere], req({ input: 'a' }), 'm', [7]).usage.prompt_tokens, 7);
  assert.equal(toEmbeddingsResponse('cohere-v3', [cohere], req({ input: 'a' }), 'm', [undefined]).usage.prompt_tokens, 2);
  const titan = { embedding: [0.1], inputTextTokenCount: 3 };
  assert.equal(toEmbeddingsResponse('titan-v2', [titan], req({ input: 'a' }), 'm', [7]).usage.prompt_tokens, 3);
  assert.equal(toEmbeddingsResponse('titan-v2', [{ embedding: [0.1] }], req({ input: 'a' }), 'm', [7]).usage.prompt_tokens, 7);
  assert.equal(toEmbeddingsResponse('titan-v2', [{ embedding: [0.1] }], req({ input: 'abcdefgh' }), 'm').usage.prompt_tokens, 2, 'estimated: characters / 4');
});
