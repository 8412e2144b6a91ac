/**
 * The app core behind headless `serve` (node test/bench/app.bench.ts):
 *  1. time from launch to ready of `bedrock-bridge serve --emulator` (the shipped CLI bundle, as
 *     `npm start` runs it; built first), median of 5 launches;
 *  2. its resident memory when idle, 2 s after ready;
 *  3. the live log: 200 requests/s for 10 s with the window's event stream (/control/v1/events)
 *     connected, against the same load without it: entries and batches delivered per second, and the
 *     server CPU each costs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '../support/http.ts';
import { cpuTimeOf, memoryOf } from './support/process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'bedrock-bridge.js');
const LAUNCHES = 5;
const RATE_PER_SECOND = 200;
const LOAD_SECONDS = 10;

interface Launched {
  child: ChildProcess;
  readyMs: number;
  baseUrl: string;
  apiKey: string;
  windowLink: string;
  stop(): Promise<void>;
}

async function launch(home: string): Promise<Launched> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'serve', '--emulator', '--port', '0'], {
    env: { ...process.env, BEDROCK_BRIDGE_HOME: home, BEDROCK_BRIDGE_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('Press Ctrl+C to stop.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(stdout)?.[1] ?? '';
  return {
    child,
    readyMs,
    baseUrl: field('Base URL'),
    apiKey: field('API key'),
    windowLink: field('Window'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Most requests in flight at once: a loaded machine then gets a lower achieved rate, not a pile of connections. */
const MAX_IN_FLIGHT = 64;

/**
 * Sends `rate` small chat requests a second for `seconds`, paced, without waiting for answers to send the
 * next (up to MAX_IN_FLIGHT). Returns what was sent, answered 200, and the rate achieved.
 */
async function paced(baseUrl: string, apiKey: string, rate: number, seconds: number): Promise<{ sent: number; ok: number; seconds: number; achievedPerSecond: number }> {
  const total = rate * seconds;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let ok = 0;
  for (let i = 0; i < total; i += 1) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const request = fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 16 }),
    })
      .then(async (answer) => {
        await answer.arrayBuffer();
        if (answer.ok) ok += 1;
      })
      .catch(() => {})
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  return { sent: total, ok, seconds: elapsed, achievedPerSecond: total / elapsed };
}

/** Connects to the event stream as the window does and counts what arrives. */
async function watchEvents(server: Launched): Promise<{ counts: { batches: number; entries: number; dropped: number }; close(): void }> {
  const link = new URL(server.windowLink);
  const exchange = await rawRequest({ port: Number(link.port), path: `${link.pathname}${link.search}` });
  const cookie = String(exchange.headers['set-cookie']).split(';')[0]!;
  const controller = new AbortController();
  const answer = await fetch(`${link.origin}/control/v1/events`, { headers: { cookie }, signal: controller.signal });
  const counts = { batches: 0, entries: 0, dropped: 0 };
  const reader = answer.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith('event: requests')) continue;
          const batch = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { started: unknown[]; progress: unknown[]; finished: unknown[]; dropped: number };
          counts.batches += 1;
          counts.entries += batch.started.length + batch.progress.length + batch.finished.length;
          counts.dropped += batch.dropped;
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  return { counts, close: () => controller.abort() };
}

async function main(): Promise<void> {
  console.log('Building the CLI bundle (npm start runs it)…');
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.ts'), '--entries=cli'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);

  const homes: string[] = [];
  const freshHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'bb-app-bench-'));
    homes.push(home);
    return home;
  };
  try {
    const readyTimes: number[] = [];
    for (let i = 0; i < LAUNCHES; i += 1) {
      const server = await launch(freshHome());
      readyTimes.push(server.readyMs);
      await server.stop();
    }
    console.log(`(load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores: other work on the machine skews every figure here)`);
    console.log(`\nLaunch to ready, serve --emulator (${LAUNCHES} launches): median ${median(readyTimes).toFixed(0)} ms, min ${Math.min(...readyTimes).toFixed(0)}, max ${Math.max(...readyTimes).toFixed(0)}`);

    const server = await launch(freshHome());
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const idle = memoryOf(server.child.pid!);
      console.log(`Idle RSS 2 s after ready (emulator in the same process): ${idle.rssMiB.toFixed(1)} MiB`);

      // Warm-up, then the same load without and with the window's event stream.
      await paced(server.baseUrl, server.apiKey, RATE_PER_SECOND, 2);
      const pid = server.child.pid!;
      let cpuBefore = cpuTimeOf(pid);
      const bare = await paced(server.baseUrl, server.apiKey, RATE_PER_SECOND, LOAD_SECONDS);
      const bareCpuMs = cpuTimeOf(pid) - cpuBefore;

      const watcher = await watchEvents(server);
      cpuBefore = cpuTimeOf(pid);
      const watched = await paced(server.baseUrl, server.apiKey, RATE_PER_SECOND, LOAD_SECONDS);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the last batch
      const watchedCpuMs = cpuTimeOf(pid) - cpuBefore;
      watcher.close();

      const perSecond = (n: number) => (n / watched.seconds).toFixed(0);
      console.log(`\nLive log at ${RATE_PER_SECOND} requests/s for ${LOAD_SECONDS} s (non-streamed chat through the emulator):`);
      const load = (run: { ok: number; sent: number; seconds: number; achievedPerSecond: number }, cpuMs: number) =>
        `${run.ok}/${run.sent} ok at ${run.achievedPerSecond.toFixed(0)} requests/s, server CPU ${(cpuMs / run.seconds / 10).toFixed(1)} % of a core (${(cpuMs / run.sent).toFixed(2)} ms per request)`;
      console.log(`  without a window: ${load(bare, bareCpuMs)}`);
      console.log(`  with the event stream: ${load(watched, watchedCpuMs)}`);
      console.log(`  delivered: ${perSecond(watcher.counts.entries)} entries/s in ${perSecond(watcher.counts.batches)} batches/s, ${watcher.counts.dropped} dropped`);
      console.log(`  cost of the live log: ${(((watchedCpuMs - bareCpuMs) / watched.sent) * 1000).toFixed(0)} µs CPU per request (the difference of the two runs: noise on a busy machine is of the same order)`);
    } finally {
      await server.stop();
    }
  } finally {
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
}

await main();
