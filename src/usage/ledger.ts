import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { IdentitySourceKind, UsageRecord } from './usage-record.ts';

/** The ledger's schema version (PRAGMA user_version). Bump with a migration in `migrate()`. */
export const LEDGER_SCHEMA_VERSION = 1;
export const LEDGER_FILE_NAME = 'usage.sqlite';
/** `serve --emulator` records into this subdirectory of the data directory, apart from real spend. */
export const EMULATOR_LEDGER_DIRECTORY = 'emulator';

export type LedgerDurability = 'normal' | 'full';

export interface LedgerOptions {
  /** The app's data directory; the ledger file is `<dataDir>/usage.sqlite`. */
  dataDir?: string;
  /** Or an explicit file path (wins over dataDir). */
  path?: string;
  /**
   * `normal` (default): WAL with synchronous=NORMAL — a committed batch survives a crash of the
   * process (kill -9); a power loss may drop the last batches but never corrupts. `full` also
   * fsyncs the WAL on every commit (survives power loss) at the cost of an fsync per batch.
   */
  durability?: LedgerDurability;
  /** How long record() buffers before a flush (ms). 0 flushes on setImmediate. Default 5. */
  flushDelayMs?: number;
  /** A buffer this large flushes at once. Default 500. */
  maxBatch?: number;
  /** Unflushed records kept while the disk refuses writes; beyond it the oldest are dropped (and counted). */
  maxBuffered?: number;
  /** Synced records older than this are pruned by prune(). Default 90 days. */
  retentionDays?: number;
  /** How long a write waits for another process holding the write lock (ms). Default 250. */
  busyTimeoutMs?: number;
  /**
   * `worker` (default): commits run on a writer thread with its own connection, so neither a commit
   * nor SQLite's automatic WAL checkpoint (an fsync, milliseconds) ever blocks the event loop.
   * `inline`: commits run on the caller's thread (simplest; what the CLI's read-only use needs none of).
   */
  writer?: 'worker' | 'inline';
}

/** The writer thread (CommonJS source evaluated in a worker: no extra file to bundle). */
const WRITER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: workerData.busyTimeoutMs });
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = ' + workerData.synchronous);
const insert = db.prepare(workerData.insertSql);
const signal = new Int32Array(workerData.signal);
parentPort.on('message', (message) => {
  if (message.type === 'close') { try { db.close(); } catch {} parentPort.close(); return; }
  let error = null;
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const row of message.rows) insert.run(...row);
      db.exec('COMMIT');
    } catch (e) { try { db.exec('ROLLBACK'); } catch {} throw e; }
  } catch (e) { error = String((e && e.message) || e); Atomics.store(signal, 1, message.seq); }
  Atomics.store(signal, 0, message.seq);
  Atomics.notify(signal, 0);
  parentPort.postMessage({ seq: message.seq, error });
});
`;

type RecordRowValues = [string, number, number, string | null, string | null, string | null, string, string | null, string | null, string, number, number, number, number, number, number | null, number, string | null, number, number | null];

function toRowValues(r: UsageRecord): RecordRowValues {
  return [
    r.id, r.startedAt, r.endedAt, r.user, r.identitySource, r.client, r.route, r.requestedModel, r.modelId, r.region,
    r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.latencyMs, r.timeToFirstTokenMs,
    r.status, r.errorType, r.stream ? 1 : 0, r.costUsd,
  ];
}

const INSERT_SQL = `INSERT OR IGNORE INTO records (COLUMNS) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export interface LedgerEvents {
  /** After a batch commits: the ids now durable ("acknowledged"). */
  committed: [ids: string[]];
  /** A flush failed; the batch stays buffered and is retried. */
  'flush-error': [error: Error];
}

export interface RejectedRecord {
  id: string;
  reason: string;
  rejectedAt: number;
  /** When the request started (epoch ms) and the Bedrock model it went to: what the user recognises it by. */
  startedAt: number;
  modelId: string | null;
}

const STATE_PENDING = 0;
const STATE_SYNCED = 1;
const STATE_REJECTED = 2;

const COLUMNS =
  'id, started_at, ended_at, user_name, identity_source, client, route, requested_model, model_id, region, ' +
  'input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms, ttft_ms, status, error_type, stream, cost_usd';

interface RecordRow {
  id: string;
  started_at: number;
  ended_at: number;
  user_name: string | null;
  identity_source: string | null;
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
  ttft_ms: number | null;
  status: number;
  error_type: string | null;
  stream: number;
  cost_usd: number | null;
}

function rowToRecord(row: RecordRow): UsageRecord {
  return {
    id: row.id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    user: row.user_name,
    identitySource: row.identity_source as IdentitySourceKind | null,
    client: row.client,
    route: row.route,
    requestedModel: row.requested_model,
    modelId: row.model_id,
    region: row.region,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.ttft_ms,
    status: row.status,
    errorType: row.error_type,
    stream: row.stream === 1,
    costUsd: row.cost_usd,
  };
}

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  user_name TEXT,
  identity_source TEXT,
  client TEXT,
  route TEXT NOT NULL,
  requested_model TEXT,
  model_id TEXT,
  region TEXT NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  latency_ms REAL NOT NULL DEFAULT 0,
  ttft_ms REAL,
  status INTEGER NOT NULL,
  error_type TEXT,
  stream INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL,
  sync_state INTEGER NOT NULL DEFAULT 0,
  synced_at INTEGER,
  reject_reason TEXT,
  rejected_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_started_at ON records(started_at);
CREATE INDEX IF NOT EXISTS records_unsynced ON records(id) WHERE sync_state = 0;
CREATE INDEX IF NOT EXISTS records_rejected ON records(id) WHERE sync_state = 2;
`;

/**
 * The durable usage ledger on node:sqlite. record() only buffers (no I/O on the request's path);
 * the buffer is written in one transaction shortly after. A record is acknowledged when its
 * transaction commits ('committed' event / flush() resolving).
 */
export class UsageLedger extends EventEmitter<LedgerEvents> {
  readonly path: string;
  readonly database: DatabaseSync;
  readonly retentionMs: number;
  readonly #flushDelayMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  #buffer: UsageRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #dropped = 0;
  readonly #insert: StatementSync;
  readonly #markSynced: StatementSync;
  readonly #markRejected: StatementSync;

  constructor(options: LedgerOptions) {
    super();
    const path = options.path ?? (options.dataDir ? join(options.dataDir, LEDGER_FILE_NAME) : null);
    if (!path) throw new TypeError('UsageLedger needs a dataDir or a path');
    if (options.dataDir && !options.path) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.path = path;
    this.#flushDelayMs = options.flushDelayMs ?? 5;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.retentionMs = (options.retentionDays ?? 90) * 86_400_000;
    this.database = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 250 });
    const db = this.database;
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec('PRAGMA foreign_keys = ON');
    this.#migrate();
    this.#insert = db.prepare(INSERT_SQL.replace('COLUMNS', COLUMNS));
    this.#synchronous = options.durability === 'full' ? 'FULL' : 'NORMAL';
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 250;
    if ((options.writer ?? 'worker') === 'worker') this.#startWriter();
    this.#markSynced = db.prepare(`UPDATE records SET sync_state = ${STATE_SYNCED}, synced_at = ?, reject_reason = NULL WHERE id = ? AND sync_state <> ${STATE_SYNCED}`);
    this.#markRejected = db.prepare(
      `UPDATE records SET sync_state = ${STATE_REJECTED}, reject_reason = ?, rejected_at = ? WHERE id = ? AND sync_state = ${STATE_PENDING}`,
    );
  }

  readonly #synchronous: 'NORMAL' | 'FULL';
  readonly #busyTimeoutMs: number;
  #writer: Worker | null = null;
  /** [0] = last batch seq the writer finished, [1] = last batch seq that failed. */
  readonly #signal = new Int32Array(new SharedArrayBuffer(8));
  #seq = 0;
  readonly #inflight = new Map<number, UsageRecord[]>();
  #idleWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  #startWriter(): void {
    try {
      const worker = new Worker(WRITER_SOURCE, {
        eval: true,
        workerData: { path: this.path, synchronous: this.#synchronous, busyTimeoutMs: this.#busyTimeoutMs, insertSql: INSERT_SQL.replace('COLUMNS', COLUMNS), signal: this.#signal.buffer },
      });
      worker.unref();
      worker.on('message', (message: { seq: number; error: string | null }) => this.#settle(message.seq, message.error));
      const fallback = () => this.#writerGone(worker);
      worker.on('error', fallback);
      worker.on('exit', fallback);
      this.#writer = worker;
    } catch {
      this.#writer = null;
    }
  }

  /** The writer thread died: take back what it had not confirmed and write inline from now on (re-inserts are ignored). */
  #writerGone(worker: Worker): void {
    if (this.#writer !== worker) return;
    this.#writer = null;
    const unconfirmed = [...this.#inflight.keys()].sort((a, b) => a - b).flatMap((seq) => this.#inflight.get(seq)!);
    this.#inflight.clear();
    this.#buffer = unconfirmed.concat(this.#buffer);
    if (!this.#closed && this.#buffer.length > 0) this.#scheduleNow();
  }

  #settle(seq: number, error: string | null): void {
    const batch = this.#inflight.get(seq);
    if (!batch) return; // already settled by flushSync
    this.#inflight.delete(seq);
    if (error !== null) {
      this.#buffer = batch.concat(this.#buffer);
      const failure = new Error(error);
      this.emit('flush-error', failure);
      for (const waiter of this.#idleWaiters.splice(0)) waiter.reject(failure);
      this.#scheduleRetry();
    } else {
      this.#emitCommitted(batch);
    }
    if (this.#inflight.size === 0) {
      this.#writer?.unref();
      if (this.#buffer.length === 0) for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
    }
  }

  #emitCommitted(batch: UsageRecord[]): void {
    const ids = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) ids[i] = batch[i]!.id;
    this.emit('committed', ids);
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== null) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#dispatch();
    }, 1000);
    this.#retryTimer.unref();
  }

  /** Hands the buffer to the writer thread (or commits inline). */
  #dispatch(): void {
    const writer = this.#writer;
    if (!writer) {
      this.#flushBuffered();
      return;
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.length <= this.#maxBatch ? this.#buffer : this.#buffer.slice(0, this.#maxBatch);
      if (batch === this.#buffer) this.#buffer = [];
      else this.#buffer.splice(0, batch.length);
      const seq = ++this.#seq;
      this.#inflight.set(seq, batch);
      writer.ref();
      writer.postMessage({ type: 'write', seq, rows: batch.map(toRowValues) });
    }
  }

  #migrate(): void {
    const db = this.database;
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > LEDGER_SCHEMA_VERSION) {
      throw new Error(`The usage ledger at ${this.path} has schema version ${version}, newer than this app understands (${LEDGER_SCHEMA_VERSION}).`);
    }
    if (version === LEDGER_SCHEMA_VERSION) return;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (version < 1) db.exec(SCHEMA_V1);
      db.exec(`PRAGMA user_version = ${LEDGER_SCHEMA_VERSION}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Buffers a record; it is committed within flushDelayMs. Never does I/O itself. */
  record(record: UsageRecord): void {
    if (this.#closed) throw new Error('The usage ledger is closed');
    this.#buffer.push(record);
    if (this.#buffer.length > this.#maxBuffered) {
      this.#buffer.shift();
      this.#dropped++;
    }
    if (this.#buffer.length >= this.#maxBatch) this.#scheduleNow();
    else if (this.#timer === null && this.#immediate === null && this.#retryTimer === null) {
      if (this.#flushDelayMs <= 0) this.#scheduleNow();
      else this.#timer = setTimeout(this.#onTimer, this.#flushDelayMs);
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#immediate = null;
    this.#dispatch();
  };

  #scheduleNow(): void {
    if (this.#immediate !== null) return;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#immediate = setImmediate(this.#onTimer);
  }

  /** Records not yet committed (buffered, or handed to the writer and unconfirmed). */
  get buffered(): number {
    let n = this.#buffer.length;
    for (const batch of this.#inflight.values()) n += batch.length;
    return n;
  }

  /** Records dropped because the disk refused writes for too long (0 normally). */
  get dropped(): number {
    return this.#dropped;
  }

  #flushBuffered(): number {
    let written = 0;
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.length <= this.#maxBatch ? this.#buffer : this.#buffer.slice(0, this.#maxBatch);
      try {
        this.#commit(batch);
      } catch (error) {
        this.emit('flush-error', error instanceof Error ? error : new Error(String(error)));
        this.#scheduleRetry();
        return written;
      }
      if (batch === this.#buffer) this.#buffer = [];
      else this.#buffer.splice(0, batch.length);
      written += batch.length;
      this.#emitCommitted(batch);
    }
    return written;
  }

  #commit(batch: UsageRecord[]): void {
    const db = this.database;
    const insert = this.#insert;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const r of batch) insert.run(...toRowValues(r));
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // the transaction may already be gone
      }
      throw error;
    }
  }

  /** Commits everything buffered now; resolves when it is durable, rejects if the disk refused it. */
  flush(): Promise<void> {
    this.#cancelTimers();
    this.#dispatch();
    if (this.#inflight.size === 0 && this.#buffer.length === 0) return Promise.resolve();
    if (this.#inflight.size === 0) return Promise.reject(new Error('The usage ledger could not be written'));
    return new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
  }

  #cancelTimers(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
  }

  /**
   * Synchronous flush (shutdown): commits everything buffered and waits (bounded by `timeoutMs`)
   * for the writer thread. Returns how many records were committed; throws if some could not be.
   */
  flushSync(timeoutMs = 5_000): number {
    this.#cancelTimers();
    if (!this.#writer) {
      if (this.#buffer.length === 0) return 0;
      let failure: Error | null = null;
      const onError = (error: Error) => {
        failure = error;
      };
      this.once('flush-error', onError);
      const written = this.#flushBuffered();
      this.off('flush-error', onError);
      if (failure) throw failure;
      return written;
    }
    const firstSeq = this.#seq + 1;
    this.#dispatch();
    const target = this.#seq;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.#signal, 0);
      if (done >= target) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('The usage ledger writer did not finish in time');
      Atomics.wait(this.#signal, 0, done, left);
    }
    const seqs = [...this.#inflight.keys()].sort((a, b) => a - b);
    if (Atomics.load(this.#signal, 1) >= firstSeq) {
      // Some batch failed: put everything back (re-inserting the ones that did commit is ignored).
      this.#buffer = seqs.flatMap((seq) => this.#inflight.get(seq)!).concat(this.#buffer);
      this.#inflight.clear();
      this.#scheduleRetry();
      throw new Error('The usage ledger could not be written');
    }
    let written = 0;
    for (const seq of seqs) {
      const batch = this.#inflight.get(seq)!;
      this.#inflight.delete(seq);
      written += batch.length;
      this.#emitCommitted(batch);
    }
    this.#writer.unref();
    for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
    return written;
  }

  /** Unsynced records in id order, after `afterId` (exclusive), at most `limit`. */
  pendingBatch(limit: number, afterId: string = ''): UsageRecord[] {
    const rows = this.database
      .prepare(`SELECT ${COLUMNS} FROM records WHERE sync_state = ${STATE_PENDING} AND id > ? ORDER BY id LIMIT ?`)
      .all(afterId, limit) as unknown as RecordRow[];
    return rows.map(rowToRecord);
  }

  /** Marks ids synced (accepted by the audit endpoint). Returns how many changed. */
  markSynced(ids: readonly string[], at: number = Date.now()): number {
    return this.#inTransaction(() => {
      let changed = 0;
      for (const id of ids) changed += Number(this.#markSynced.run(at, id).changes);
      return changed;
    });
  }

  /** Sets rejected records aside with the endpoint's reason; they are not sent again unless requeued. */
  markRejected(rejections: readonly { id: string; reason: string }[], at: number = Date.now()): number {
    return this.#inTransaction(() => {
      let changed = 0;
      for (const { id, reason } of rejections) changed += Number(this.#markRejected.run(reason.slice(0, 1000), at, id).changes);
      return changed;
    });
  }

  /**
   * Stamps the identity on records that were made without one (before the sign-in's identity was
   * known), as long as they have not been sent: a sent record is the endpoint's now. Returns how many changed.
   */
  attribute(ids: readonly string[], identity: { user: string; source: IdentitySourceKind | null }): number {
    const statement = this.database.prepare(
      `UPDATE records SET user_name = ?, identity_source = coalesce(identity_source, ?) WHERE id = ? AND user_name IS NULL AND sync_state = ${STATE_PENDING}`,
    );
    return this.#inTransaction(() => ids.reduce((n, id) => n + Number(statement.run(identity.user, identity.source, id).changes), 0));
  }

  /** Puts rejected records back in the queue (all, or the given ids) — e.g. after the org fixed its validation. */
  requeueRejected(ids?: readonly string[]): number {
    if (!ids) {
      return Number(this.database.prepare(`UPDATE records SET sync_state = ${STATE_PENDING}, reject_reason = NULL, rejected_at = NULL WHERE sync_state = ${STATE_REJECTED}`).run().changes);
    }
    const statement = this.database.prepare(`UPDATE records SET sync_state = ${STATE_PENDING}, reject_reason = NULL, rejected_at = NULL WHERE id = ? AND sync_state = ${STATE_REJECTED}`);
    return this.#inTransaction(() => ids.reduce((n, id) => n + Number(statement.run(id).changes), 0));
  }

  #inTransaction<T>(work: () => T): T {
    const db = this.database;
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // already rolled back
      }
      throw error;
    }
  }

  pendingCount(): number {
    return (this.database.prepare(`SELECT count(*) AS n FROM records WHERE sync_state = ${STATE_PENDING}`).get() as { n: number }).n;
  }

  rejectedCount(): number {
    return (this.database.prepare(`SELECT count(*) AS n FROM records WHERE sync_state = ${STATE_REJECTED}`).get() as { n: number }).n;
  }

  /** The most recent rejected records with their reasons (for the window). */
  rejected(limit = 50): RejectedRecord[] {
    return readRejected(this.database, limit);
  }

  get(id: string): (UsageRecord & { syncState: 'pending' | 'synced' | 'rejected' }) | null {
    const row = this.database.prepare(`SELECT ${COLUMNS}, sync_state FROM records WHERE id = ?`).get(id) as
      | (RecordRow & { sync_state: number })
      | undefined;
    if (!row) return null;
    const syncState = row.sync_state === STATE_SYNCED ? 'synced' : row.sync_state === STATE_REJECTED ? 'rejected' : 'pending';
    return { ...rowToRecord(row), syncState };
  }

  count(): number {
    return (this.database.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  }

  /** Records started in [from, to), in id order, paged (for exports and tests). */
  list(options: { from?: number; to?: number; afterId?: string; limit?: number } = {}): UsageRecord[] {
    const rows = this.database
      .prepare(`SELECT ${COLUMNS} FROM records WHERE started_at >= ? AND started_at < ? AND id > ? ORDER BY id LIMIT ?`)
      .all(options.from ?? 0, options.to ?? Number.MAX_SAFE_INTEGER, options.afterId ?? '', options.limit ?? 1000) as unknown as RecordRow[];
    return rows.map(rowToRecord);
  }

  /** Deletes synced records that started before now - retention. Unsynced and rejected records are never pruned. */
  prune(now: number = Date.now()): number {
    const cutoff = now - this.retentionMs;
    return Number(this.database.prepare(`DELETE FROM records WHERE sync_state = ${STATE_SYNCED} AND started_at < ?`).run(cutoff).changes);
  }

  integrityCheck(): string {
    const rows = this.database.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    return rows.map((row) => row.integrity_check).join('\n');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Flushes, checkpoints the WAL and closes. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flushSync();
    } finally {
      this.#closed = true;
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
      const writer = this.#writer;
      this.#writer = null;
      if (writer) {
        writer.postMessage({ type: 'close' });
        void writer.terminate().catch(() => {});
      }
      try {
        this.database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch {
        // another process may hold the database; the WAL stays valid
      }
      this.database.close();
    }
  }
}

/** The newest `limit` rejected records of a ledger database (also read by `bedrock-bridge usage`, read-only). */
export function readRejected(database: DatabaseSync, limit: number): RejectedRecord[] {
  const rows = database
    .prepare(`SELECT id, reject_reason, rejected_at, started_at, model_id FROM records WHERE sync_state = ${STATE_REJECTED} ORDER BY id DESC LIMIT ?`)
    .all(limit) as unknown as { id: string; reject_reason: string | null; rejected_at: number | null; started_at: number; model_id: string | null }[];
  return rows.map((row) => ({ id: row.id, reason: row.reject_reason ?? '', rejectedAt: row.rejected_at ?? 0, startedAt: row.started_at, modelId: row.model_id }));
}

export function openLedger(options: LedgerOptions): UsageLedger {
  return new UsageLedger(options);
}
