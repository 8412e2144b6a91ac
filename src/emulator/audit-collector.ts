import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { nestsDeeperThan } from '../core/json-text.ts';
import { auditPostSchema as bodySchema, MAX_BODY_DEPTH, recordIssue, wireRecordSchema, type CollectedWireRecord } from '../usage/wire-record-schema.ts';
import { IDENTITY_HEADER, resolveStsEndpoint, stsProofUrl } from '../usage/identity-proof.ts';
import { verifyIdentityProof } from '../usage/identity-proof-verifier.ts';

/**
 * The org's central audit endpoint, as a test double that follows the contract exactly
 * (BRIEF section 6): POST {usage_endpoint} with {"client":{...},"records":[...]} (<= 500), answer
 * {"accepted":[ids],"rejected":[{"id","reason"}]}, idempotent by id, 429/503 with Retry-After,
 * bearer-token or identity-proof auth. It persists what it receives in node:sqlite and lets tests
 * inject faults. Usable as a Hono app (emulator `services`) or on its own port.
 */

export const DEFAULT_USAGE_PATH = '/usage';

export type InjectedFault =
  /** Answer with this status (and Retry-After) without looking at the records. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Drop the connection without answering (before processing). */
  | { kind: 'destroy' }
  /** Store the records, then drop the connection: the client never learns, and re-sends (duplicates). */
  | { kind: 'drop-response' }
  /** Store everything but list only the first `count` ids as accepted; the rest are neither accepted nor rejected. */
  | { kind: 'partial-ack'; count: number }
  /** Answer after a delay. */
  | { kind: 'slow'; ms: number };

export interface CollectorFaults {
  /** Every request's connection is dropped unanswered (the endpoint is "down"). */
  down: boolean;
  /** Added to every answer. */
  delayMs: number;
  /** Consumed one per POST, in order, before `chaos`. */
  queue: InjectedFault[];
  /** Records with these ids are rejected with the reason (partial rejections). */
  rejectIds: Map<string, string>;
  /**
   * A POST holding any of these ids is refused as a whole with the status (400, 422, …) and the reason
   * as its error message — an endpoint that validates the batch, not each record.
   */
  refuseBatchesWith: Map<string, { status: number; reason: string }>;
  /** A POST with more records than this is refused with 413 (an endpoint whose body limit is below 500 records). */
  maxRecordsPerPost: number | null;
  /** Random faults: each POST draws one of `faults` with probability `rate`. */
  chaos: { rate: number; faults: InjectedFault[]; random?: () => number } | null;
}

export interface StoredRecord {
  id: string;
  record: CollectedWireRecord;
  /** The user the collector authenticated (bearer verifier or STS ARN session name). */
  authenticatedUser: string;
  client: Record<string, unknown>;
  receivedAt: number;
  /** How many times this id was delivered (1 = exactly once; more = re-sent, accepted idempotently). */
  deliveries: number;
}

export interface CollectorStats {
  posts: number;
  /** Records stored (distinct ids). */
  stored: number;
  /** Deliveries of ids already stored. */
  duplicates: number;
  rejected: number;
  unauthorized: number;
  injected: number;
  byStatus: Record<string, number>;
}

export type BearerVerifier = (token: string) => string | null | Promise<string | null>;

export interface AuditCollectorOptions {
  /** node:sqlite file; default ':memory:'. */
  databasePath?: string;
  /** The route the usage endpoint answers on. Default /usage (as the org-gateway emulator advertises). */
  path?: string;
  /** STS endpoint identity proofs are replayed to; default from AWS_ENDPOINT_URL_STS / region. */
  stsEndpoint?: string;
  region?: string;
  /** Bearer tokens (org-gateway mode): returns the user, or null to refuse with 401. */
  bearerVerifier?: BearerVerifier;
  /** This endpoint's own URL(s), which an identity proof's audience must equal. Default: the URL requested. */
  audience?: string | string[];
  /** Timeout of the replayed STS call. Default 10 s. */
  stsTimeoutMs?: number;
  now?: () => number;
}

export interface AuditCollector {
  app: Hono;
  faults: CollectorFaults;
  readonly path: string;
  setAudience(audience: string | string[]): void;
  /** Where identity proofs are replayed (when STS shares the emulator's port, known only after it starts). */
  setStsEndpoint(endpoint: string): void;
  /** Every stored record, in id order. */
  records(): StoredRecord[];
  /** Deliveries per id (ids delivered but rejected are not here). */
  deliveriesById(): Map<string, number>;
  stats(): CollectorStats;
  /** Clears injected faults. */
  resetFaults(): void;
  close(): void;
}

function emptyFaults(): CollectorFaults {
  return { down: false, delayMs: 0, queue: [], rejectIds: new Map(), refuseBatchesWith: new Map(), maxRecordsPerPost: null, chaos: null };
}

function normalizeUrl(value: string): string {
  return value.replace(/\/+$/, '');
}

/** Injected delays do not keep a test process alive. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function dropConnection(c: Context): boolean {
  const env = c.env as { incoming?: { socket?: { destroy(): void }; stream?: { close(code?: number): void } } } | undefined;
  const socket = env?.incoming?.socket;
  if (socket) {
    socket.destroy();
    return true;
  }
  return false;
}

export function createAuditCollector(options: AuditCollectorOptions = {}): AuditCollector {
  const path = options.path ?? DEFAULT_USAGE_PATH;
  const now = options.now ?? Date.now;
  let stsUrl = stsProofUrl(options.stsEndpoint ?? resolveStsEndpoint(options.region ?? 'us-east-1'));
  let audiences: string[] | null = options.audience ? [options.audience].flat().map(normalizeUrl) : null;
  const faults = emptyFaults();
  const stats: CollectorStats = { posts: 0, stored: 0, duplicates: 0, rejected: 0, unauthorized: 0, injected: 0, byStatus: {} };

  const db = new DatabaseSync(options.databasePath ?? ':memory:');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS usage_records (
      id TEXT PRIMARY KEY NOT NULL,
      received_at INTEGER NOT NULL,
      authenticated_user TEXT NOT NULL,
      client_json TEXT NOT NULL,
      record_json TEXT NOT NULL,
      model_id TEXT,
      input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER, cache_write_tokens INTEGER,
      cost_usd REAL,
      started_at TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rejections (id TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
  `);
  const insert: StatementSync = db.prepare(
    `INSERT OR IGNORE INTO usage_records (id, received_at, authenticated_user, client_json, record_json, model_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const countDelivery = db.prepare('INSERT INTO deliveries (id, count) VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET count = count + 1');
  const insertRejection = db.prepare('INSERT INTO rejections (id, reason, at) VALUES (?, ?, ?)');

  const status = (code: number) => {
    stats.byStatus[code] = (stats.byStatus[code] ?? 0) + 1;
  };
  const unauthorized = (c: Context, reason: string) => {
    stats.unauthorized++;
    status(401);
    return c.json({ error: { message: reason, type: 'unauthorized' } }, 401, { 'www-authenticate': 'Bearer' });
  };

  async function authenticate(c: Context): Promise<{ user: string } | { error: string }> {
    const proofHeader = c.req.header(IDENTITY_HEADER);
    if (proofHeader) {
      const verified = await verifyIdentityProof(proofHeader, { stsUrl, audiences: audiences ?? [normalizeUrl(c.req.url)], timeoutMs: options.stsTimeoutMs ?? 10_000 });
      return 'error' in verified ? verified : { user: verified.user };
    }
    const authorization = c.req.header('authorization');
    const bearer = authorization && /^Bearer\s+(.+)$/i.exec(authorization)?.[1];
    if (bearer) {
      if (!options.bearerVerifier) return { error: 'bearer tokens are not accepted here' };
      const user = await options.bearerVerifier(bearer.trim());
      return user ? { user } : { error: 'invalid bearer token' };
    }
    return { error: 'missing credentials (Authorization: Bearer or X-Bedrock-Bridge-Identity)' };
  }

  function nextFault(): InjectedFault | null {
    if (faults.queue.length > 0) return faults.queue.shift()!;
    const chaos = faults.chaos;
    if (chaos && chaos.faults.length > 0) {
      const random = chaos.random ?? Math.random;
      if (random() < chaos.rate) return chaos.faults[Math.floor(random() * chaos.faults.length)]!;
    }
    return null;
  }

  let closed = false;
  const app = new Hono();
  app.onError((error, c) => {
    // Answered as the contract's error object, not hono's plain-text page; said once on stderr for whoever debugs.
    console.error(`audit collector: ${error instanceof Error ? error.message : String(error)}`);
    status(500);
    return c.json({ error: { message: 'internal error', type: 'internal' } }, 500);
  });
  app.post(path, async (c) => {
    stats.posts++;
    if (faults.down) {
      stats.injected++;
      if (dropConnection(c)) return new Response(null, { status: 599 });
      status(503);
      return c.json({ error: { message: 'down', type: 'unavailable' } }, 503);
    }
    if (faults.delayMs > 0) await sleep(faults.delayMs);
    const fault = nextFault();
    if (fault) stats.injected++;
    if (fault?.kind === 'slow') await sleep(fault.ms);
    if (fault?.kind === 'destroy' && dropConnection(c)) return new Response(null, { status: 599 });
    if (fault?.kind === 'status') {
      status(fault.status);
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return c.json({ error: { message: `injected ${fault.status}`, type: 'injected' } }, fault.status as 429, headers);
    }

    if (closed) {
      status(503);
      return c.json({ error: { message: 'collector closed', type: 'unavailable' } }, 503);
    }
    const auth = await authenticate(c);
    if ('error' in auth) return unauthorized(c, auth.error);

    if (!(c.req.header('content-type') ?? '').includes('application/json')) {
      status(415);
      return c.json({ error: { message: 'expected application/json', type: 'invalid_request' } }, 415);
    }
    let parsedBody: z.infer<typeof bodySchema>;
    try {
      const json: unknown = await c.req.json();
      if (nestsDeeperThan(json, MAX_BODY_DEPTH)) {
        status(400);
        return c.json({ error: { message: `invalid body: nested more than ${MAX_BODY_DEPTH} levels deep`, type: 'invalid_request' } }, 400);
      }
      const result = bodySchema.safeParse(json);
      if (!result.success) {
        status(400);
        return c.json({ error: { message: `invalid body: ${result.error.issues[0]?.message ?? 'invalid'}`, type: 'invalid_request' } }, 400);
      }
      parsedBody = result.data;
    } catch {
      status(400);
      return c.json({ error: { message: 'body is not JSON', type: 'invalid_request' } }, 400);
    }

    if (closed) {
      status(503);
      return c.json({ error: { message: 'collector closed', type: 'unavailable' } }, 503);
    }
    if (faults.maxRecordsPerPost !== null && parsedBody.records.length > faults.maxRecordsPerPost) {
      stats.injected++;
      status(413);
      return c.json({ error: { message: `at most ${faults.maxRecordsPerPost} records per request`, type: 'payload_too_large' } }, 413);
    }
    const refusal = parsedBody.records.map((raw) => faults.refuseBatchesWith.get(raw.id)).find((found) => found !== undefined);
    if (refusal) {
      stats.injected++;
      status(refusal.status);
      return c.json({ error: { message: refusal.reason, type: 'invalid_request' } }, refusal.status as 400);
    }
    const accepted: string[] = [];
    const rejected: { id: string; reason: string }[] = [];
    const receivedAt = now();
    const clientJson = JSON.stringify(parsedBody.client);
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const raw of parsedBody.records) {
        const forced = faults.rejectIds.get(raw.id);
        if (forced !== undefined) {
          rejected.push({ id: raw.id, reason: forced });
          insertRejection.run(raw.id, forced, receivedAt);
          continue;
        }
        const parsed = wireRecordSchema.safeParse(raw);
        if (!parsed.success) {
          const reason = recordIssue(parsed.error);
          rejected.push({ id: raw.id, reason });
          insertRejection.run(raw.id, reason, receivedAt);
          continue;
        }
        const r = parsed.data;
        const changes = Number(
          insert.run(r.id, receivedAt, auth.user, clientJson, JSON.stringify(r), r.model_id, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost_usd, r.started_at)
            .changes,
        );
        countDelivery.run(r.id);
        if (changes === 0) stats.duplicates++;
        else stats.stored++;
        accepted.push(r.id);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    stats.rejected += rejected.length;

    if (fault?.kind === 'drop-response' && dropConnection(c)) return new Response(null, { status: 599 });
    const acknowledged = fault?.kind === 'partial-ack' ? accepted.slice(0, fault.count) : accepted;
    status(200);
    return c.json({ accepted: acknowledged, rejected });
  });

  // Query and control API for tests and `bedrock-bridge emulator` users.
  app.get(`${path}/_collector/records`, (c) => c.json(readRecords()));
  app.get(`${path}/_collector/stats`, (c) => c.json(stats));
  app.post(`${path}/_collector/faults`, async (c) => {
    const body = (await c.req.json()) as {
      down?: boolean;
      delayMs?: number;
      queue?: InjectedFault[];
      rejectIds?: Record<string, string>;
      refuseBatchesWith?: Record<string, { status: number; reason: string }>;
      maxRecordsPerPost?: number | null;
      chaos?: CollectorFaults['chaos'];
    };
    if (typeof body.down === 'boolean') faults.down = body.down;
    if (typeof body.delayMs === 'number') faults.delayMs = body.delayMs;
    if (Array.isArray(body.queue)) faults.queue.push(...body.queue);
    if (body.rejectIds) for (const [id, reason] of Object.entries(body.rejectIds)) faults.rejectIds.set(id, reason);
    if (body.refuseBatchesWith) for (const [id, refusal] of Object.entries(body.refuseBatchesWith)) faults.refuseBatchesWith.set(id, refusal);
    if (body.maxRecordsPerPost !== undefined) faults.maxRecordsPerPost = body.maxRecordsPerPost;
    if (body.chaos !== undefined) faults.chaos = body.chaos;
    return c.json({ ok: true });
  });
  app.delete(`${path}/_collector/faults`, (c) => {
    resetFaults();
    return c.json({ ok: true });
  });

  function readRecords(): StoredRecord[] {
    const rows = db
      .prepare('SELECT u.id, u.received_at, u.authenticated_user, u.client_json, u.record_json, d.count FROM usage_records u JOIN deliveries d ON d.id = u.id ORDER BY u.id')
      .all() as unknown as { id: string; received_at: number; authenticated_user: string; client_json: string; record_json: string; count: number }[];
    return rows.map((row) => ({
      id: row.id,
      record: JSON.parse(row.record_json) as CollectedWireRecord,
      authenticatedUser: row.authenticated_user,
      client: JSON.parse(row.client_json) as Record<string, unknown>,
      receivedAt: row.received_at,
      deliveries: row.count,
    }));
  }

  function resetFaults(): void {
    Object.assign(faults, emptyFaults());
  }

  return {
    app,
    faults,
    path,
    setAudience(audience) {
      audiences = [audience].flat().map(normalizeUrl);
    },
    setStsEndpoint(endpoint) {
      stsUrl = stsProofUrl(endpoint);
    },
    records: readRecords,
    deliveriesById() {
      const rows = db.prepare('SELECT id, count FROM deliveries ORDER BY id').all() as unknown as { id: string; count: number }[];
      return new Map(rows.map((row) => [row.id, row.count]));
    },
    stats: () => ({ ...stats, byStatus: { ...stats.byStatus } }),
    resetFaults,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

export interface StartAuditCollectorOptions extends AuditCollectorOptions {
  /** Default 0 (a free port). */
  port?: number;
  host?: string;
}

export interface RunningAuditCollector extends Omit<AuditCollector, 'close'> {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** The usage endpoint URL (url + path): give this to the sync. */
  usageUrl: string;
  port: number;
  /** Stops listening: connections are refused (a "down" endpoint) until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops listening and closes the database. */
  close(): Promise<void>;
}

/** The collector on its own loopback port; its audience is its own usage URL. */
export async function startAuditCollector(options: StartAuditCollectorOptions = {}): Promise<RunningAuditCollector> {
  const collector = createAuditCollector(options);
  const host = options.host ?? '127.0.0.1';
  let server: Server | null = null;
  let port = options.port ?? 0;

  const listen = async () => {
    const created = createAdaptorServer({ fetch: collector.app.fetch, hostname: host }) as Server;
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, host, () => {
        created.off('error', reject);
        resolve();
      });
    });
    port = (created.address() as AddressInfo).port;
    server = created;
  };
  const unlisten = async () => {
    const current = server;
    server = null;
    if (!current) return;
    await new Promise<void>((resolve) => {
      current.close(() => resolve());
      current.closeAllConnections();
    });
  };

  await listen();
  const url = `http://${host}:${port}`;
  const usageUrl = `${url}${collector.path}`;
  if (!options.audience) collector.setAudience(usageUrl);

  const closeDatabase = collector.close;
  return {
    ...collector,
    url,
    usageUrl,
    port,
    stop: unlisten,
    start: listen,
    async close() {
      await unlisten();
      closeDatabase();
    },
  };
}
