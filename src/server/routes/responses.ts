/**
 * The Responses API: POST /v1/responses on Converse (plain) or ConverseStream (`stream: true`), and the
 * stored responses: GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items.
 */
import { ConverseCommand, type BedrockRuntimeClient, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { Context } from 'hono';
import type { ImageResolver } from '../../core/chat-request.ts';
import type { ModelMapping } from '../../core/model-catalog.ts';
import { fromBedrockError, invalidRequest, OpenAIError } from '../../core/openai-errors.ts';
import { unsupported } from '../../core/openai-schemas.ts';
import type { TokenUsage } from '../../core/request-events.ts';
import { encodeReasoning } from '../../core/responses-reasoning.ts';
import { buildResponsesConverseRequest, type ResponsesPlan } from '../../core/responses-request.ts';
import { outputItemId, type OutputItem, type ResponseContext, type ResponseObject } from '../../core/responses-output.ts';
import { parseResponsesRequest, type ResponseInputItem, type ResponsesRequest } from '../../core/responses-schemas.ts';
import { reasoningBlockOf, ResponsesStreamTranslator, toResponse } from '../../core/responses-stream.ts';
import { CLIENT_CLOSED, openConverseStream, respondWithSse, SSE_HEADERS, streamErrorType, type SseEncoder } from '../converse-sse.ts';
import type { JsonBodyVariables } from '../guards/json-body.ts';
import { jsonResponse, modelNameOf, openAIErrorResponse, type RequestLogVariables } from '../request-log.ts';
import type { ListedItem, ResponseStore } from '../response-store.ts';
import { resolveRequestModel, type EffectiveModelOf } from './model-resolution.ts';

export interface ResponsesRouteDeps {
  runtime: BedrockRuntimeClient;
  models: ModelMapping;
  resolveImage: ImageResolver;
  effectiveModelOf: EffectiveModelOf;
  store: ResponseStore;
}

type RouteContext = Context<{ Variables: JsonBodyVariables & RequestLogVariables }>;

const ITEM_ID_PREFIX: Record<ResponseInputItem['type'], string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  custom_tool_call: 'ctc',
  custom_tool_call_output: 'ctco',
  reasoning: 'rs',
};

/** This request's input as items with ids, as /input_items lists them. */
function listedInput(request: ResponsesRequest): ListedItem[] {
  const input = request.input;
  if (input == null) return [];
  if (typeof input === 'string') return [{ id: outputItemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input.map((item) => {
    const id = (item as { id?: unknown }).id;
    return { ...item, id: typeof id === 'string' && id !== '' ? id : outputItemId(ITEM_ID_PREFIX[item.type]) } as ListedItem;
  });
}

/** An output item as the input item that gives it back to the model (reasoning with its thinking block). */
function asInputItem(item: OutputItem): ResponseInputItem {
  if (item.type === 'reasoning') {
    const block = reasoningBlockOf(item);
    const { encrypted_content: _dropped, ...rest } = item;
    return (block ? { ...rest, encrypted_content: encodeReasoning(block) } : rest) as ResponseInputItem;
  }
  return structuredClone(item) as unknown as ResponseInputItem;
}

/** Stores the response unless asked not to. A store that cannot write (disk full) costs the client nothing but the stored copy. */
function saveResponse(store: ResponseStore, request: ResponsesRequest, history: readonly ResponseInputItem[], response: ResponseObject): void {
  if (request.store === false) return;
  const inputItems = listedInput(request);
  try {
    store.save({ response, inputItems, conversation: [...history, ...inputItems, ...response.output.map(asInputItem)] });
  } catch (error) {
    console.error(`bedrock-bridge: could not store response ${response.id}:`, error instanceof Error ? error.message : error);
  }
}

/** The Responses stream events as SSE; the response is stored once it has ended. */
class ResponsesSse implements SseEncoder {
  readonly #translator: ResponsesStreamTranslator;
  readonly #settled: (response: ResponseObject) => void;

  constructor(translator: ResponsesStreamTranslator, settled: (response: ResponseObject) => void) {
    this.#translator = translator;
    this.#settled = settled;
  }

  push(event: ConverseStreamOutput): string {
    return this.#translator.push(event);
  }

  end(): string {
    const text = this.#translator.finish();
    this.#settled(this.#translator.response);
    return text;
  }

  fail(error: unknown): string {
    const text = this.#translator.fail(error);
    this.#settled(this.#translator.response);
    return text;
  }

  get sentContent(): boolean {
    return this.#translator.sentContent;
  }

  get outputTokens(): number {
    return this.#translator.outputTokens;
  }

  get usage(): TokenUsage {
    return this.#translator.usage;
  }
}

function notFound(id: string): OpenAIError {
  return new OpenAIError(404, `Response with id '${id}' not found.`, { type: 'invalid_request_error', code: null, param: null });
}

/** POST /v1/responses */
export function createResponseHandler(deps: ResponsesRouteDeps) {
  const { runtime, models, resolveImage, effectiveModelOf, store } = deps;

  return async function createResponse(c: RouteContext): Promise<Response> {
    const log = c.get('requestLog');
    const body = c.get('jsonBody');
    log.requestedModel = modelNameOf(body);
    try {
      const request = parseResponsesRequest(body);
      log.stream = request.stream === true;
      let history: ResponseInputItem[] = [];
      const previousId = request.previous_response_id;
      if (previousId) {
        const previous = store.get(previousId);
        if (!previous) {
          throw invalidRequest(
            `Previous response with id '${previousId}' not found. Stored responses live on this machine for a limited time (see docs/usage.md); send the full input instead.`,
            'previous_response_id',
            'previous_response_not_found',
          );
        }
        history = previous.conversation;
      }
      const resolved = await resolveRequestModel(request.model, models, effectiveModelOf, log);
      const plan: ResponsesPlan = await buildResponsesConverseRequest(request, history, resolved.modelId, resolveImage, resolved.effectiveModelId);
      const context: ResponseContext = {
        id: `resp_${log.id.replaceAll('-', '')}`,
        createdAt: Math.floor(log.startedAt / 1000),
        model: resolved.requested ?? resolved.modelId,
        request,
        includeReasoning: request.include?.includes('reasoning.encrypted_content') === true,
      };

      if (!log.stream) {
        const output = await runtime.send(new ConverseCommand(plan.input), { abortSignal: c.req.raw.signal });
        const { response, usage } = toResponse(output, plan, context);
        log.usage = usage;
        saveResponse(store, request, history, response);
        log.finish(200, null);
        return jsonResponse(response, { 'x-request-id': log.id });
      }

      const translator = new ResponsesStreamTranslator(plan, context);
      const settled = (response: ResponseObject) => saveResponse(store, request, history, response);
      const prelude = translator.start();
      let stream;
      try {
        stream = await openConverseStream(runtime, plan.input, c.req.raw.signal);
      } catch (error) {
        if (c.req.raw.signal.aborted) throw error;
        // Bedrock refused before streaming (prompt too long, throttled, signed out): the stream the
        // client asked for says so the way Responses clients read it, as response.failed.
        const text = prelude + translator.fail(error);
        settled(translator.response);
        log.finish(200, streamErrorType(error));
        const { 'transfer-encoding': _chunked, ...headers } = SSE_HEADERS;
        return new Response(text, { status: 200, headers: { ...headers, 'x-request-id': log.id } });
      }
      return respondWithSse(c, log, stream, new ResponsesSse(translator, settled), prelude);
    } catch (error) {
      const failure = fromBedrockError(error);
      const clientGone = c.req.raw.signal.aborted;
      log.finish(clientGone ? 499 : failure.status, clientGone ? CLIENT_CLOSED : failure.type);
      return openAIErrorResponse(failure, log.id);
    }
  };
}

function withErrors(handler: (c: RouteContext) => Response): (c: RouteContext) => Response {
  return (c) => {
    try {
      return handler(c);
    } catch (error) {
      return openAIErrorResponse(fromBedrockError(error), c.get('requestLog').id);
    }
  };
}

/** GET /v1/responses/{id} */
export function retrieveResponseHandler(store: ResponseStore) {
  return withErrors((c) => {
    const id = c.req.param('id')!;
    if (c.req.query('stream') === 'true') throw unsupported('stream', 'Streaming a stored response again is not supported; it is complete: retrieve it without stream.');
    const stored = store.get(id);
    if (!stored) throw notFound(id);
    return jsonResponse(stored.response);
  });
}

/** DELETE /v1/responses/{id} */
export function deleteResponseHandler(store: ResponseStore) {
  return withErrors((c) => {
    const id = c.req.param('id')!;
    if (!store.delete(id)) throw notFound(id);
    return jsonResponse({ id, object: 'response', deleted: true });
  });
}

const MAX_LIST_LIMIT = 100;

/** GET /v1/responses/{id}/input_items?limit=&order=&after= */
export function inputItemsHandler(store: ResponseStore) {
  return withErrors((c) => {
    const id = c.req.param('id')!;
    const stored = store.get(id);
    if (!stored) throw notFound(id);
    const order = c.req.query('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalidRequest("order must be 'asc' or 'desc'.", 'order');
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? 20 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw invalidRequest(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}.`, 'limit');
    let items = order === 'asc' ? stored.inputItems : [...stored.inputItems].reverse();
    const after = c.req.query('after');
    if (after !== undefined) {
      const at = items.findIndex((item) => item.id === after);
      if (at < 0) throw invalidRequest(`No input item with id '${after}' in this response.`, 'after');
      items = items.slice(at + 1);
    }
    const data = items.slice(0, limit);
    return jsonResponse({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: items.length > limit });
  });
}
