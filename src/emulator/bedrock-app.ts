import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { awsError, EmulatedAwsError, validationError, type AwsErrorSpec } from './aws-errors.ts';
import type { ModelCatalog, EmulatedModel, InferenceProfileSummary } from './catalog.ts';
import type { CredentialRegistry } from './credential-registry.ts';
import { anthropicResponse, anthropicStreamEvents, anthropicToConverse } from './anthropic-native.ts';
import { refuseUnsupportedNativeFields } from './anthropic-refusals.ts';
import { invokeEmbeddingModel } from './embeddings.ts';
import { encodeEvent, encodeException } from './eventstream.ts';
import { redactHeaders, type EmulatorOperation, type RecordedRequest, type RequestRecorder } from './recorder.ts';
import { buildConverseReply, countInputTokens, textDeltas, validateConverseRequest, type ReplyBlock, type ScriptedReply } from './scripted-model.ts';
import { verifySigV4Request } from './sigv4.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export type NodeBindings = { Bindings: HttpBindings | Http2Bindings };
type Ctx = Context<NodeBindings>;

export interface BedrockAppDeps {
  registry: CredentialRegistry;
  recorder: RequestRecorder;
  catalog: ModelCatalog;
  /** Most inference profiles per ListInferenceProfiles page, whatever `maxResults` asks (default 1000, the API's cap). */
  profilePageSize?: number;
}

const BEDROCK_SERVICES = ['bedrock'] as const;
const JSON_HEADERS = { 'content-type': 'application/json' };

function headerString(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function attemptOf(headers: IncomingHttpHeaders): number {
  const value = headerString(headers, 'amz-sdk-request');
  if (!value) return 1;
  const at = value.indexOf('attempt=');
  if (at < 0) return 1;
  return Number.parseInt(value.slice(at + 8), 10) || 1;
}

function errorResponse(spec: AwsErrorSpec, requestId: string): Response {
  const err = awsError(spec, requestId);
  return new Response(err.body, { status: err.status, headers: err.headers });
}

function jsonResponse(payload: unknown, requestId: string, extra?: Record<string, string>): Response {
  return new Response(JSON.stringify(payload), { status: 200, headers: { ...JSON_HEADERS, 'x-amzn-requestid': requestId, ...extra } });
}

interface StreamState {
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;
}

/** Waits `ms`, or until the stream closes (then resolves at once, so the writer loop can finish). */
function sleep(ms: number, state: StreamState): Promise<void> {
  return new Promise((resolve) => {
    if (state.closed) return resolve();
    state.wake = resolve;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.wake = undefined;
      resolve();
    }, ms);
  });
}

function renderBlock(block: ReplyBlock): Json {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'reasoning':
      return { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } };
    case 'toolUse':
      return { toolUse: { toolUseId: block.toolUseId, name: block.name, input: block.input } };
  }
}

/** The part of ServerResponse / Http2ServerResponse a stream writer uses. */
interface StreamingResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

interface StreamEvent {
  type: string;
  payload: unknown;
  /** Content deltas count toward the [[fail-mid-stream]] cut. */
  delta?: boolean;
}

function converseStreamEvents(reply: ScriptedReply): StreamEvent[] {
  const events: StreamEvent[] = [{ type: 'messageStart', payload: { role: 'assistant' } }];
  reply.blocks.forEach((block, index) => {
    if (block.type === 'toolUse') {
      events.push({ type: 'contentBlockStart', payload: { contentBlockIndex: index, start: { toolUse: { toolUseId: block.toolUseId, name: block.name } } } });
      const input = JSON.stringify(block.input);
      const half = Math.ceil(input.length / 2);
      const parts = input.length > 2 ? [input.slice(0, half), input.slice(half)] : [input];
      for (const part of parts) events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { toolUse: { input: part } } }, delta: true });
    } else if (block.type === 'reasoning') {
      for (const text of textDeltas(block.text)) {
        events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { reasoningContent: { text } } }, delta: true });
      }
      events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { reasoningContent: { signature: block.signature } } }, delta: true });
    } else {
      for (const text of textDeltas(block.text)) {
        events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { text } }, delta: true });
      }
    }
    events.push({ type: 'contentBlockStop', payload: { contentBlockIndex: index } });
  });
  events.push({ type: 'messageStop', payload: { stopReason: reply.stopReason } });
  events.push({ type: 'metadata', payload: { usage: reply.usage, metrics: { latencyMs: reply.latencyMs } } });
  return events;
}

/** The Bedrock runtime and control-plane routes, SigV4/Bearer-authenticated, recorded. */
export function createBedrockApp(deps: BedrockAppDeps): Hono<NodeBindings> {
  const { registry, recorder, catalog } = deps;
  const profilePageSize = deps.profilePageSize ?? 1000;
  const promptCache = new Set<string>();
  const app = new Hono<NodeBindings>();

  /** Common front half: read body, record, authenticate. Returns the body or an error Response. */
  async function begin(
    c: Ctx,
    operation: EmulatorOperation,
    modelId: string | undefined,
  ): Promise<{ requestId: string; entry: RecordedRequest; finish: () => void; raw: Buffer; error?: Response }> {
    const incoming = c.env.incoming;
    const headers = incoming.headers;
    const requestId = randomUUID();
    const raw = c.req.method === 'GET' ? Buffer.alloc(0) : Buffer.from(await c.req.arrayBuffer());
    const start: Omit<RecordedRequest, 'seq' | 'done'> = {
      at: Date.now(),
      operation,
      httpVersion: incoming.httpVersion,
      method: c.req.method,
      rawUrl: incoming.url ?? '',
      headers: redactHeaders(headers),
      auth: 'none',
      attempt: attemptOf(headers),
      status: 0,
    };
    if (modelId !== undefined) start.modelId = modelId;
    const { entry, finish } = recorder.start(start);
    const auth = await verifySigV4Request({ method: c.req.method, rawUrl: incoming.url ?? '', headers, body: raw }, { registry, services: BEDROCK_SERVICES });
    if (!auth.ok) {
      entry.status = auth.status;
      entry.errorType = auth.errorType;
      if (auth.accessKeyId !== undefined) entry.accessKeyId = auth.accessKeyId;
      finish();
      return { requestId, entry, finish, raw, error: errorResponse({ type: auth.errorType, message: auth.message, status: auth.status }, requestId) };
    }
    entry.auth = auth.scheme;
    if (auth.scheme === 'sigv4') {
      entry.accessKeyId = auth.accessKeyId;
      entry.signingRegion = auth.region;
    }
    return { requestId, entry, finish, raw };
  }

  function fail(error: unknown, requestId: string, entry: RecordedRequest, finish: () => void): Response {
    const spec: AwsErrorSpec =
      error instanceof EmulatedAwsError ? error.toSpec() : { type: 'InternalServerException', message: `Emulator error: ${(error as Error)?.message ?? String(error)}` };
    const rendered = awsError(spec, requestId);
    entry.status = rendered.status;
    entry.errorType = spec.type;
    finish();
    return new Response(rendered.body, { status: rendered.status, headers: rendered.headers });
  }

  function parseBody(raw: Buffer): Json {
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw validationError('Malformed input request, please reformat your input and try again.');
    }
  }

  function modelParam(c: Ctx): string {
    return c.req.param('modelId') ?? '';
  }

  async function handleConverse(c: Ctx, stream: boolean): Promise<Response> {
    const modelId = modelParam(c);
    const operation: EmulatorOperation = stream ? 'ConverseStream' : 'Converse';
    const { requestId, entry, finish, raw, error } = await begin(c, operation, modelId);
    if (error) return error;
    let reply: ScriptedReply;
    let model: EmulatedModel;
    try {
      const body = parseBody(raw);
      entry.body = body;
      model = catalog.resolveForInvocation(modelId).model;
      validateConverseRequest(body, model);
      reply = buildConverseReply(body, { model, modelId, attempt: entry.attempt, promptCache }, stream);
    } catch (err) {
      return fail(err, requestId, entry, finish);
    }
    entry.status = 200;
    entry.stopReason = reply.stopReason;
    if (!stream) {
      if (reply.delayMs > 0) await new Promise((r) => setTimeout(r, reply.delayMs).unref());
      entry.usage = reply.usage;
      finish();
      return jsonResponse(
        {
          output: { message: { role: 'assistant', content: reply.blocks.map(renderBlock) } },
          stopReason: reply.stopReason,
          usage: reply.usage,
          metrics: { latencyMs: reply.latencyMs },
        },
        requestId,
      );
    }
    await writeEventStream(c, requestId, entry, finish, reply, converseStreamEvents(reply));
    return RESPONSE_ALREADY_SENT;
  }

  async function writeEventStream(
    c: Ctx,
    requestId: string,
    entry: RecordedRequest,
    finish: () => void,
    reply: ScriptedReply,
    events: StreamEvent[],
  ): Promise<void> {
    const outgoing = c.env.outgoing as StreamingResponse;
    let cutAt = events.length;
    if (reply.failMidStream) {
      const deltas = events.filter((e) => e.delta).length;
      let keep = Math.max(1, Math.ceil(deltas / 2));
      cutAt = events.findIndex((e) => e.delta && --keep === 0) + 1;
    }
    outgoing.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
    const finishStream = (disconnected = false): void => {
      if (disconnected) entry.errorType = 'ClientDisconnected';
      else if (reply.failMidStream) entry.errorType = reply.failMidStream.eventType;
      else entry.usage = reply.usage;
      finish();
    };
    if (reply.delayMs <= 0) {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < cutAt; i++) frames.push(encodeEvent(events[i]!.type, events[i]!.payload));
      if (reply.failMidStream) frames.push(encodeException(reply.failMidStream.eventType, reply.failMidStream.message));
      outgoing.end(frames.length === 1 ? frames[0] : Buffer.concat(frames));
      finishStream();
      return;
    }
    // Slow stream: one frame per delay, each written (and so flushed) as it is produced.
    const state: StreamState = { closed: false, timer: undefined, wake: undefined };
    const onClose = (): void => {
      state.closed = true;
      if (state.timer) clearTimeout(state.timer);
      state.timer = undefined;
      const wake = state.wake;
      state.wake = undefined;
      wake?.();
    };
    outgoing.once('close', onClose);
    void (async () => {
      for (let i = 0; i < cutAt && !state.closed; i++) {
        await sleep(reply.delayMs, state);
        if (state.closed) break;
        outgoing.write(encodeEvent(events[i]!.type, events[i]!.payload));
      }
      if (!state.closed) {
        if (reply.failMidStream) {
          await sleep(reply.delayMs, state);
          if (!state.closed) outgoing.write(encodeException(reply.failMidStream.eventType, reply.failMidStream.message));
        }
        outgoing.end();
      }
      outgoing.off('close', onClose);
      finishStream(state.closed);
    })();
  }

  async function handleInvoke(c: Ctx, stream: boolean): Promise<Response> {
    const modelId = modelParam(c);
    const operation: EmulatorOperation = stream ? 'InvokeModelWithResponseStream' : 'InvokeModel';
    const { requestId, entry, finish, raw, error } = await begin(c, operation, modelId);
    if (error) return error;
    try {
      const body = parseBody(raw);
      entry.body = body;
      const { model } = catalog.resolveForInvocation(modelId);
      if (model.kind === 'chat') {
        if (model.providerName !== 'Anthropic') {
          throw validationError('This emulator answers InvokeModel for chat models only in Anthropic\'s native format; use Converse or ConverseStream.');
        }
        refuseUnsupportedNativeFields(body, model);
        const converseBody = anthropicToConverse(body);
        validateConverseRequest(converseBody, model);
        const reply = buildConverseReply(converseBody, { model, modelId, attempt: entry.attempt, promptCache }, stream);
        const seed = `${requestId}`;
        entry.status = 200;
        entry.stopReason = reply.stopReason;
        if (stream) {
          const events: StreamEvent[] = anthropicStreamEvents(reply, model.modelId, seed).map(({ event, delta }) => ({
            type: 'chunk',
            payload: { bytes: Buffer.from(JSON.stringify(event)).toString('base64') },
            delta,
          }));
          await writeEventStream(c, requestId, entry, finish, reply, events);
          return RESPONSE_ALREADY_SENT;
        }
        if (reply.delayMs > 0) await new Promise((r) => setTimeout(r, reply.delayMs).unref());
        entry.usage = reply.usage;
        finish();
        const headers: Record<string, string> = {
          'x-amzn-bedrock-input-token-count': String(reply.usage.inputTokens),
          'x-amzn-bedrock-output-token-count': String(reply.usage.outputTokens),
          'x-amzn-bedrock-invocation-latency': String(reply.latencyMs),
        };
        if (reply.usage.cacheReadInputTokens !== undefined) headers['x-amzn-bedrock-cache-read-input-token-count'] = String(reply.usage.cacheReadInputTokens);
        if (reply.usage.cacheWriteInputTokens !== undefined) headers['x-amzn-bedrock-cache-write-input-token-count'] = String(reply.usage.cacheWriteInputTokens);
        return jsonResponse(anthropicResponse(reply, model.modelId, seed), requestId, headers);
      }
      if (stream) throw validationError('The model is unsupported for streaming.');
      const result = invokeEmbeddingModel(model, body);
      if (result.delayMs > 0) await new Promise((r) => setTimeout(r, result.delayMs).unref());
      entry.status = 200;
      entry.usage = { inputTokens: result.inputTokens, outputTokens: 0, totalTokens: result.inputTokens };
      finish();
      return jsonResponse(result.body, requestId, {
        'x-amzn-bedrock-input-token-count': String(result.inputTokens),
        'x-amzn-bedrock-invocation-latency': '1',
      });
    } catch (err) {
      return fail(err, requestId, entry, finish);
    }
  }

  async function handleCountTokens(c: Ctx): Promise<Response> {
    const modelId = modelParam(c);
    const { requestId, entry, finish, raw, error } = await begin(c, 'CountTokens', modelId);
    if (error) return error;
    try {
      const body = parseBody(raw);
      entry.body = body;
      const { model } = catalog.resolveForCountTokens(modelId);
      if (model.providerName !== 'Anthropic' || model.kind !== 'chat') throw validationError("The provided model doesn't support counting tokens.");
      let converseBody: Json;
      if (body.input?.converse) converseBody = body.input.converse;
      else if (typeof body.input?.invokeModel?.body === 'string') {
        const native = JSON.parse(Buffer.from(body.input.invokeModel.body, 'base64').toString('utf8'));
        refuseUnsupportedNativeFields(native, model);
        converseBody = anthropicToConverse(native);
      } else throw validationError('CountTokens input must have either converse or invokeModel.');
      validateConverseRequest(converseBody, model);
      const counted = countInputTokens(converseBody, modelId, new Set());
      const inputTokens = counted.input + counted.cacheRead + counted.cacheWrite;
      entry.status = 200;
      entry.usage = { inputTokens, outputTokens: 0, totalTokens: inputTokens };
      finish();
      return jsonResponse({ inputTokens }, requestId);
    } catch (err) {
      return fail(err, requestId, entry, finish);
    }
  }

  app.post('/model/:modelId/count-tokens', (c) => handleCountTokens(c));
  app.post('/model/:modelId/converse', (c) => handleConverse(c, false));
  app.post('/model/:modelId/converse-stream', (c) => handleConverse(c, true));
  app.post('/model/:modelId/invoke', (c) => handleInvoke(c, false));
  app.post('/model/:modelId/invoke-with-response-stream', (c) => handleInvoke(c, true));

  /* ---------------------------------------- control plane ---------------------------------------- */

  app.get('/foundation-models', async (c) => {
    const { requestId, entry, finish, error } = await begin(c, 'ListFoundationModels', undefined);
    if (error) return error;
    const provider = c.req.query('byProvider')?.toLowerCase();
    const output = c.req.query('byOutputModality');
    const inference = c.req.query('byInferenceType');
    const customization = c.req.query('byCustomizationType');
    const modelSummaries = catalog.models
      .filter(
        (m) =>
          (!provider || m.providerName.toLowerCase() === provider || m.modelId.startsWith(`${provider}.`)) &&
          (!output || m.outputModalities.includes(output)) &&
          (!inference || m.inferenceTypes.includes(inference)) &&
          !customization,
      )
      .map((m) => catalog.foundationModelSummary(m));
    entry.status = 200;
    finish();
    return jsonResponse({ modelSummaries }, requestId);
  });

  app.get('/foundation-models/:modelIdentifier', async (c) => {
    const id = c.req.param('modelIdentifier');
    const { requestId, entry, finish, error } = await begin(c, 'GetFoundationModel', id);
    if (error) return error;
    const model = catalog.lookup(id);
    if (!model || model.profile) return fail(new EmulatedAwsError('ResourceNotFoundException', 'The specified model was not found.'), requestId, entry, finish);
    entry.status = 200;
    finish();
    return jsonResponse({ modelDetails: catalog.foundationModelSummary(model.model) }, requestId);
  });

  app.get('/inference-profiles', async (c) => {
    const { requestId, entry, finish, error } = await begin(c, 'ListInferenceProfiles', undefined);
    if (error) return error;
    try {
      const type = c.req.query('type');
      if (type !== undefined && type !== 'SYSTEM_DEFINED' && type !== 'APPLICATION') {
        throw validationError(
          `1 validation error detected: Value '${type}' at 'typeEquals' failed to satisfy constraint: Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]`,
        );
      }
      const maxResultsRaw = c.req.query('maxResults');
      const maxResults = maxResultsRaw === undefined ? 1000 : Number(maxResultsRaw);
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
        throw validationError(
          `1 validation error detected: Value '${maxResultsRaw}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000'}`,
        );
      }
      let offset = 0;
      const token = c.req.query('nextToken');
      if (token !== undefined) {
        const decoded = Buffer.from(token, 'base64url').toString('utf8');
        const m = /^offset:(\d+)$/.exec(decoded);
        if (!m) throw validationError('The pagination token is invalid.');
        offset = Number(m[1]);
      }
      const all: InferenceProfileSummary[] = catalog.profiles.filter((p) => type === undefined || p.type === type);
      // Like the real API, a page may hold fewer than maxResults: only nextToken says whether more follow.
      const end = offset + Math.min(maxResults, profilePageSize);
      const payload: Record<string, unknown> = { inferenceProfileSummaries: all.slice(offset, end) };
      if (end < all.length) payload.nextToken = Buffer.from(`offset:${end}`).toString('base64url');
      entry.status = 200;
      finish();
      return jsonResponse(payload, requestId);
    } catch (err) {
      return fail(err, requestId, entry, finish);
    }
  });

  app.get('/inference-profiles/:inferenceProfileIdentifier', async (c) => {
    const id = c.req.param('inferenceProfileIdentifier');
    const { requestId, entry, finish, error } = await begin(c, 'GetInferenceProfile', id);
    if (error) return error;
    const profile = catalog.getProfile(id) ?? catalog.profiles.find((p) => p.inferenceProfileId === id);
    if (!profile) return fail(new EmulatedAwsError('ResourceNotFoundException', 'Inference profile not found.'), requestId, entry, finish);
    entry.status = 200;
    finish();
    return jsonResponse(profile, requestId);
  });

  return app;
}
