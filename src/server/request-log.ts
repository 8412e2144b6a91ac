import type { MiddlewareHandler } from 'hono';
import { CLIENT_TEXT_LIMITS, clipOptional, clipText, printable } from '../core/client-text.ts';
import { messageOf } from '../core/error-message.ts';
import { newRequestId } from '../core/ids.ts';
import { routeOf, type RequestEventBus, type RequestEventMap, type RequestFinishedEvent, type TokenUsage } from '../core/request-events.ts';
import { OpenAIError } from '../core/openai-errors.ts';
import { errorTypeOf, rememberErrorType } from './error-response.ts';

const MAX_DROPPED_FIELDS = 64;

export const ZERO_USAGE: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

/**
 * Collects the fields of one request's `request-finished` event as the request goes, and emits it
 * exactly once (a second finish() is ignored). Holds no prompt or completion text. Created for every
 * request by requestLogMiddleware; routes fill in what they learn and may finish it themselves.
 */
export class RequestLog {
  readonly id: string;
  readonly startedAt: number;
  readonly #bus: RequestEventBus;
  readonly #route: string;
  /** The Bedrock region the gateway calls (Claude first-party names resolve to its profiles). */
  readonly region: string;
  readonly #userAgent: string | null;
  #requestedModel: string | null = null;
  #modelId: string | null = null;
  #effectiveModelId: string | null = null;
  stream = false;
  usage: TokenUsage = ZERO_USAGE;
  timeToFirstTokenMs: number | null = null;
  /** See RequestFinishedEvent.droppedFields. */
  droppedFields: readonly string[] = [];
  /**
   * Set by a route whose response body outlives its handler (a stream): the route finishes the log at
   * the body's real end, so the middleware must not finish it when the handler returns.
   */
  finishesLater = false;
  #done = false;

  constructor(bus: RequestEventBus, id: string, startedAt: number, route: string, region: string, userAgent: string | null) {
    this.#bus = bus;
    this.id = id;
    this.startedAt = startedAt;
    // What the client sent is bounded here, once, for every subscriber (live log, ledger, window).
    this.#route = clipText(route, CLIENT_TEXT_LIMITS.route);
    this.region = region;
    this.#userAgent = clipOptional(userAgent, CLIENT_TEXT_LIMITS.userAgent);
    if (bus.listenerCount('request-started') > 0) {
      this.#emit('request-started', { id, startedAt, route: this.#route, userAgent: this.#userAgent });
    }
  }

  /** The model the client named, as it named it (bounded in length). */
  get requestedModel(): string | null {
    return this.#requestedModel;
  }

  set requestedModel(value: string | null) {
    this.#requestedModel = clipOptional(value, CLIENT_TEXT_LIMITS.model);
  }

  /** The Bedrock model it resolved to; a client may name any id or ARN, so bounded too. */
  get modelId(): string | null {
    return this.#modelId;
  }

  set modelId(value: string | null) {
    this.#modelId = clipOptional(value, CLIENT_TEXT_LIMITS.model);
  }

  get effectiveModelId(): string | null {
    return this.#effectiveModelId;
  }

  set effectiveModelId(value: string | null) {
    this.#effectiveModelId = clipOptional(value, CLIENT_TEXT_LIMITS.model);
  }

  #emit<K extends keyof RequestEventMap>(name: K, event: RequestEventMap[K][0]): void {
    try {
      (this.#bus.emit as (name: K, event: RequestEventMap[K][0]) => boolean)(name, event);
    } catch (error) {
      // A faulty subscriber must not break the response.
      console.error(`bedrock-bridge: a ${name} listener threw: ${printable(messageOf(error), 1000)}`);
    }
  }

  /**
   * Tells the live log what is known so far: call it once the model is resolved, and while a stream
   * runs with the output tokens so far. Free when nobody listens; ignored once finished.
   */
  progress(outputTokens = this.usage.outputTokens): void {
    if (this.#done || this.#bus.listenerCount('request-progress') === 0) return;
    this.#emit('request-progress', {
      id: this.id,
      route: this.#route,
      requestedModel: this.requestedModel,
      modelId: this.modelId,
      stream: this.stream,
      outputTokens,
      timeToFirstTokenMs: this.timeToFirstTokenMs,
    });
  }

  get finished(): boolean {
    return this.#done;
  }

  markFirstToken(): void {
    if (this.timeToFirstTokenMs === null) this.timeToFirstTokenMs = Date.now() - this.startedAt;
  }

  finish(status: number, errorType: string | null): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#bus.listenerCount('request-finished') === 0) return;
    const endedAt = Date.now();
    const event: RequestFinishedEvent = {
      id: this.id,
      startedAt: this.startedAt,
      endedAt,
      route: this.#route,
      requestedModel: this.requestedModel,
      modelId: this.modelId,
      effectiveModelId: this.effectiveModelId ?? this.modelId,
      region: this.region,
      stream: this.stream,
      status,
      errorType,
      usage: this.usage,
      latencyMs: endedAt - this.startedAt,
      timeToFirstTokenMs: this.timeToFirstTokenMs,
      userAgent: this.#userAgent,
    };
    // The names are the client's (beta values, field names, tool types): bounded like its other text.
    if (this.droppedFields.length > 0) event.droppedFields = this.droppedFields.slice(0, MAX_DROPPED_FIELDS).map((name) => clipText(name, CLIENT_TEXT_LIMITS.route));
    this.#emit('request-finished', event);
  }

  /** Finishes with the error's status and type. */
  fail(error: OpenAIError): void {
    this.finish(error.status, error.type);
  }
}

export interface RequestLogVariables {
  /** This request's log, set by requestLogMiddleware before any guard runs. */
  requestLog: RequestLog;
}

/**
 * Gives every request a RequestLog and finishes it when the handler returns, unless a route finished
 * it already (with what only it knows, e.g. 499 for a client gone) or will finish it at the end of a
 * stream. Runs before the guards, so their rejections (and 404s, and onError's 500s) emit an event too.
 */
export function requestLogMiddleware(events: RequestEventBus, region: string): MiddlewareHandler<{ Variables: RequestLogVariables }> {
  return async function requestLog(c, next) {
    const startedAt = Date.now();
    const log = new RequestLog(events, newRequestId(startedAt), startedAt, routeOf(c.req.path), region, c.req.header('user-agent') ?? null);
    c.set('requestLog', log);
    await next();
    if (log.finished || log.finishesLater) return;
    const status = c.res.status;
    log.finish(status, status >= 400 ? errorTypeOf(c.res) : null);
  };
}

const JSON_CONTENT_TYPE = 'application/json';

/** An OpenAIError as the JSON response OpenAI clients expect (retry-after and friends included). */
export function openAIErrorResponse(error: OpenAIError, requestId?: string): Response {
  const headers: Record<string, string> = { 'content-type': JSON_CONTENT_TYPE };
  if (requestId) headers['x-request-id'] = requestId;
  for (const name in error.headers) headers[name] = error.headers[name]!;
  return rememberErrorType(new Response(JSON.stringify(error.toJSON()), { status: clientStatus(error.status), headers }), error.type);
}

/** 499 (client closed) is for the log only; a client still listening gets a valid HTTP status. */
function clientStatus(status: number): number {
  return status >= 200 && status <= 599 && status !== 499 ? status : 500;
}

/** The `model` string a body carries, for the log, even when the body is otherwise invalid. */
export function modelNameOf(body: unknown): string | null {
  if (typeof body === 'object' && body !== null && 'model' in body) {
    const model = (body as { model?: unknown }).model;
    if (typeof model === 'string') return model;
  }
  return null;
}

export function jsonResponse(body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: headers ? { 'content-type': JSON_CONTENT_TYPE, ...headers } : { 'content-type': JSON_CONTENT_TYPE },
  });
}

export { OpenAIError };
