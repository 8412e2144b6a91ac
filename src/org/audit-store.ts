import type { Sql } from './database.ts';
import { migrate } from './migrations.ts';
import type { CollectedWireRecord } from '../usage/wire-record-schema.ts';

/**
 * The org's audit store: usage records filed under the person the gateway authenticated, idempotent
 * by record id (a re-sent id is accepted again and stored once, whichever replica gets it), and the
 * sums budgets and reports are computed from.
 */
export interface AuthenticatedCaller {
  user: string;
  groups: string[];
  /** How the gateway knew: an OIDC access token or an Identity Center identity proof. */
  method: 'oidc' | 'identity-center';
}

export interface IngestResult {
  accepted: string[];
  rejected: { id: string; reason: string }[];
}

export type ReportDimension = 'user' | 'group' | 'model' | 'client' | 'day' | 'week' | 'month';
export const REPORT_DIMENSIONS: readonly ReportDimension[] = ['user', 'group', 'model', 'client', 'day', 'week', 'month'];

export interface ReportQuery {
  by: ReportDimension[];
  /** Inclusive, by the request's start time. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  user?: string;
}

export interface ReportRow {
  /** One value per dimension of the query, in its order. */
  keys: Record<string, string>;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum of known costs; records whose price was unknown add nothing (see unpricedRequests). */
  costUsd: number;
  unpricedRequests: number;
}

/** SQL for each dimension; `g.name` is the lateral unnest of the record's groups. */
const DIMENSION_SQL: Record<ReportDimension, string> = {
  user: 'r.user_name',
  group: 'g.name',
  model: "coalesce(r.model_id, r.requested_model, '(none)')",
  client: "coalesce(r.client, '(unknown)')",
  day: `to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  week: `to_char(r.started_at AT TIME ZONE 'UTC', 'IYYY-"W"IW')`,
  month: `to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM')`,
};

const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const LATEST = Date.parse('2100-01-01T00:00:00Z');
/** numeric(18, 8) holds less than 1e10. */
const MAX_COST_USD = 1e9;

/**
 * Why a record the wire schema accepts could still not be stored (PostgreSQL refuses NUL in text, a
 * cost beyond the column, a date outside its range), or null. Checked per record before the batch's
 * single INSERT, so one such record is rejected alone instead of failing its whole batch on every retry.
 */
export function unstorableReason(record: CollectedWireRecord): string | null {
  for (const [field, value] of Object.entries(record)) {
    if (typeof value === 'string' && value.includes('\u0000')) return `invalid record: ${field}: contains a NUL character`;
  }
  for (const field of ['started_at', 'ended_at'] as const) {
    const at = Date.parse(record[field]);
    if (at < EARLIEST || at >= LATEST) return `invalid record: ${field}: must be between 2000 and 2100`;
  }
  if (record.cost_usd !== null && record.cost_usd >= MAX_COST_USD) return 'invalid record: cost_usd: too large';
  return null;
}

/** A PostgreSQL data exception (SQLSTATE class 22): what was sent cannot be stored, retrying will not help. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** The first instant of `at`'s calendar month, UTC: budgets are per calendar month. */
export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

export class AuditStore {
  readonly #sql: Sql;

  private constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Brings the schema up to date (safe with replicas starting at once) and returns the store. */
  static async open(sql: Sql): Promise<AuditStore> {
    await migrate(sql);
    return new AuditStore(sql);
  }

  get kind(): Sql['kind'] {
    return this.#sql.kind;
  }

  /** Resolves when the database answers (readiness). */
  async ping(): Promise<void> {
    await this.#sql.query('SELECT 1');
  }

  /**
   * Stores valid records under `caller` in one statement (all or nothing), ON CONFLICT DO NOTHING.
   * An id already filed under someone else is rejected: it cannot be claimed, nor confirmed to exist
   * by a different caller as if it were theirs.
   */
  async ingest(caller: AuthenticatedCaller, app: Record<string, unknown>, records: CollectedWireRecord[]): Promise<IngestResult> {
    if (records.length === 0) return { accepted: [], rejected: [] };
    const rows = records.map((r) => ({
      id: r.id,
      client: r.client,
      route: r.route,
      requested_model: r.requested_model,
      model_id: r.model_id,
      region: r.region,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cache_read_tokens: r.cache_read_tokens,
      cache_write_tokens: r.cache_write_tokens,
      latency_ms: r.latency_ms,
      time_to_first_token_ms: r.time_to_first_token_ms,
      status: r.status,
      error_type: r.error_type,
      stream: r.stream,
      cost_usd: r.cost_usd,
      // Any form Date.parse took, stored as the instant it names.
      started_at: new Date(r.started_at).toISOString(),
      ended_at: new Date(r.ended_at).toISOString(),
    }));
    await this.#sql.query(
      `INSERT INTO usage_records (id, user_name, groups, auth_method, app, client, route, requested_model, model_id, region,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms, time_to_first_token_ms, status,
         error_type, stream, cost_usd, started_at, ended_at)
       SELECT x.id, $2, $3::text[], $4, $5::jsonb, x.client, x.route, x.requested_model, x.model_id, x.region,
         x.input_tokens, x.output_tokens, x.cache_read_tokens, x.cache_write_tokens, x.latency_ms, x.time_to_first_token_ms, x.status,
         x.error_type, x.stream, x.cost_usd, x.started_at, x.ended_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, client text, route text, requested_model text, model_id text, region text,
         input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, latency_ms double precision,
         time_to_first_token_ms double precision, status integer, error_type text, stream boolean, cost_usd numeric,
         started_at timestamptz, ended_at timestamptz)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(rows), caller.user, caller.groups, caller.method, JSON.stringify(app)],
    );
    const foreign = await this.#sql.query<{ id: string }>(
      'SELECT id::text AS id FROM usage_records WHERE id = ANY($1::uuid[]) AND user_name <> $2',
      [records.map((r) => r.id), caller.user],
    );
    const taken = new Set(foreign.map((row) => row.id));
    const result: IngestResult = { accepted: [], rejected: [] };
    for (const record of records) {
      if (taken.has(record.id.toLowerCase())) result.rejected.push({ id: record.id, reason: 'this id is already filed under another user' });
      else result.accepted.push(record.id);
    }
    return result;
  }

  /** What `user` spent this calendar month (UTC), in USD, from stored records. */
  async userMonthSpend(user: string, now = new Date()): Promise<number> {
    const [row] = await this.#sql.query<{ spent: number | null }>(
      'SELECT sum(cost_usd)::float8 AS spent FROM usage_records WHERE user_name = $1 AND started_at >= $2',
      [user, monthStart(now)],
    );
    return row?.spent ?? 0;
  }

  /** What each of `groups` spent this calendar month: every record counts for each group its user was in. */
  async groupMonthSpend(groups: string[], now = new Date()): Promise<Map<string, number>> {
    const spent = new Map(groups.map((group) => [group, 0]));
    if (groups.length === 0) return spent;
    const rows = await this.#sql.query<{ name: string; spent: number | null }>(
      `SELECT g.name, sum(r.cost_usd)::float8 AS spent
       FROM usage_records r CROSS JOIN LATERAL unnest(r.groups) AS g(name)
       WHERE r.groups && $1::text[] AND g.name = ANY($1::text[]) AND r.started_at >= $2
       GROUP BY g.name`,
      [groups, monthStart(now)],
    );
    for (const row of rows) spent.set(row.name, row.spent ?? 0);
    return spent;
  }

  /** Each user's groups as of their latest filed record (what budgets are judged by in reports). */
  async latestGroups(users: string[]): Promise<Map<string, string[]>> {
    if (users.length === 0) return new Map();
    const rows = await this.#sql.query<{ user_name: string; groups: string[] }>(
      `SELECT DISTINCT ON (user_name) user_name, groups FROM usage_records WHERE user_name = ANY($1::text[]) ORDER BY user_name, received_at DESC`,
      [users],
    );
    return new Map(rows.map((row) => [row.user_name, row.groups]));
  }

  /** Totals grouped by the query's dimensions, largest cost first. */
  async report(query: ReportQuery): Promise<ReportRow[]> {
    const by = [...new Set(query.by)];
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.since) where.push(`r.started_at >= $${params.push(query.since)}`);
    if (query.until) where.push(`r.started_at < $${params.push(query.until)}`);
    if (query.user) where.push(`r.user_name = $${params.push(query.user)}`);
    const keys = by.map((dimension, index) => `${DIMENSION_SQL[dimension]} AS k${index}`);
    const groupJoin = by.includes('group')
      ? `CROSS JOIN LATERAL unnest(CASE WHEN cardinality(r.groups) = 0 THEN ARRAY['(none)'] ELSE r.groups END) AS g(name)`
      : '';
    const rows = await this.#sql.query<Record<string, unknown>>(
      `SELECT ${[...keys, 'count(*)::float8 AS requests',
        'count(*) FILTER (WHERE r.status >= 400 OR r.error_type IS NOT NULL)::float8 AS errors',
        'coalesce(sum(r.input_tokens), 0)::float8 AS input_tokens',
        'coalesce(sum(r.output_tokens), 0)::float8 AS output_tokens',
        'coalesce(sum(r.cost_usd), 0)::float8 AS cost_usd',
        'count(*) FILTER (WHERE r.cost_usd IS NULL)::float8 AS unpriced'].join(', ')}
       FROM usage_records r ${groupJoin}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ${by.length ? `GROUP BY ${by.map((_, index) => `k${index}`).join(', ')}` : ''}
       ORDER BY cost_usd DESC, requests DESC${by.length ? `, ${by.map((_, index) => `k${index}`).join(', ')}` : ''}`,
      params,
    );
    return rows.map((row) => ({
      keys: Object.fromEntries(by.map((dimension, index) => [dimension, String(row[`k${index}`])])),
      requests: Number(row.requests),
      errors: Number(row.errors),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      unpricedRequests: Number(row.unpriced),
    }));
  }

  close(): Promise<void> {
    return this.#sql.close();
  }
}
