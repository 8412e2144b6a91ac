import type { DatabaseSync } from 'node:sqlite';
import { toCsv } from '../core/csv.ts';
import type { UsageLedger } from './ledger.ts';

export type UsagePeriod = 'day' | 'week' | 'month';
export type UsageGrouping = UsagePeriod | 'model' | 'client';

export interface UsageQuery {
  /** Epoch ms, inclusive. Default: everything. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** How periods are cut: the machine's local time (default) or UTC. */
  timeZone?: 'local' | 'utc';
}

export interface UsageRow {
  /** The group: '2026-11-22' (day), '2026-11-16' (week, its Monday), '2026-11' (month), a model id, or a client. */
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  totalTokens: number;
  /** Sum of the known costs (USD). */
  costUsd: number;
  /** Requests whose cost is unknown (unpriced model): costUsd does not include them. */
  unpricedRequests: number;
  errors: number;
}

export interface UsageTotals extends Omit<UsageRow, 'key'> {
  from: number | null;
  to: number | null;
}

const SUMS = `
  count(*) AS requests,
  coalesce(sum(input_tokens), 0) AS inputTokens,
  coalesce(sum(output_tokens), 0) AS outputTokens,
  coalesce(sum(cache_read_tokens), 0) AS cacheReadTokens,
  coalesce(sum(cache_write_tokens), 0) AS cacheWriteTokens,
  coalesce(sum(cost_usd), 0) AS costUsd,
  sum(cost_usd IS NULL) AS unpricedRequests,
  sum(status >= 400 OR error_type IS NOT NULL) AS errors`;

function keyExpression(grouping: UsageGrouping, timeZone: 'local' | 'utc'): string {
  const tz = timeZone === 'utc' ? '' : ", 'localtime'";
  switch (grouping) {
    case 'day':
      return `strftime('%Y-%m-%d', started_at / 1000, 'unixepoch'${tz})`;
    case 'week':
      // Monday of the ISO week: the next Sunday (or today if Sunday), minus six days.
      return `date(started_at / 1000, 'unixepoch'${tz}, 'weekday 0', '-6 days')`;
    case 'month':
      return `strftime('%Y-%m', started_at / 1000, 'unixepoch'${tz})`;
    case 'model':
      return `coalesce(model_id, requested_model, '(none)')`;
    case 'client':
      return `coalesce(client, '(unknown)')`;
  }
}

interface SumRow {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  unpricedRequests: number | null;
  errors: number | null;
}

function finish<T extends SumRow>(row: T): T & { totalTokens: number; unpricedRequests: number; errors: number } {
  return {
    ...row,
    costUsd: Math.round(row.costUsd * 1e10) / 1e10,
    unpricedRequests: row.unpricedRequests ?? 0,
    errors: row.errors ?? 0,
    totalTokens: row.inputTokens + row.outputTokens + row.cacheReadTokens + row.cacheWriteTokens,
  };
}

const CSV_HEADER = [
  'grouping',
  'key',
  'requests',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'total_tokens',
  'cost_usd',
  'unpriced_requests',
  'errors',
] as const;

/**
 * Grouped usage as one CSV table (a `grouping` column tells the groups apart), for `bedrock-bridge usage
 * --csv` and the window's export. Keys hold client-chosen text (model names, user agents): the shared
 * writer keeps a spreadsheet from running them as formulas.
 */
export function usageCsv(groups: Partial<Record<UsageGrouping, readonly UsageRow[]>>): string {
  const rows = Object.entries(groups).flatMap(([grouping, list]) =>
    (list ?? []).map((row) => [
      grouping,
      row.key,
      row.requests,
      row.inputTokens,
      row.outputTokens,
      row.cacheReadTokens,
      row.cacheWriteTokens,
      row.totalTokens,
      row.costUsd,
      row.unpricedRequests,
      row.errors,
    ]),
  );
  return toCsv(CSV_HEADER, rows);
}

/**
 * Personal usage over the ledger: the window and `bedrock-bridge usage` both read these.
 * Queries run on the ledger's connection (or a read-only one in another process: WAL readers never block the writer).
 */
export class UsageAggregates {
  readonly #db: DatabaseSync;

  constructor(source: UsageLedger | DatabaseSync) {
    this.#db = 'database' in source ? source.database : source;
  }

  /** Rows grouped by period (newest first) or by model/client (most expensive, then busiest, first). */
  by(grouping: UsageGrouping, query: UsageQuery = {}): UsageRow[] {
    const key = keyExpression(grouping, query.timeZone ?? 'local');
    const order = grouping === 'model' || grouping === 'client' ? 'costUsd DESC, requests DESC, key' : 'key DESC';
    const rows = this.#db
      .prepare(`SELECT ${key} AS key, ${SUMS} FROM records WHERE started_at >= ? AND started_at < ? GROUP BY 1 ORDER BY ${order}`)
      .all(query.from ?? 0, query.to ?? Number.MAX_SAFE_INTEGER) as unknown as (SumRow & { key: string })[];
    return rows.map(finish);
  }

  byDay(query?: UsageQuery): UsageRow[] {
    return this.by('day', query);
  }

  byWeek(query?: UsageQuery): UsageRow[] {
    return this.by('week', query);
  }

  byMonth(query?: UsageQuery): UsageRow[] {
    return this.by('month', query);
  }

  byModel(query?: UsageQuery): UsageRow[] {
    return this.by('model', query);
  }

  byClient(query?: UsageQuery): UsageRow[] {
    return this.by('client', query);
  }

  totals(query: UsageQuery = {}): UsageTotals {
    const row = this.#db
      .prepare(`SELECT ${SUMS} FROM records WHERE started_at >= ? AND started_at < ?`)
      .get(query.from ?? 0, query.to ?? Number.MAX_SAFE_INTEGER) as unknown as SumRow;
    return { ...finish(row), from: query.from ?? null, to: query.to ?? null };
  }
}
