import { EventEmitter } from 'node:events';

/** Token counts as Bedrock reports them; inputTokens excludes cache reads and writes. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const CHAT_ROUTE = '/v1/chat/completions';
export const EMBEDDINGS_ROUTE = '/v1/embeddings';
/** Anthropic's Messages API (Claude Code, the Anthropic SDKs). */
export const MESSAGES_ROUTE = '/v1/messages';
/** Free on Bedrock (CountTokens), so not an inference route: nothing to record in the ledger. */
export const COUNT_TOKENS_ROUTE = '/v1/messages/count_tokens';
/** POST creates a response; the stored ones live under `/v1/responses/{id}` (not inference). */
export const RESPONSES_ROUTE = '/v1/responses';

/**
 * The Bedrock Runtime operations the bridge relays as they are (the Bedrock-native passthrough), by
 * the last segment of their path `/model/{modelId}/<operation>`.
 */
export const BEDROCK_NATIVE_OPERATIONS = ['invoke', 'invoke-with-response-stream', 'converse', 'converse-stream', 'count-tokens'] as const;
export type BedrockNativeOperation = (typeof BEDROCK_NATIVE_OPERATIONS)[number];

const BEDROCK_NATIVE_PATH = new RegExp(`^/model/[^/]+/(${BEDROCK_NATIVE_OPERATIONS.join('|')})$`);

/** The route of a request path: a Bedrock-native path loses its model id (the event carries it). */
export function routeOf(path: string): string {
  const native = BEDROCK_NATIVE_PATH.exec(path);
  return native ? bedrockNativeRoute(native[1] as BedrockNativeOperation) : path;
}

export function bedrockNativeRoute(operation: BedrockNativeOperation): string {
  return `/model/{modelId}/${operation}`;
}

/** Bedrock-native routes that run a model (CountTokens is free and generates nothing). */
const BEDROCK_NATIVE_INFERENCE = new Set(BEDROCK_NATIVE_OPERATIONS.filter((operation) => operation !== 'count-tokens').map(bedrockNativeRoute));

/**
 * The routes of the model API (`/v1/*` and the Bedrock-native `/model/...` passthrough): what the live log
 * shows. Anything else the server answers (a browser's /favicon.ico, a stray path) is not a model call.
 */
export function isModelApiRoute(route: string): boolean {
  return route === '/v1' || route.startsWith('/v1/') || route.startsWith('/model/');
}

/** The routes that call a model: the usage ledger records their requests, whatever the outcome. */
export function isInferenceRoute(route: string): boolean {
  return route === CHAT_ROUTE || route === EMBEDDINGS_ROUTE || route === MESSAGES_ROUTE || route === RESPONSES_ROUTE || BEDROCK_NATIVE_INFERENCE.has(route);
}

/**
 * One per HTTP request the gateway answered, success or failure: every route, unknown paths, guard
 * rejections (401, 403, 413, 415, malformed JSON) and CORS preflights included. Streams emit it when
 * they end. Never carries prompt or completion text: the live log, the usage ledger (inference routes
 * only, see isInferenceRoute) and the window all read this.
 */
export interface RequestFinishedEvent {
  /** UUIDv7 from newRequestId(); also the usage record's id and the OpenAI response id suffix. */
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  /**
   * The request path without the query, e.g. '/v1/chat/completions', '/v1/models/gpt-4o', or an unknown
   * path; a Bedrock-native path with `{modelId}` in place of the model (routeOf), e.g. '/model/{modelId}/invoke'.
   */
  route: string;
  /** The model the client asked for, as it asked (alias, Bedrock id or ARN); null if absent. */
  requestedModel: string | null;
  /** The Bedrock model id / inference profile / ARN it resolved to; null if it did not resolve. */
  modelId: string | null;
  /**
   * For an application inference profile, the system-defined id it behaves like (see
   * profileRouteId in model-catalog.ts), which prices it; otherwise (or when not found) modelId.
   */
  effectiveModelId: string | null;
  region: string;
  stream: boolean;
  /**
   * HTTP status the client received (200 for a stream that started, even if it later failed); 499 when
   * the client went away before a non-streamed answer.
   */
  status: number;
  /** OpenAI error type (or Bedrock exception name for mid-stream failures); null on success. */
  errorType: string | null;
  usage: TokenUsage;
  latencyMs: number;
  /** Milliseconds from request start to the first content byte sent; null when not streamed or none. */
  timeToFirstTokenMs: number | null;
  userAgent: string | null;
  /**
   * What the bridge removed or rewrote in the request so Bedrock would take it (names only, never
   * values: `anthropic_beta:oauth-2025-04-20`, `context_management`, `metadata.user_id`, …); absent
   * when nothing was.
   */
  droppedFields?: readonly string[];
}

/**
 * Emitted when a request arrives, before any guard or parsing: the live log shows it at once. Later
 * facts (model, tokens so far) follow in `request-progress`, the outcome in `request-finished`.
 */
export interface RequestStartedEvent {
  id: string;
  startedAt: number;
  route: string;
  userAgent: string | null;
}

/**
 * What a request has learnt since it started: its model once resolved, and for a stream the output
 * tokens so far (an estimate until Bedrock's own count arrives) and the time to first token. Emitted by
 * RequestLog.progress(); may be emitted many times per request, never after `request-finished`.
 */
export interface RequestProgressEvent {
  id: string;
  route: string;
  requestedModel: string | null;
  modelId: string | null;
  stream: boolean;
  outputTokens: number;
  timeToFirstTokenMs: number | null;
}

export interface RequestEventMap {
  'request-started': [RequestStartedEvent];
  'request-progress': [RequestProgressEvent];
  'request-finished': [RequestFinishedEvent];
}

/** The in-process bus every shell (Electron, CLI, tests) subscribes to. */
export class RequestEventBus extends EventEmitter<RequestEventMap> {}
