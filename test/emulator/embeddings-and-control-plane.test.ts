import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockClient,
  GetFoundationModelCommand,
  GetInferenceProfileCommand,
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  paginateListInferenceProfiles,
  type InferenceProfileSummary,
} from '@aws-sdk/client-bedrock';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';

let emulator: RunningEmulator;
let runtime: BedrockRuntimeClient;
let control: BedrockClient;

before(async () => {
  emulator = await startEmulator();
  runtime = new BedrockRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', credentials: DEFAULT_EMULATOR_CREDENTIALS });
  control = new BedrockClient({ endpoint: emulator.url, region: 'us-east-1', credentials: DEFAULT_EMULATOR_CREDENTIALS });
});
after(async () => {
  runtime.destroy();
  control.destroy();
  await emulator.close();
});

async function invoke(modelId: string, body: unknown): Promise<any> {
  const out = await runtime.send(new InvokeModelCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json', accept: 'application/json' }));
  return JSON.parse(new TextDecoder().decode(out.body));
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

describe('InvokeModel embeddings', () => {
  it('Titan Text Embeddings V2: dimensions, normalized, deterministic, token count', async () => {
    const a = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'hello embedding world', dimensions: 256, normalize: true });
    assert.equal(a.embedding.length, 256);
    assert.equal(a.inputTextTokenCount, 3);
    assert.ok(Math.abs(norm(a.embedding) - 1) < 1e-9);
    const again = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'hello embedding world', dimensions: 256 });
    assert.deepEqual(again.embedding, a.embedding);
    const other = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'something else', dimensions: 256 });
    assert.notDeepEqual(other.embedding, a.embedding);
    const full = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'x' });
    assert.equal(full.embedding.length, 1024);
    await assert.rejects(invoke('amazon.titan-embed-text-v2:0', { inputText: 'x', dimensions: 100 }), { name: 'ValidationException', message: /dimensions/ });
    await assert.rejects(invoke('amazon.titan-embed-text-v2:0', { texts: ['x'] }), { name: 'ValidationException' });
    assert.deepEqual(emulator.recorder.last('InvokeModel')!.body, { texts: ['x'] });
  });

  it('Cohere Embed v3: floats by default, by type when asked, at most 96 texts', async () => {
    const out = await invoke('cohere.embed-english-v3', { texts: ['first text', 'second'], input_type: 'search_document' });
    assert.equal(out.response_type, 'embeddings_floats');
    assert.deepEqual(out.texts, ['first text', 'second']);
    assert.equal(out.embeddings.length, 2);
    assert.equal(out.embeddings[0].length, 1024);
    assert.equal(typeof out.id, 'string');
    const typed = await invoke('cohere.embed-multilingual-v3', { texts: ['first text'], input_type: 'search_query', embedding_types: ['float', 'int8'] });
    assert.equal(typed.response_type, 'embeddings_by_type');
    assert.equal(typed.embeddings.float[0].length, 1024);
    assert.ok(typed.embeddings.int8[0].every((n: number) => Number.isInteger(n) && n >= -128 && n <= 127));
    await assert.rejects(invoke('cohere.embed-english-v3', { texts: Array(97).fill('x'), input_type: 'search_document' }), { name: 'ValidationException' });
    await assert.rejects(invoke('cohere.embed-english-v3', { texts: ['x'] }), { name: 'ValidationException', message: /input_type/ });
  });

  it('Cohere Embed v4: output_dimension, embeddings by type', async () => {
    const out = await invoke('cohere.embed-v4:0', { texts: ['abc'], input_type: 'search_document', output_dimension: 512 });
    assert.equal(out.response_type, 'embeddings_by_type');
    assert.equal(out.embeddings.float[0].length, 512);
    const viaProfile = await invoke('us.cohere.embed-v4:0', { texts: ['abc'], input_type: 'search_document' });
    assert.equal(viaProfile.embeddings.float[0].length, 1536);
  });

  it('refuses Converse on an embedding model', async () => {
    const { ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    await assert.rejects(
      runtime.send(new ConverseCommand({ modelId: 'amazon.titan-embed-text-v2:0', messages: [{ role: 'user', content: [{ text: 'x' }] }] })),
      { name: 'ValidationException', message: /doesn't support the model/ },
    );
  });
});

describe('control plane', () => {
  it('lists foundation models with the catalog fields, over HTTP/1.1', async () => {
    const out = await control.send(new ListFoundationModelsCommand({}));
    const ids = out.modelSummaries!.map((m) => m.modelId);
    for (const id of ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-haiku-4-5-20251001-v1:0', 'amazon.nova-pro-v1:0', 'amazon.titan-embed-text-v2:0', 'cohere.embed-english-v3', 'cohere.embed-v4:0']) {
      assert.ok(ids.includes(id), id);
    }
    const sonnet = out.modelSummaries!.find((m) => m.modelId === 'anthropic.claude-sonnet-4-5-20250929-v1:0')!;
    assert.deepEqual(sonnet, {
      modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
      modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      modelName: 'Claude Sonnet 4.5',
      providerName: 'Anthropic',
      inputModalities: ['TEXT', 'IMAGE'],
      outputModalities: ['TEXT'],
      responseStreamingSupported: true,
      customizationsSupported: [],
      inferenceTypesSupported: ['INFERENCE_PROFILE'],
      modelLifecycle: { status: 'ACTIVE' },
    });
    const embeddings = await control.send(new ListFoundationModelsCommand({ byOutputModality: 'EMBEDDING' }));
    assert.ok(embeddings.modelSummaries!.every((m) => m.outputModalities!.includes('EMBEDDING')));
    const detail = await control.send(new GetFoundationModelCommand({ modelIdentifier: 'amazon.nova-lite-v1:0' }));
    assert.equal(detail.modelDetails!.modelName, 'Nova Lite');
    assert.equal(emulator.recorder.last()!.httpVersion, '1.1');
  });

  it('pages inference profiles with maxResults/nextToken and filters by type', async () => {
    const all: InferenceProfileSummary[] = [];
    let pages = 0;
    for await (const page of paginateListInferenceProfiles({ client: control, pageSize: 4 }, {})) {
      pages++;
      assert.ok(page.inferenceProfileSummaries!.length <= 4);
      all.push(...page.inferenceProfileSummaries!);
    }
    assert.ok(pages > 3);
    assert.equal(new Set(all.map((p) => p.inferenceProfileId)).size, all.length, 'no duplicates across pages');
    const global = all.find((p) => p.inferenceProfileId === 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')!;
    assert.equal(global.type, 'SYSTEM_DEFINED');
    assert.equal(global.status, 'ACTIVE');
    assert.ok(global.createdAt instanceof Date);

    const apps = await control.send(new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION' }));
    assert.equal(apps.inferenceProfileSummaries!.length, 2);
    const app = apps.inferenceProfileSummaries![0]!;
    assert.equal(app.inferenceProfileArn, 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6');
    assert.equal(app.models![0]!.modelArn, 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    const system = await control.send(new ListInferenceProfilesCommand({ typeEquals: 'SYSTEM_DEFINED' }));
    assert.equal(system.inferenceProfileSummaries!.length, all.length - 2);
    assert.equal(system.nextToken, undefined);

    const got = await control.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: 'us.amazon.nova-pro-v1:0' }));
    assert.equal(got.inferenceProfileName, 'US Amazon Nova Pro');
  });
});
