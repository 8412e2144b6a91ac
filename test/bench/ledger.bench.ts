/**
 * The usage ledger's cost (node test/bench/ledger.bench.ts):
 *  1. record() on the request's path (microseconds per call);
 *  2. the batched commit that follows, off the request path, for synchronous=NORMAL and FULL;
 *  3. the latency a request through the real gateway gains when the usage pipeline is subscribed
 *     (sequential and at concurrency 32), against the wire-level emulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestEventBus } from '../../src/core/request-events.ts';
import { startUsagePipeline } from '../../src/usage/index.ts';
import { UsageLedger, type LedgerDurability } from '../../src/usage/ledger.ts';
import { makeRecord } from '../usage/fixtures/records.ts';
import { startTestBridge } from '../support/bridge.ts';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summarize(values: number[]): { median: number; p99: number; mean: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), mean: values.reduce((a, b) => a + b, 0) / values.length };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const dir = mkdtempSync(join(tmpdir(), 'bb-ledger-bench-'));

async function benchRecord(): Promise<void> {
  const ledger = new UsageLedger({ dataDir: join(dir, 'record') });
  const records = Array.from({ length: 50_000 }, (_, i) => makeRecord(i));
  const perCall: number[] = [];
  // Bursts of 32 (a busy server's completions within a tick), then yield so flushes run as in a server.
  for (let i = 0; i < records.length; i += 32) {
    for (let j = i; j < Math.min(records.length, i + 32); j++) {
      const t0 = process.hrtime.bigint();
      ledger.record(records[j]!);
      perCall.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  ledger.close();
  const s = summarize(perCall);
  console.log(`record() on the hot path (${perCall.length} calls): median ${fmt(s.median, 3)} us, p99 ${fmt(s.p99, 3)} us, mean ${fmt(s.mean, 3)} us`);
}

async function benchHandle(): Promise<void> {
  const events = new RequestEventBus();
  const pipeline = startUsagePipeline({ dataDir: join(dir, 'handle'), events, region: 'us-east-1' });
  const list = Array.from({ length: 50_000 }, (_, i) => {
    const r = makeRecord(i);
    return {
      id: r.id, startedAt: r.startedAt, endedAt: r.endedAt, route: r.route, requestedModel: r.requestedModel, modelId: r.modelId, effectiveModelId: r.modelId, region: r.region,
      stream: r.stream, status: r.status, errorType: r.errorType, latencyMs: r.latencyMs, timeToFirstTokenMs: r.timeToFirstTokenMs, userAgent: r.client,
      usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheWriteTokens: r.cacheWriteTokens },
    };
  });
  const perCall: number[] = [];
  for (let i = 0; i < list.length; i += 32) {
    for (let j = i; j < Math.min(list.length, i + 32); j++) {
      const t0 = process.hrtime.bigint();
      events.emit('request-finished', list[j]!);
      perCall.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await pipeline.close();
  const s = summarize(perCall);
  console.log(`request-finished -> pipeline (price + record + buffer), per event: median ${fmt(s.median, 3)} us, p99 ${fmt(s.p99, 3)} us, mean ${fmt(s.mean, 3)} us`);
}

async function benchCommit(durability: LedgerDurability, writer: 'worker' | 'inline'): Promise<void> {
  const ledger = new UsageLedger({ dataDir: join(dir, `commit-${durability}-${writer}`), durability, writer, flushDelayMs: 60_000 });
  const rows: string[] = [];
  let seed = 0;
  for (const batch of [1, 10, 100, 500]) {
    const blocked: number[] = [];
    const durable: number[] = [];
    const rounds = batch === 1 ? 400 : batch === 10 ? 200 : 60;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < batch; i++) ledger.record(makeRecord(seed++));
      const t0 = process.hrtime.bigint();
      const done = ledger.flush(); // the synchronous part is what blocks the event loop
      const t1 = process.hrtime.bigint();
      await done;
      const t2 = process.hrtime.bigint();
      blocked.push(Number(t1 - t0) / 1000);
      durable.push(Number(t2 - t0) / 1000);
    }
    const b = summarize(blocked);
    const d = summarize(durable);
    rows.push(
      `  batch ${String(batch).padStart(3)}: event loop blocked median ${fmt(b.median, 0).padStart(5)} us p99 ${fmt(b.p99, 0).padStart(6)} us max ${fmt(Math.max(...blocked), 0).padStart(6)} us | until durable median ${fmt(d.median, 0).padStart(5)} us p99 ${fmt(d.p99, 0).padStart(6)} us`,
    );
  }
  ledger.close();
  console.log(`flush, synchronous=${durability.toUpperCase()}, writer=${writer}:\n${rows.join('\n')}`);
}

async function benchGateway(): Promise<void> {
  const bridge = await startTestBridge();
  const body = JSON.stringify({ model: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'hello there' }] });
  const once = async () => {
    const t0 = process.hrtime.bigint();
    const response = await fetch(`${bridge.baseURL}/chat/completions`, { method: 'POST', headers: bridge.headers(), body });
    await response.arrayBuffer();
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  const run = async (concurrency: number, total: number) => {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < total) latencies.push(await once());
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { ...summarize(latencies), rps: total / seconds };
  };
  for (let i = 0; i < 300; i++) await once(); // warm up
  const results: Record<string, Awaited<ReturnType<typeof run>>> = {};
  // Interleave without/with so drift affects both alike.
  let pipeline: ReturnType<typeof startUsagePipeline> | null = null;
  for (const round of [0, 1, 2]) {
    for (const withLedger of [false, true]) {
      if (withLedger) pipeline = startUsagePipeline({ dataDir: join(dir, 'gateway'), events: bridge.gateway.events, region: 'us-east-1' });
      for (const concurrency of [1, 32]) {
        const r = await run(concurrency, concurrency === 1 ? 600 : 3000);
        const key = `${withLedger ? 'with' : 'without'} c${concurrency}`;
        const prev = results[key];
        results[key] = prev ? { median: (prev.median * round + r.median) / (round + 1), p99: Math.max(prev.p99, r.p99), mean: (prev.mean * round + r.mean) / (round + 1), rps: (prev.rps * round + r.rps) / (round + 1) } : r;
      }
      if (pipeline) {
        await pipeline.close();
        pipeline = null;
      }
    }
  }
  console.log('gateway request latency, ledger subscribed or not (3 interleaved rounds; nova-lite, non-streaming):');
  for (const concurrency of [1, 32]) {
    const a = results[`without c${concurrency}`]!;
    const b = results[`with c${concurrency}`]!;
    console.log(
      `  c=${String(concurrency).padStart(2)}: without median ${fmt(a.median / 1000, 3)} ms p99 ${fmt(a.p99 / 1000, 3)} ms ${fmt(a.rps, 0)} req/s | with median ${fmt(b.median / 1000, 3)} ms p99 ${fmt(b.p99 / 1000, 3)} ms ${fmt(b.rps, 0)} req/s | added median ${fmt((b.median - a.median) / 1000, 3)} ms`,
    );
  }
  await bridge.close();
}

try {
  await benchRecord();
  await benchHandle();
  for (const writer of ['worker', 'inline'] as const) for (const durability of ['normal', 'full'] as const) await benchCommit(durability, writer);
  if (!process.argv.includes('--no-gateway')) await benchGateway();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
