/**
 * Fuzz properties of the audit endpoint contract (BRIEF §6), from both ends:
 *  - an endpoint (the emulator's collector today; the org side's can be pointed at the same property)
 *    fed mutated batches, odd headers and framings must answer 2xx with `{accepted, rejected}` naming
 *    every id sent, or an error object, never a 5xx, a stack trace or the caller's token;
 *  - the client (AuditSync) fed mutated answers must never throw, crash or reject unhandled, and must
 *    mark synced only ids an endpoint accepted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { newRequestId } from '../../src/core/ids.ts';
import { AuditSync } from '../../src/usage/audit-sync.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { toWireRecord } from '../../src/usage/usage-record.ts';
import { bearerSource } from '../usage/support.ts';
import { makeRecord } from '../usage/fixtures/records.ts';
import { answerProblems } from './answers.ts';
import { bodyArbitrary, framing, hostileValue, mutate, serialize, type TextTrick } from './arbitraries.ts';
import { encodeRequest, exchange, parseResponse } from './raw-http.ts';

const EXCHANGE_TIMEOUT_MS = 10_000;

function sampleBatch(size: number): { client: Record<string, unknown>; records: unknown[] } {
  const now = Date.now();
  return { client: { name: 'bedrock-bridge', version: '1.0.0', platform: 'linux' }, records: Array.from({ length: size }, (_, i) => toWireRecord(makeRecord(i, {}, now + i))) };
}

const SAMPLES = [sampleBatch(1), sampleBatch(3)];

function idsIn(body: Buffer): string[] | null {
  try {
    // Decoded as a server does (WHATWG UTF-8 decode: a BOM dropped, bad bytes replaced).
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { records?: { id?: unknown }[] };
    if (!Array.isArray(parsed.records)) return null;
    return parsed.records.map((record) => record?.id).filter((id): id is string => typeof id === 'string');
  } catch {
    return null;
  }
}

function parseOrNull(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

export interface AuditEndpointTarget {
  port: number;
  path: string;
  /** A bearer token the endpoint accepts; it must never come back in an answer. */
  token: string;
  /**
   * How its errors look: the test collector's `{"error":{"message","type"}}` (default), or the org
   * gateway's OAuth-style `{"error","error_description"}`.
   */
  errorShape?: 'collector' | 'oauth';
}

/** Mutated batches to an audit endpoint. */
export function auditEndpointProperty(target: AuditEndpointTarget): fc.IAsyncProperty<any> {
  const input = fc.record({
    body: bodyArbitrary(SAMPLES),
    auth: fc.constantFrom('good', 'good', 'good', 'good', 'wrong', 'none', 'garbage-proof'),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', null),
    framing,
  });
  return fc.asyncProperty(input, async ({ body, auth, contentType, framing: bodyFraming }) => {
    const headers: [string, string][] = [];
    if (auth === 'good') headers.push(['Authorization', `Bearer ${target.token}`]);
    if (auth === 'wrong') headers.push(['Authorization', 'Bearer not-the-token']);
    if (auth === 'garbage-proof') headers.push(['X-Bedrock-Bridge-Identity', Buffer.from(body.subarray(0, 64)).toString('base64url')]);
    if (contentType) headers.push(['Content-Type', contentType]);
    const bytes = encodeRequest({ method: 'POST', target: target.path, headers, body, framing: bodyFraming }, `127.0.0.1:${target.port}`);
    const { raw, timedOut } = await exchange(target.port, bytes, EXCHANGE_TIMEOUT_MS, bodyFraming === 'long');
    const response = parseResponse(raw);
    const problems = timedOut ? ['no answer'] : [];
    // The collector's errors are `{"error":{"message","type"}}`: checked below, not as OpenAI's.
    problems.push(...answerProblems(response, raw.toString('latin1'), { dialect: 'openai', method: 'HEAD', secrets: [target.token] }));
    if (response && response.status >= 400 && response.body.length > 0) {
      const answer = parseOrNull(response.body) as { error?: unknown; error_description?: unknown } | null;
      if (target.errorShape === 'oauth') {
        if (typeof answer?.error !== 'string' || typeof answer.error_description !== 'string') problems.push(`error without {error,error_description} (${response.status})`);
      } else {
        const error = answer?.error as { message?: unknown; type?: unknown } | undefined;
        if (typeof error?.message !== 'string' || typeof error.type !== 'string') problems.push(`error without {error:{message,type}} (${response.status})`);
      }
    }
    if (response?.status === 200 && bodyFraming === 'exact') {
      const answer = (parseOrNull(response.body) ?? {}) as { accepted?: unknown; rejected?: unknown };
      const accepted = Array.isArray(answer.accepted) ? answer.accepted : null;
      const rejected = Array.isArray(answer.rejected) ? answer.rejected : null;
      if (!accepted || !rejected || !accepted.every((id) => typeof id === 'string') || !rejected.every((entry) => typeof entry?.id === 'string' && typeof entry?.reason === 'string')) {
        problems.push('a 200 answer outside the contract');
      } else {
        const sent = new Set(idsIn(body) ?? []);
        const answered = new Set([...accepted, ...rejected.map((entry: { id: string }) => entry.id)]);
        for (const id of answered) if (!sent.has(id)) problems.push(`answered for an id never sent: ${id}`);
        for (const id of sent) if (!answered.has(id)) problems.push(`sent id neither accepted nor rejected: ${id}`);
      }
    }
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n--- answer ---\n${raw.subarray(0, 600).toString('latin1')}`);
  });
}

/** What a fuzzed endpoint answers to one POST. */
interface AnswerPlan {
  kind: 'contract' | 'raw' | 'throw';
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  /** For 'contract': which of the batch's ids to accept / reject, then mutations of that answer. */
  acceptMask: boolean[];
  rejectMask: boolean[];
  reason: unknown;
  mutations: Parameters<typeof mutate>[1];
  trick: TextTrick;
  raw: Uint8Array;
}

const answerPlan: fc.Arbitrary<AnswerPlan> = fc.record({
  kind: fc.constantFrom<AnswerPlan['kind']>('contract', 'contract', 'contract', 'raw', 'throw'),
  status: fc.constantFrom(200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 413, 422, 429, 500, 502, 503, 599),
  contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'text/html', null),
  retryAfter: fc.oneof(fc.constant(null), fc.constantFrom('0', '1', '1e9', '-5', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', '99999999999999999999', ''), fc.string({ maxLength: 12 })),
  acceptMask: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  rejectMask: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  reason: hostileValue,
  mutations: fc.array(fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }), { maxLength: 2 }),
  trick: fc.constantFrom<TextTrick>('none', 'none', 'none', 'truncate', 'huge-number', 'invalid-utf8', 'bom'),
  raw: fc.uint8Array({ maxLength: 200 }),
});

const CLIENT_TOKEN = 'tok-fuzz-secret-0123456789';

/**
 * AuditSync against answers built from the plans (one per POST, cycling): it must settle, keep its
 * error text short and secret-free, and mark synced only what some 2xx answer accepted. One ledger
 * serves every run (each adds three records; what earlier runs left pending is sent again).
 */
export function auditClientProperty(): { property: fc.IAsyncProperty<[AnswerPlan[]]>; outcomes(): { synced: number; rejected: number; pending: number }; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bb-fuzz-sync-'));
  const ledger = new UsageLedger({ dataDir: dir });
  const acceptedByEndpoint = new Set<string>();
  let clock = Date.now();
  const property = fc.asyncProperty(fc.array(answerPlan, { minLength: 1, maxLength: 4 }), async (plans) => {
    const records = Array.from({ length: 3 }, (_, i) => makeRecord(i, { id: newRequestId(++clock) }, clock));
    for (const record of records) ledger.record(record);
    ledger.flushSync();
    let call = 0;
    const source = bearerSource(CLIENT_TOKEN);
    const sync = new AuditSync({
      ledger,
      endpoint: 'http://127.0.0.1:9/usage',
      source,
      region: 'us-east-1',
      intervalMs: 0,
      debounceMs: 60_000,
      backoffBaseMs: 60_000,
      requestTimeoutMs: 5_000,
      fetch: async (_input, init) => {
        const plan = plans[call++ % plans.length]!;
        if (plan.kind === 'throw') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
        const ids = (JSON.parse(String(init?.body)) as { records: { id: string }[] }).records.map((record) => record.id);
        let body: Buffer;
        if (plan.kind === 'raw') {
          body = Buffer.from(plan.raw);
        } else {
          const accepted = ids.filter((_, i) => plan.acceptMask[i % 3]);
          const rejected = ids.filter((_, i) => !plan.acceptMask[i % 3] && plan.rejectMask[i % 3]).map((id) => ({ id, reason: plan.reason }));
          const answer = mutate({ accepted, rejected }, plan.mutations);
          body = serialize(answer, plan.trick, plan.raw.length >= 8 ? plan.raw : new Uint8Array(8));
          const parsed = (() => {
            try {
              return JSON.parse(new TextDecoder().decode(body)) as { accepted?: unknown };
            } catch {
              return null;
            }
          })();
          if (plan.status >= 200 && plan.status < 300 && Array.isArray(parsed?.accepted)) for (const id of parsed.accepted) if (typeof id === 'string') acceptedByEndpoint.add(id);
        }
        const headers: Record<string, string> = {};
        if (plan.contentType) headers['content-type'] = plan.contentType;
        if (plan.retryAfter !== null) headers['retry-after'] = plan.retryAfter;
        return new Response(plan.status === 204 ? null : new Uint8Array(body), { status: plan.status, headers });
      },
    });
    const problems: string[] = [];
    try {
      const result = await sync.syncNow();
      const status = sync.status();
      for (const text of [result.error, status.lastError, ...status.rejectedRecords.map((record) => record.reason)]) {
        if (text === null || text === undefined) continue;
        if (text.includes(CLIENT_TOKEN)) problems.push('the token is in an error text');
        if (/\n\s+at /.test(text)) problems.push('a stack trace in an error text');
        if (text.length > 1_000) problems.push(`an error text of ${text.length} characters`);
      }
      const pending = new Set(ledger.pendingBatch(100_000, '').map((record) => record.id));
      const rejected = new Set(ledger.rejected(100_000).map((record) => record.id));
      for (const record of records) {
        const synced = !pending.has(record.id) && !rejected.has(record.id);
        if (synced && !acceptedByEndpoint.has(record.id)) problems.push(`${record.id} marked synced though no 2xx answer accepted it`);
      }
    } catch (error) {
      problems.push(`syncNow threw: ${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      await sync.stop();
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
  });
  return {
    property,
    outcomes() {
      const pending = ledger.pendingCount();
      const rejected = ledger.rejectedCount();
      return { synced: acceptedByEndpoint.size, rejected, pending };
    },
    close() {
      ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
