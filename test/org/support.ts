import { randomUUID } from 'node:crypto';
import type { CollectedWireRecord } from '../../src/usage/wire-record-schema.ts';

/** A valid wire record (docs/usage.md), overridable field by field. */
export function wireRecord(overrides: Partial<CollectedWireRecord> = {}): CollectedWireRecord {
  const started = overrides.started_at ?? new Date().toISOString();
  return {
    id: randomUUID(),
    started_at: started,
    ended_at: new Date(Date.parse(started) + 1200).toISOString(),
    user: null,
    identity_source: 'org-gateway',
    client: 'openai/js 5.0',
    route: '/v1/chat/completions',
    requested_model: 'claude-sonnet',
    model_id: 'anthropic.claude-sonnet-4-20250514-v1:0',
    region: 'us-east-1',
    input_tokens: 100,
    output_tokens: 50,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    latency_ms: 1200,
    time_to_first_token_ms: 300,
    status: 200,
    error_type: null,
    stream: true,
    cost_usd: 0.01,
    ...overrides,
  };
}
