import { CLIENT_TEXT_LIMITS, clipOptional } from '../core/client-text.ts';
import type { RequestFinishedEvent } from '../core/request-events.ts';

/** Where the identity on a record came from (the credential source kind), or null if unknown. */
export type IdentitySourceKind = 'env' | 'aws-profile' | 'identity-center' | 'org-gateway';

export interface RecordIdentity {
  /** The signed-in user (Identity Center user name, IdP subject/email, or the AWS ARN for env/profile). */
  user: string | null;
  source: IdentitySourceKind | null;
}

/**
 * One usage record per request the gateway answered, success or failure. It carries
 * counts, timings, model ids and status — never prompt or completion text.
 */
export interface UsageRecord {
  /** UUIDv7 — the request event's id; sorts by creation time as a string. */
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  user: string | null;
  identitySource: IdentitySourceKind | null;
  /** The client's User-Agent, or null. */
  client: string | null;
  route: string;
  requestedModel: string | null;
  modelId: string | null;
  region: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  status: number;
  errorType: string | null;
  stream: boolean;
  /** Estimated USD cost from the price table; null when the model's price is unknown (never 0 for unknown). */
  costUsd: number | null;
}

function count(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** Builds a record from the gateway's event. The event type has no text fields, so none can leak. */
export function usageRecordFromEvent(
  event: RequestFinishedEvent,
  identity: RecordIdentity,
  costUsd: number | null,
): UsageRecord {
  return {
    id: event.id,
    startedAt: event.startedAt,
    endedAt: event.endedAt,
    user: identity.user,
    identitySource: identity.source,
    // Bounded again here: events may come from other emitters than the gateway's RequestLog.
    client: clipOptional(event.userAgent, CLIENT_TEXT_LIMITS.userAgent),
    route: event.route,
    requestedModel: clipOptional(event.requestedModel, CLIENT_TEXT_LIMITS.model),
    modelId: clipOptional(event.modelId, CLIENT_TEXT_LIMITS.model),
    region: event.region,
    inputTokens: count(event.usage?.inputTokens),
    outputTokens: count(event.usage?.outputTokens),
    cacheReadTokens: count(event.usage?.cacheReadTokens),
    cacheWriteTokens: count(event.usage?.cacheWriteTokens),
    latencyMs: Math.max(0, event.latencyMs),
    timeToFirstTokenMs: event.timeToFirstTokenMs,
    status: event.status,
    errorType: event.errorType,
    stream: event.stream,
    costUsd,
  };
}

/** True when the request failed (an error status, or a stream that started and then failed). */
export function isErrorRecord(record: Pick<UsageRecord, 'status' | 'errorType'>): boolean {
  return record.status >= 400 || record.errorType !== null;
}

/**
 * The record as the audit endpoint receives it: snake_case, ISO-8601 times alongside epoch ms.
 * See docs/usage.md for the field list; src/emulator/audit-collector.ts validates exactly this shape.
 */
export interface WireUsageRecord {
  id: string;
  started_at: string;
  ended_at: string;
  user: string | null;
  identity_source: IdentitySourceKind | null;
  client: string | null;
  route: string;
  requested_model: string | null;
  model_id: string | null;
  region: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  status: number;
  error_type: string | null;
  stream: boolean;
  cost_usd: number | null;
}

export function toWireRecord(record: UsageRecord): WireUsageRecord {
  return {
    id: record.id,
    started_at: new Date(record.startedAt).toISOString(),
    ended_at: new Date(record.endedAt).toISOString(),
    user: record.user,
    identity_source: record.identitySource,
    client: record.client,
    route: record.route,
    requested_model: record.requestedModel,
    model_id: record.modelId,
    region: record.region,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cache_read_tokens: record.cacheReadTokens,
    cache_write_tokens: record.cacheWriteTokens,
    latency_ms: record.latencyMs,
    time_to_first_token_ms: record.timeToFirstTokenMs,
    status: record.status,
    error_type: record.errorType,
    stream: record.stream,
    cost_usd: record.costUsd,
  };
}
