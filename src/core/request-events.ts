import { EventEmitter } from 'node:events';

/** Token counts as Bedrock reports them; inputTokens excludes cache reads and writes. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * One per request the gateway answered, success or failure. Never carries prompt or
 * completion text: the live log, the usage ledger and the window all read this.
 */
export interface RequestFinishedEvent {
  /** UUIDv7 from newRequestId(); also the usage record's id and the OpenAI response id suffix. */
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  /** e.g. '/v1/chat/completions', '/v1/embeddings'. */
  route: string;
  /** The model the client asked for, as it asked (alias, Bedrock id or ARN); null if absent. */
  requestedModel: string | null;
  /** The Bedrock model id / inference profile / ARN it resolved to; null if it did not resolve. */
  modelId: string | null;
  region: string;
  stream: boolean;
  /** HTTP status the client received (200 for a stream that started, even if it later failed). */
  status: number;
  /** OpenAI error type (or Bedrock exception name for mid-stream failures); null on success. */
  errorType: string | null;
  usage: TokenUsage;
  latencyMs: number;
  /** Milliseconds from request start to the first content byte sent; null when not streamed or none. */
  timeToFirstTokenMs: number | null;
  userAgent: string | null;
}

export interface RequestEventMap {
  'request-finished': [RequestFinishedEvent];
}

/** The in-process bus every shell (Electron, CLI, tests) subscribes to. */
export class RequestEventBus extends EventEmitter<RequestEventMap> {}
