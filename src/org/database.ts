import { mkdirSync } from 'node:fs';

/**
 * The one SQL interface the org store runs on, over PostgreSQL either way: embedded PGlite (a data
 * directory on disk, one process) or a server reached with `pg` through DATABASE_URL (any number
 * of gateway replicas). Both speak the same SQL, so one schema and one set of migrations serve both.
 */
export interface Sql {
  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Runs `work` on one connection inside BEGIN/COMMIT (ROLLBACK when it throws). */
  transaction<T>(work: (query: Sql['query']) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** 'pglite' or 'postgres', for logs and /readyz. */
  readonly kind: 'pglite' | 'postgres';
}

type PgliteQueryable = Pick<import('@electric-sql/pglite').Transaction, 'query' | 'exec'>;

/** Statements without parameters may be several (a migration): PGlite's query() takes only one. */
async function run<Row extends object>(db: PgliteQueryable, text: string, params: unknown[] = []): Promise<Row[]> {
  if (params.length > 0) return (await db.query<Row>(text, params)).rows;
  const results = await db.exec(text);
  return (results.at(-1)?.rows ?? []) as Row[];
}

/** Embedded PostgreSQL (PGlite) in `dataDir`, or in memory for 'memory://'. */
export async function openPglite(dataDir: string): Promise<Sql> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    query: (text, params) => run(db, text, params),
    transaction: (work) => db.transaction(async (tx) => work((text, params) => run(tx, text, params))),
    close: () => db.close(),
  };
}

export interface PostgresOptions {
  /** Connections per process. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing (the database is down). Default 5 s. */
  connectTimeoutMs?: number;
}

/** A PostgreSQL server through a `pg` pool. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Sql> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: 30_000,
  });
  // An idle connection the server closed (a restart) emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async query<Row extends object>(text: string, params: unknown[] = []) {
      return (await pool.query(text, params)).rows as Row[];
    },
    async transaction(work) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(async <Row extends object>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as Row[]);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** DATABASE_URL when given, else PGlite in `dataDir`. */
export function openDatabase(options: { databaseUrl?: string | undefined; dataDir: string }): Promise<Sql> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.dataDir);
}
