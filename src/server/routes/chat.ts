import { ConverseCommand, type BedrockRuntimeClient, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { Context } from 'hono';
import { buildConverseRequest, type ImageResolver } from '../../core/chat-request.ts';
import { toChatCompletion } from '../../core/chat-response.ts';
import { ChatStreamTranslator } from '../../core/chat-stream.ts';
import type { ModelMapping } from '../../core/model-catalog.ts';
import { resolveRequestModel, type EffectiveModelOf } from './model-resolution.ts';
import { fromBedrockError } from '../../core/openai-errors.ts';
import { parseChatCompletionRequest } from '../../core/openai-schemas.ts';
import { tokenUsageOf } from '../../core/usage.ts';
import type { JsonBodyVariables } from '../guards/json-body.ts';
import { modelNameOf, openAIErrorResponse, jsonResponse, type RequestLog, type RequestLogVariables } from '../request-log.ts';
import { CLIENT_CLOSED, openConverseStream, respondWithSse, type SseEncoder } from '../converse-sse.ts';
import type { TokenUsage } from '../../core/request-events.ts';

/** errorType for a stream the client walked away from. */
export { CLIENT_CLOSED };

export interface ChatRouteDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  resolveImage: ImageResolver;
  effectiveModelOf: EffectiveModelOf;
}

const DONE = 'data: [DONE]\n\n';

interface ChunkLike {
  choices?: ReadonlyArray<{ delta?: { content?: unknown; tool_calls?: unknown; reasoning_content?: unknown } }>;
}

/** Characters of content a chunk carries (0 for none; a tool call's start counts 1). */
function contentLength(chunk: ChunkLike): number {
  const delta = chunk.choices?.[0]?.delta;
  if (!delta) return 0;
  let length = 0;
  if (typeof delta.content === 'string') length += delta.content.length;
  if (typeof delta.reasoning_content === 'string') length += delta.reasoning_content.length;
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls as { function?: { arguments?: unknown } }[]) {
      const args = call.function?.arguments;
      length += typeof args === 'string' && args.length > 0 ? args.length : 1;
    }
  }
  return length;
}

function sse(chunks: readonly unknown[]): string {
  let text = '';
  for (const chunk of chunks) text += `data: ${JSON.stringify(chunk)}\n\n`;
  return text;
}

/** Chat Completions chunks as SSE: `data:` lines, `[DONE]` at the end. */
class ChatSse implements SseEncoder {
  readonly #translator: ChatStreamTranslator;
  #chars = 0;

  constructor(translator: ChatStreamTranslator) {
    this.#translator = translator;
  }

  push(event: ConverseStreamOutput): string {
    const chunks = this.#translator.push(event);
    if (chunks.length === 0) return '';
    for (const chunk of chunks) this.#chars += contentLength(chunk as ChunkLike);
    return sse(chunks);
  }

  end(): string {
    return sse(this.#translator.finish()) + DONE;
  }

  /** One OpenAI-shaped error event (the openai SDK throws an APIError when it reads one). */
  fail(error: unknown): string {
    return `data: ${JSON.stringify(fromBedrockError(error).toJSON())}\n\n`;
  }

  get sentContent(): boolean {
    return this.#chars > 0;
  }

  get outputTokens(): number {
    return this.#translator.usage.outputTokens > 0 ? this.#translator.usage.outputTokens : Math.ceil(this.#chars / 4);
  }

  get usage(): TokenUsage {
    return this.#translator.usage;
  }
}

/** POST /v1/chat/completions: Converse for plain requests, ConverseStream -> SSE for `stream: true`. */
export function chatCompletionsHandler(deps: ChatRouteDeps) {
  const { runtime, models, resolveImage, effectiveModelOf } = deps;

  return async function chatCompletions(c: Context<{ Variables: JsonBodyVariables & RequestLogVariables }>): Promise<Response> {
    const log = c.get('requestLog');
    const body = c.get('jsonBody');
    log.requestedModel = modelNameOf(body);
    try {
      const request = parseChatCompletionRequest(body);
      log.stream = request.stream === true;
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      const plan = await buildConverseRequest(request, resolved.modelId, resolveImage, resolved.effectiveModelId);
      const context = {
        id: `chatcmpl-${log.id}`,
        created: Math.floor(log.startedAt / 1000),
        model: resolved.requested ?? resolved.modelId,
      };

      if (!log.stream) {
        const output = await runtime.send(new ConverseCommand(plan.input), { abortSignal: c.req.raw.signal });
        const completion = toChatCompletion(output, plan, context);
        log.usage = tokenUsageOf(output.usage);
        log.finish(200, null);
        return jsonResponse(completion, { 'x-request-id': log.id });
      }

      const stream = await openConverseStream(runtime, plan.input, c.req.raw.signal);
      const translator = new ChatStreamTranslator(plan, { ...context, includeUsage: request.stream_options?.include_usage === true });
      return respondWithSse(c, log, stream, new ChatSse(translator));
    } catch (error) {
      const failure = fromBedrockError(error);
      const clientGone = c.req.raw.signal.aborted;
      log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
      return openAIErrorResponse(failure, log.id);
    }
  };
}
