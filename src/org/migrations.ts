import type { Sql } from './database.ts';

/**
 * The audit store's schema, one version at a time. A version is never edited once released: a change
 * is a new entry. Replicas starting together take an advisory lock, so each version runs once.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'usage records',
    sql: `
      CREATE TABLE usage_records (
        id uuid PRIMARY KEY,
        -- Who the gateway authenticated (never a field the laptop sent), and their groups at the time.
        user_name text NOT NULL,
        groups text[] NOT NULL DEFAULT '{}',
        auth_method text NOT NULL,
        -- The app that synced ({"name","version",...}) and the tool that made the request (User-Agent).
        app jsonb NOT NULL,
        client text,
        route text NOT NULL,
        requested_model text,
        model_id text,
        region text NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        cache_read_tokens bigint NOT NULL,
        cache_write_tokens bigint NOT NULL,
        latency_ms double precision NOT NULL,
        time_to_first_token_ms double precision,
        status integer NOT NULL,
        error_type text,
        stream boolean NOT NULL,
        cost_usd numeric(18, 8),
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX usage_records_user_started ON usage_records (user_name, started_at);
      CREATE INDEX usage_records_started ON usage_records (started_at);
      CREATE INDEX usage_records_groups ON usage_records USING gin (groups);
    `,
  },
];

/** An arbitrary constant naming this schema's migration lock. */
const MIGRATION_LOCK = 7_302_114_551;

/** Applies the versions not yet applied; returns those it applied. */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return sql.transaction(async (query) => {
    await query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Set((await query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => row.version));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((migration) => migration.version));
    if (newest > known) throw new Error(`The database schema is version ${newest}, newer than this gateway knows (${known}): upgrade the gateway.`);
    const ran: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await query(migration.sql);
      await query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      ran.push(migration.version);
    }
    return ran;
  });
}
