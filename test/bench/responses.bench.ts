/**
 * npm run bench (or: node test/bench/responses.bench.ts [--count=400] [--rounds=4] [--warmup=100])
 *
 * What `/v1/responses` costs next to `/v1/chat/completions` on the same gateway, and what either adds to
 * calling Bedrock directly: one emulator and one bridge, each in its own process (test/bench/support),
 * sequential requests (concurrency 1) in alternating rounds. Figures, medians in milliseconds:
 *   - latency of a plain call and of a 50-chunk stream, and what the bridge adds over the direct SDK call;
 *   - time to first event (any SSE event: a chat chunk, `response.created`) and to first text delta.
 * A stream's "added" can come out negative: the direct baseline decodes every Bedrock event in the load
 * generator's own process, while for the bridge it only scans SSE text.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBedrockClients } from '../../src/server/bedrock-clients.ts';
import { benchArgs } from './support/args.ts';
import { directTarget, openAiTarget, type Call, type Scenario, type Target } from './support/clients.ts';
import { runLoad } from './support/load.ts';
import type { BenchChild } from './support/process.ts';
import { summarize } from './support/stats.ts';
import { startBridgePair } from './support/bridge-pair.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = benchArgs();
const quick = args.has('quick');
const count = Number(args.get('count') ?? (quick ? 100 : 400));
const rounds = Number(args.get('rounds') ?? 4);
const warmup = Number(args.get('warmup') ?? (quick ? 30 : 100));
const model = process.env.BENCH_MODEL ?? 'anthropic.claude-3-haiku-20240307-v1:0';

const plain: Scenario = { name: 'plain', label: 'plain call', stream: false, chunks: 1, prompt: 'Say hello in one word.' };
const stream50: Scenario = { name: 'stream50', label: 'stream 50 chunks', stream: true, chunks: 50, prompt: '[[chunks:50]] Count to fifty.' };

const log = (message: string) => process.stderr.write(`${message}\n`);

interface Measured {
  name: string;
  scenario: Scenario;
  call: Call;
  latencies: number[];
  first: number[];
}

async function main(): Promise<void> {
  const children: BenchChild<{ type: 'ready' }>[] = [];
  try {
    const { emulator, bridge } = await startBridgePair(root, children);
    const { url: emulatorUrl, region, credentials } = emulator.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const direct = directTarget({ client: createBedrockClients({ region, credentials, runtimeEndpoint: emulatorUrl }).runtime, modelId: model });
    const over = (api: 'chat' | 'responses', first: 'content' | 'event'): Target =>
      openAiTarget({ name: 'bridge', pid: bridge.pid, baseUrl: bridge.ready.url, headers: { authorization: `Bearer ${bridge.ready.apiKey}` }, model, agent, api, first });

    const measured: Measured[] = [];
    const add = (name: string, target: Target, scenario: Scenario) => measured.push({ name, scenario, call: target.call(scenario), latencies: [], first: [] });
    for (const scenario of [plain, stream50]) {
      add('direct', direct, scenario);
      add('chat', over('chat', 'content'), scenario);
      add('responses', over('responses', 'content'), scenario);
    }
    add('chat (first event)', over('chat', 'event'), stream50);
    add('responses (first event)', over('responses', 'event'), stream50);

    for (const api of ['chat', 'responses'] as const) {
      for (const scenario of [plain, stream50]) {
        const checked = await over(api, 'content').check(scenario);
        if (!checked.ok) throw new Error(`${api} ${scenario.name} is not answered correctly: ${checked.detail}`);
      }
    }
    log(`emulator ${emulatorUrl}, bridge ${bridge.ready.url}; ${count} requests per case in ${rounds} rounds, concurrency 1`);
    for (const entry of measured) await runLoad(entry.call, warmup, 1);
    const perRound = Math.ceil(count / rounds);
    for (let round = 0; round < rounds; round++) {
      // Alternating rounds: drift on a shared machine lands on every case alike.
      for (const entry of round % 2 === 0 ? measured : [...measured].reverse()) {
        const result = await runLoad(entry.call, perRound, 1);
        if (result.errors > 0) throw new Error(`${entry.name} ${entry.scenario.name}: ${result.errors} errors (${result.firstError})`);
        entry.latencies.push(...result.latencies);
        entry.first.push(...result.firstChunk);
      }
    }

    const median = (name: string, scenario: Scenario, of: 'latencies' | 'first') => summarize(measured.find((m) => m.name === name && m.scenario === scenario)![of]).median;
    const rows: string[][] = [];
    for (const scenario of [plain, stream50]) {
      const base = median('direct', scenario, 'latencies');
      rows.push([`${scenario.label}, direct SDK`, base.toFixed(2), '', scenario.stream ? median('direct', scenario, 'first').toFixed(2) : '']);
      for (const name of ['chat', 'responses']) {
        const latency = median(name, scenario, 'latencies');
        rows.push([`${scenario.label}, /v1/${name === 'chat' ? 'chat/completions' : 'responses'}`, latency.toFixed(2), `${latency >= base ? '+' : ''}${(latency - base).toFixed(2)}`, scenario.stream ? median(name, scenario, 'first').toFixed(2) : '']);
      }
    }
    const events = ['chat (first event)', 'responses (first event)'].map((name) => `${name.split(' ')[0]} ${median(name, stream50, 'first').toFixed(2)} ms`);
    const header = ['case (median ms)', 'latency', 'added', 'first text delta'];
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    console.log(`\nResponses API vs Chat Completions (${model} on the emulator, ${count} sequential requests per case)\n`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log(`\nTime to first event of a stream (any SSE event): ${events.join(', ')}`);
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

await main();
