import {
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClient,
  type ConverseStreamOutput,
  type ResponseStream,
} from '@aws-sdk/client-bedrock-runtime';
import type { HttpHandlerOptions, HttpResponse } from '@smithy/types';
import type { Context } from 'hono';
import { NativeStreamReader, sseEvent, type SseEvent } from '../../core/anthropic-native-stream.ts';
import { parseCountTokensRequest, parseMessagesRequest, type MessagesRequest } from '../../core/anthropic-schemas.ts';
import { toBedrockNativeBody, withoutBetas, type NativeBody } from '../../core/anthropic-sanitiser.ts';
import { NativeUsage } from '../../core/anthropic-usage.ts';
import { contextWindowOf } from '../../core/claude-models.ts';
import { converseToMessage, messagesToConverse, MessagesStreamTranslator } from '../../core/messages-converse.ts';
import { baseModelId, modelTraits, type ModelMapping } from '../../core/model-catalog.ts';
import { invalidRequest } from '../../core/openai-errors.ts';
import type { TokenUsage } from '../../core/request-events.ts';
import { tokenUsageOf } from '../../core/usage.ts';
import { anthropicErrorResponse, anthropicFailureOf, isContextOverflow, isInvalidBeta } from '../anthropic-errors.ts';
import { anthropicSseStream, SSE_HEADERS } from '../anthropic-sse.ts';
import { CLIENT_CLOSED } from './chat.ts';
import type { JsonBodyVariables } from '../guards/json-body.ts';
import { modelNameOf, type RequestLog, type RequestLogVariables } from '../request-log.ts';
import { resolveRequestModel, type EffectiveModelOf, type RequestModel } from './model-resolution.ts';
import { onRawResponse, tokenCountHeader } from './raw-response.ts';

export interface MessagesRouteDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  effectiveModelOf: EffectiveModelOf;
  /** A stream silent this long gets an `event: ping` (Bedrock sends none). */
  pingIntervalMs: number;
}

type MessagesContext = Context<{ Variables: JsonBodyVariables & RequestLogVariables }>;

const encoder = new TextEncoder();
const JSON_CONTENT = 'application/json';
const NOTHING: SseEvent = { text: '', content: false };

/** Refused betas remembered per model (past this, a model's list starts again). */
const MAX_REFUSED_BETAS = 256;

/**
 * Betas Bedrock refused ("invalid beta flag") for a model, learnt per server run: later requests leave
 * them out at once instead of paying a refused call first.
 */
class RefusedBetas {
  readonly #byModel = new Map<string, Set<string>>();
  of(baseModelId: string): ReadonlySet<string> | undefined {
    return this.#byModel.get(baseModelId);
  }
  learn(baseModelId: string, betas: readonly string[]): void {
    let known = this.#byModel.get(baseModelId);
    if (!known || known.size >= MAX_REFUSED_BETAS) this.#byModel.set(baseModelId, (known = new Set<string>()));
    for (const beta of betas) known.add(beta);
  }
}

/** The Claude model a count_tokens request resolved to; Bedrock counts tokens for Claude models only. */
function claudeBaseId(resolved: RequestModel): string {
  if (!modelTraits(resolved.effectiveModelId).anthropic) {
    throw invalidRequest(`'${resolved.requested ?? resolved.modelId}' is not a Claude model: Bedrock counts tokens (CountTokens) for Claude models only.`, 'model');
  }
  return baseModelId(resolved.effectiveModelId);
}

/**
 * Sends `native` with `send`; when Bedrock answers "invalid beta flag" and the body carries betas the
 * rules do not know, sends it once more without them (and remembers them for the model).
 */
async function withBetaFallback<T>(native: NativeBody, base: string, refused: RefusedBetas, log: RequestLog, send: (body: NativeBody) => Promise<T>): Promise<{ result: T; native: NativeBody }> {
  try {
    return { result: await send(native), native };
  } catch (error) {
    if (!isInvalidBeta(error) || native.unknownBetas.length === 0) throw error;
    refused.learn(base, native.unknownBetas);
    const retried = withoutBetas(native, native.unknownBetas);
    log.droppedFields = retried.dropped;
    return { result: await send(retried), native: retried };
  }
}

function bodyBytes(native: NativeBody): Uint8Array {
  return encoder.encode(JSON.stringify(native.body));
}

/** POST /v1/messages and /v1/messages/count_tokens (Anthropic's Messages API) over InvokeModel and CountTokens. */
export function messagesHandlers(deps: MessagesRouteDeps) {
  const { runtime, models, effectiveModelOf, pingIntervalMs } = deps;
  const refused = new RefusedBetas();

  /** Input tokens of a request Bedrock found too long, for Claude Code's compaction; undefined when not countable. */
  async function overflowTokens(native: NativeBody, base: string, signal: AbortSignal): Promise<{ actual: number; limit: number } | undefined> {
    try {
      const counted = await runtime.send(new CountTokensCommand({ modelId: base, input: { invokeModel: { body: bodyBytes(native) } } }), { abortSignal: signal });
      const betas: string[] = Array.isArray(native.body.anthropic_beta) ? native.body.anthropic_beta : [];
      return counted.inputTokens === undefined ? undefined : { actual: counted.inputTokens, limit: contextWindowOf(base, betas) };
    } catch {
      return undefined;
    }
  }

  async function fail(c: MessagesContext, log: RequestLog, error: unknown, overflow?: { native: NativeBody; base: string }): Promise<Response> {
    const clientGone = c.req.raw.signal.aborted;
    const tokens = overflow && !clientGone && isContextOverflow(error) ? await overflowTokens(overflow.native, overflow.base, c.req.raw.signal) : undefined;
    const failure = anthropicFailureOf(error, tokens);
    log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
    return anthropicErrorResponse(failure, log.id);
  }

  /**
   * Sends a streaming call with its own abort controller (the client's disconnect aborts it, and
   * destroys its HTTP/2 stream) and answers with `render`'s SSE of its events.
   */
  async function streamed<T>(
    c: MessagesContext,
    log: RequestLog,
    call: (options: HttpHandlerOptions & { isEventStream: boolean }, onRaw: (raw: HttpResponse) => void) => Promise<AsyncIterable<T> | undefined>,
    render: (event: T) => SseEvent,
    outputTokens: () => number,
    usage: () => TokenUsage,
  ): Promise<Response> {
    const upstream = new AbortController();
    const clientSignal = c.req.raw.signal;
    let upstreamBody: { destroy?: () => void } | undefined;
    const abortUpstream = () => {
      upstreamBody?.destroy?.();
      upstream.abort(new Error('client disconnected'));
    };
    if (clientSignal.aborted) abortUpstream();
    else clientSignal.addEventListener('abort', abortUpstream, { once: true });
    let events: AsyncIterable<T> | undefined;
    try {
      // isEventStream: false lets the stream share the pooled HTTP/2 session (see routes/chat.ts).
      events = await call({ abortSignal: upstream.signal, isEventStream: false }, (raw) => {
        upstreamBody = raw.body as { destroy?: () => void } | undefined;
      });
      if (!events) throw new Error('Bedrock returned no event stream');
    } catch (error) {
      clientSignal.removeEventListener('abort', abortUpstream);
      throw error;
    }
    const stream = anthropicSseStream({
      events,
      render,
      outputTokens,
      log,
      pingIntervalMs,
      abortUpstream,
      end(status, errorType) {
        clientSignal.removeEventListener('abort', abortUpstream);
        log.usage = usage();
        log.finish(status, errorType);
      },
    });
    log.finishesLater = true;
    return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, 'request-id': log.id } });
  }

  /** Claude: Anthropic's native body on InvokeModel / InvokeModelWithResponseStream. */
  async function invokeClaude(c: MessagesContext, log: RequestLog, request: MessagesRequest, resolved: RequestModel, base: string, sent: { native?: NativeBody }): Promise<Response> {
    const native = toBedrockNativeBody(request, {
      baseModelId: base,
      betaHeader: c.req.header('anthropic-beta'),
      refusedBetas: refused.of(base),
      maxOutputTokens: modelTraits(resolved.effectiveModelId).maxOutputTokens,
    });
    log.droppedFields = native.dropped;
    sent.native = native;
    const modelId = resolved.modelId;

    if (!log.stream) {
      let metrics: Record<string, number | undefined> = {};
      const { result } = await withBetaFallback(native, base, refused, log, (body) => {
        sent.native = body;
        const command = new InvokeModelCommand({ modelId, body: bodyBytes(body), contentType: JSON_CONTENT, accept: JSON_CONTENT });
        onRawResponse(command, (response) => {
          metrics = {
            inputTokenCount: tokenCountHeader(response, 'x-amzn-bedrock-input-token-count'),
            outputTokenCount: tokenCountHeader(response, 'x-amzn-bedrock-output-token-count'),
            cacheReadInputTokenCount: tokenCountHeader(response, 'x-amzn-bedrock-cache-read-input-token-count'),
            cacheWriteInputTokenCount: tokenCountHeader(response, 'x-amzn-bedrock-cache-write-input-token-count'),
          };
        });
        return runtime.send(command, { abortSignal: c.req.raw.signal });
      });
      const usage = new NativeUsage();
      usage.addAnthropic(JSON.parse(new TextDecoder().decode(result.body)).usage);
      usage.addInvocationMetrics(metrics);
      log.usage = usage.usage;
      log.finish(200, null);
      // Claude's answer as Bedrock gave it, byte for byte.
      return new Response(result.body as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': JSON_CONTENT, 'request-id': log.id } });
    }

    const reader = new NativeStreamReader();
    const decoder = new TextDecoder();
    return streamed<ResponseStream>(
      c,
      log,
      async (options, onRaw) => {
        const { result } = await withBetaFallback(native, base, refused, log, (body) => {
          sent.native = body;
          const command = new InvokeModelWithResponseStreamCommand({ modelId, body: bodyBytes(body), contentType: JSON_CONTENT, accept: JSON_CONTENT });
          onRawResponse(command, onRaw);
          return runtime.send(command, options);
        });
        return result.body;
      },
      (event) => (event.chunk?.bytes ? reader.read(decoder.decode(event.chunk.bytes)) : NOTHING),
      () => reader.outputTokens,
      () => reader.usage.usage,
    );
  }

  /** Other Bedrock models: the request and answer translated to and from Converse. */
  async function converseOther(c: MessagesContext, log: RequestLog, request: MessagesRequest, resolved: RequestModel): Promise<Response> {
    const { input, dropped } = messagesToConverse(request, resolved.modelId, resolved.effectiveModelId);
    log.droppedFields = dropped;
    const context = { id: `msg_bdrk_${log.id}`, model: resolved.requested ?? resolved.modelId };
    if (!log.stream) {
      const output = await runtime.send(new ConverseCommand(input), { abortSignal: c.req.raw.signal });
      log.usage = tokenUsageOf(output.usage);
      log.finish(200, null);
      return new Response(JSON.stringify(converseToMessage(output, context)), { status: 200, headers: { 'content-type': JSON_CONTENT, 'request-id': log.id } });
    }
    const translator = new MessagesStreamTranslator(context);
    let deltas = 0;
    return streamed<ConverseStreamOutput>(
      c,
      log,
      async (options, onRaw) => {
        const command = new ConverseStreamCommand(input);
        onRawResponse(command, onRaw);
        return (await runtime.send(command, options)).stream;
      },
      (event) => {
        let text = '';
        let content = false;
        for (const out of translator.push(event)) {
          text += sseEvent(out.type, JSON.stringify(out));
          if (out.type === 'content_block_delta') {
            content = true;
            deltas++;
          }
        }
        return { text, content };
      },
      () => Math.max(deltas, translator.usage.outputTokens),
      () => translator.usage,
    );
  }

  async function messages(c: MessagesContext): Promise<Response> {
    const log = c.get('requestLog');
    const raw = c.get('jsonBody');
    log.requestedModel = modelNameOf(raw);
    let base: string | undefined;
    const sent: { native?: NativeBody } = {};
    try {
      const request = parseMessagesRequest(raw);
      log.stream = request.stream === true;
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      log.progress();
      if (!modelTraits(resolved.effectiveModelId).anthropic) return await converseOther(c, log, request, resolved);
      base = baseModelId(resolved.effectiveModelId);
      return await invokeClaude(c, log, request, resolved, base, sent);
    } catch (error) {
      return fail(c, log, error, sent.native && base ? { native: sent.native, base } : undefined);
    }
  }

  async function countTokens(c: MessagesContext): Promise<Response> {
    const log = c.get('requestLog');
    const raw = c.get('jsonBody');
    log.requestedModel = modelNameOf(raw);
    try {
      const request = parseCountTokensRequest(raw);
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      const base = claudeBaseId(resolved);
      const native = toBedrockNativeBody(request, { baseModelId: base, betaHeader: c.req.header('anthropic-beta'), refusedBetas: refused.of(base), countTokens: true });
      log.droppedFields = native.dropped;
      let counted;
      try {
        // CountTokens takes the foundation model id, not an inference profile.
        ({ result: counted } = await withBetaFallback(native, base, refused, log, (body) =>
          runtime.send(new CountTokensCommand({ modelId: base, input: { invokeModel: { body: bodyBytes(body) } } }), { abortSignal: c.req.raw.signal }),
        ));
      } catch (error) {
        throw countTokensUnavailable(error, base);
      }
      log.finish(200, null);
      return new Response(JSON.stringify({ input_tokens: counted.inputTokens ?? 0 }), { status: 200, headers: { 'content-type': JSON_CONTENT, 'request-id': log.id } });
    } catch (error) {
      return fail(c, log, error);
    }
  }

  return { messages, countTokens };
}

/** Bedrock's refusal of CountTokens for a model (or region) that lacks it, said so. */
function countTokensUnavailable(error: unknown, base: string): unknown {
  if (!(error instanceof Error)) return error;
  const unsupported =
    error.name === 'UnknownOperationException' ||
    (error.name === 'ValidationException' && /support counting tokens|model identifier is invalid|not supported/i.test(error.message));
  if (!unsupported) return error;
  return invalidRequest(`Bedrock cannot count tokens for ${base} in this region (${error.message}); token counting on Bedrock covers some Claude models in some regions only.`);
}
