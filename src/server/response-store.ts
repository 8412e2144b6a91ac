/**
 * Stored responses (`store`, `previous_response_id`, GET/DELETE /v1/responses/{id}): a small SQLite
 * file next to the usage ledger, `<data dir>/responses.sqlite`, or an in-memory database.
 *
 * Unlike usage records, these hold conversation text (the input and output items). They never leave
 * this machine: nothing syncs them, and retention is bounded by age and count (settings
 * `responses.retentionDays`, `responses.maxStored`). The file is readable by its owner only.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ResponseObject } from '../core/responses-output.ts';
import { settingsSchema } from '../core/settings.ts';
import type { ResponseInputItem } from '../core/responses-schemas.ts';

export const RESPONSE_STORE_FILE_NAME = 'responses.sqlite';
const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULTS = settingsSchema.shape.responses.parse({});
/** Pruning runs at open and every this many saves. */
const PRUNE_EVERY = 50;

/** An input item as listed by /input_items: with an id. */
export type ListedItem = ResponseInputItem & { id: string };

export interface StoredResponse {
  /** The response as it was returned (minus reasoning the client did not ask for). */
  response: ResponseObject;
  /** This request's own input items, with ids. */
  inputItems: ListedItem[];
  /**
   * The whole conversation up to and including this response's output, as input items (reasoning
   * with its thinking blocks): what a request naming it as previous_response_id continues.
   */
  conversation: ResponseInputItem[];
}

export interface ResponseStoreOptions {
  /** The data directory (the file is `<dataDir>/responses.sqlite`); absent: in memory only. */
  dataDir?: string;
  retentionDays?: number;
  maxStored?: number;
  now?: () => number;
}

export class ResponseStore {
  readonly path: string | null;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #select: StatementSync;
  readonly #delete: StatementSync;
  readonly #pruneOld: StatementSync;
  readonly #pruneExcess: StatementSync;
  readonly #retentionMs: number;
  readonly #maxStored: number;
  readonly #now: () => number;
  #saves = 0;

  constructor(options: ResponseStoreOptions = {}) {
    this.#retentionMs = (options.retentionDays ?? DEFAULTS.retentionDays) * DAY_MS;
    this.#maxStored = options.maxStored ?? DEFAULTS.maxStored;
    this.#now = options.now ?? Date.now;
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
      this.path = join(options.dataDir, RESPONSE_STORE_FILE_NAME);
    } else {
      this.path = null;
    }
    const db = new DatabaseSync(this.path ?? ':memory:', { timeout: 250 });
    if (this.path) {
      try {
        chmodSync(this.path, 0o600);
      } catch {
        // A file system without modes (some mounts): the directory's mode still applies.
      }
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
    }
    db.exec(`CREATE TABLE IF NOT EXISTS responses (
      id TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL,
      response TEXT NOT NULL,
      input_items TEXT NOT NULL,
      conversation TEXT NOT NULL
    )`);
    db.exec('CREATE INDEX IF NOT EXISTS responses_created_at ON responses (created_at)');
    this.#db = db;
    this.#insert = db.prepare('INSERT OR REPLACE INTO responses (id, created_at, response, input_items, conversation) VALUES (?, ?, ?, ?, ?)');
    this.#select = db.prepare('SELECT response, input_items, conversation FROM responses WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM responses WHERE id = ?');
    this.#pruneOld = db.prepare('DELETE FROM responses WHERE created_at < ?');
    this.#pruneExcess = db.prepare('DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)');
    this.prune();
  }

  save(stored: StoredResponse): void {
    this.#insert.run(stored.response.id, this.#now(), JSON.stringify(stored.response), JSON.stringify(stored.inputItems), JSON.stringify(stored.conversation));
    if (++this.#saves % PRUNE_EVERY === 0) this.prune();
  }

  get(id: string): StoredResponse | null {
    const row = this.#select.get(id) as { response: string; input_items: string; conversation: string } | undefined;
    if (!row) return null;
    return { response: JSON.parse(row.response) as ResponseObject, inputItems: JSON.parse(row.input_items) as ListedItem[], conversation: JSON.parse(row.conversation) as ResponseInputItem[] };
  }

  /** True when it was there. */
  delete(id: string): boolean {
    return Number(this.#delete.run(id).changes) > 0;
  }

  /** Drops responses past the retention age, then the oldest beyond the count. */
  prune(): void {
    this.#pruneOld.run(this.#now() - this.#retentionMs);
    this.#pruneExcess.run(this.#maxStored);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
