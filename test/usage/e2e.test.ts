import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startAuditCollector } from '../../src/emulator/audit-collector.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { assertCost, costFromPriceFile, waitFor } from './support.ts';

const CHILD = fileURLToPath(new URL('./fixtures/gateway-child.ts', import.meta.url));
const TOTAL = Number(process.env.E2E_REQUESTS ?? 300);
const CONCURRENCY = 8;
const KILL_AFTER = [Math.floor(TOTAL * 0.25), Math.floor(TOTAL * 0.5), Math.floor(TOTAL * 0.75)];
const API_KEY = 'e2e-local-key-0123456789';
const MODELS = ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'amazon.nova-lite-v1:0', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'];

interface Child {
  process: ChildProcess;
  port: number;
  acked: Map<string, number>;
  exited: Promise<void>;
}

function startChild(config: object, acked: Map<string, number>): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { env: { ...process.env, E2E_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    let stderr = '';
    let ready = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('ready ')) {
          ready = true;
          resolve({ process: child, port: Number(line.slice(6)), acked, exited });
        } else if (line.startsWith('ack ')) {
          const [id, client] = line.slice(4).split(':') as [string, string];
          const n = Number(/^e2e\/(\d+)$/.exec(client)?.[1] ?? -1);
          acked.set(id, n);
        }
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`gateway child exited early (${code}): ${stderr}`));
    });
  });
}

test(`end to end: ${TOTAL} requests through the gateway, collector faults and ${KILL_AFTER.length} kill -9s -> exactly once at the collector, tokens and costs right`, { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-e2e-'));
  const emulator = await startEmulator({ recorderLimit: 10_000 });
  const collector = await startAuditCollector({ databasePath: join(dir, 'collector.sqlite'), bearerVerifier: (t) => (t === 'tok-e2e' ? 'e2e-user' : null) });
  collector.faults.chaos = {
    rate: 0.35,
    faults: [
      { kind: 'status', status: 503, retryAfter: '0' },
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'status', status: 401 },
      { kind: 'destroy' },
      { kind: 'drop-response' },
      { kind: 'partial-ack', count: 3 },
      { kind: 'slow', ms: 300 },
    ],
  };
  const config = { emulatorUrl: emulator.url, dataDir: join(dir, 'app'), usageEndpoint: collector.usageUrl, apiKey: API_KEY };
  const acked = new Map<string, number>();
  let child = await startChild(config, acked);
  const started = Date.now();

  /** n -> what the client saw: 'ok' (a full answer, success or error status) or 'lost' (connection cut by a kill). */
  const outcome = new Map<number, { status: number | 'lost' }>();
  let next = 0;
  let completed = 0;
  let gate: Promise<void> = Promise.resolve();
  const kills: number[] = [];

  const send = async (n: number): Promise<void> => {
    const stream = n % 3 === 0;
    const marker = n % 25 === 0 ? ' [[throttle]]' : n % 40 === 1 && stream ? ' [[fail-mid-stream]]' : '';
    const body = {
      model: MODELS[n % MODELS.length],
      messages: [{ role: 'user', content: `e2e-${n} please say something short${marker}` }],
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    try {
      const response = await fetch(`http://127.0.0.1:${child.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'user-agent': `e2e/${n}` },
        body: JSON.stringify(body),
      });
      await response.text();
      outcome.set(n, { status: response.status });
    } catch {
      outcome.set(n, { status: 'lost' });
    }
  };

  const worker = async () => {
    for (;;) {
      await gate;
      const n = next++;
      if (n >= TOTAL) return;
      await send(n);
      completed++;
      if (KILL_AFTER.includes(completed) && !kills.includes(completed)) {
        kills.push(completed);
        let reopen!: () => void;
        gate = new Promise((resolve) => (reopen = resolve));
        child.process.kill('SIGKILL');
        await child.exited;
        child = await startChild(config, acked);
        reopen();
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const requestsDoneAt = Date.now();

  // Let the last run catch up through the faults, then stop it gracefully.
  collector.faults.chaos = null;
  const ledgerDb = new DatabaseSync(join(config.dataDir, 'usage.sqlite'), { readOnly: true });
  try {
    await waitFor(() => (ledgerDb.prepare('SELECT count(*) AS n FROM records WHERE sync_state = 0').get() as { n: number }).n === 0, 30_000, 'the ledger to drain');
    child.process.kill('SIGTERM');
    await child.exited;
    // Counted after the graceful stop: the last answers may still have been in the ledger's few-ms write
    // buffer when the drain was seen, and quitting writes and syncs them (counting earlier raced with that).
    const inLedger = (ledgerDb.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
    assert.equal(ledgerDb.prepare('PRAGMA integrity_check').get()!.integrity_check, 'ok');

    const stored = collector.records();
    const statuses = [...outcome.values()].map((o) => o.status);
    const answered = [...outcome.entries()].filter(([, o]) => o.status !== 'lost').map(([n]) => n);
    const lost = statuses.filter((s) => s === 'lost').length;

    // Exactly once per request: ids unique (primary key) and one record per request (client tag).
    const byRequest = new Map<number, (typeof stored)[number]>();
    for (const r of stored) {
      const n = Number(/^e2e\/(\d+)$/.exec(r.record.client ?? '')?.[1] ?? -1);
      assert.ok(n >= 0 && n < TOTAL, `unexpected record ${r.id} (${r.record.client})`);
      assert.ok(!byRequest.has(n), `request ${n} recorded twice`);
      byRequest.set(n, r);
    }
    assert.equal(stored.length, inLedger, 'everything in the ledger reached the collector');
    // Every acknowledged record is at the collector.
    for (const [id, n] of acked) assert.equal(byRequest.get(n)?.id, id, `acknowledged request ${n} (${id}) at the collector`);
    // Requests answered to the client but not recorded: only those finishing just before a kill (unflushed).
    const answeredNotRecorded = answered.filter((n) => !byRequest.has(n));
    assert.ok(answeredNotRecorded.length <= kills.length * CONCURRENCY, `answered but unrecorded: ${answeredNotRecorded.length}`);

    // Tokens equal what the emulator reported; costs equal prices.json's rates (worked out here, not by PriceTable).
    const emulated = new Map<number, (typeof recorded)[number]>();
    const recorded = emulator.recorder.filter((e) => e.operation === 'Converse' || e.operation === 'ConverseStream');
    for (const entry of recorded) {
      const n = Number(/e2e-(\d+) /.exec(JSON.stringify(entry.body))?.[1] ?? -1);
      if (n >= 0) emulated.set(n, entry);
    }
    let priced = 0;
    let errors = 0;
    for (const [n, r] of byRequest) {
      const entry = emulated.get(n);
      assert.ok(entry, `the emulator saw request ${n}`);
      const usage = entry.usage;
      const expected = {
        inputTokens: usage?.inputTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
        cacheReadTokens: usage?.cacheReadInputTokens ?? 0,
        cacheWriteTokens: usage?.cacheWriteInputTokens ?? 0,
      };
      const rec = r.record;
      assert.deepEqual(
        { inputTokens: rec.input_tokens, outputTokens: rec.output_tokens, cacheReadTokens: rec.cache_read_tokens, cacheWriteTokens: rec.cache_write_tokens },
        expected,
        `tokens of request ${n} (${rec.status} ${rec.error_type})`,
      );
      assert.equal(rec.model_id, MODELS[n % MODELS.length]);
      assertCost(rec.cost_usd, costFromPriceFile(rec.model_id!, expected), `cost of request ${n}`);
      if (rec.cost_usd !== null && rec.cost_usd > 0) priced++;
      if (rec.status >= 400 || rec.error_type) errors++;
      assert.equal(r.authenticatedUser, 'e2e-user');
      assert.equal(rec.user, 'e2e-user');
      assert.equal(rec.stream, n % 3 === 0);
    }
    const stats = collector.stats();
    assert.equal(kills.length, KILL_AFTER.length);
    assert.ok(priced > TOTAL / 2);
    assert.ok(errors >= Math.floor(TOTAL / 25) - 4, `error records ${errors}`);
    console.log(
      `# e2e requests=${TOTAL} answered=${answered.length} lostInFlight=${lost} recorded=${stored.length} acked=${acked.size} ` +
        `answeredNotRecorded=${answeredNotRecorded.length} errorsRecorded=${errors} kills=${kills.length} collectorPosts=${stats.posts} ` +
        `injectedFaults=${stats.injected} duplicateDeliveries=${stats.duplicates} requestsPhaseMs=${requestsDoneAt - started} totalMs=${Date.now() - started}`,
    );
  } finally {
    ledgerDb.close();
    if (child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await collector.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
