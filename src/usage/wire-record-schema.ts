import { z } from 'zod';

/**
 * What an audit endpoint accepts as a record (WireUsageRecord in ./usage-record.ts; BRIEF section 6):
 * the test collector (src/emulator/audit-collector.ts) and the org gateway (src/org) validate with it.
 */
export const MAX_RECORDS_PER_POST = 500;
/** A batch is `{client, records: [flat objects]}`: anything nested deeper is refused (it would overflow JSON.stringify). */
export const MAX_BODY_DEPTH = 32;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO-8601 date');
const count = z.number().int().nonnegative();

export const wireRecordSchema = z.strictObject({
  id: z.string().regex(UUID, 'id must be a UUID'),
  started_at: isoDate,
  ended_at: isoDate,
  user: z.string().max(512).nullable(),
  identity_source: z.enum(['env', 'aws-profile', 'identity-center', 'org-gateway']).nullable(),
  client: z.string().max(1024).nullable(),
  route: z.string().min(1).max(256),
  requested_model: z.string().max(2048).nullable(),
  model_id: z.string().max(2048).nullable(),
  region: z.string().min(1).max(64),
  input_tokens: count,
  output_tokens: count,
  cache_read_tokens: count,
  cache_write_tokens: count,
  latency_ms: z.number().nonnegative(),
  time_to_first_token_ms: z.number().nonnegative().nullable(),
  status: z.number().int().min(100).max(599),
  error_type: z.string().max(256).nullable(),
  stream: z.boolean(),
  cost_usd: z.number().nonnegative().nullable(),
});

export type CollectedWireRecord = z.infer<typeof wireRecordSchema>;

/** The POST body: who synced (`client`, free-form) and up to 500 records, each checked on its own later. */
export const auditPostSchema = z.object({
  client: z.record(z.string(), z.unknown()),
  records: z.array(z.looseObject({ id: z.string().min(1).max(128) })).max(MAX_RECORDS_PER_POST),
});

/** A per-record rejection reason from a failed parse: `invalid record: <path>: <message>`. */
export function recordIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `invalid record: ${issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'invalid'}`;
}
