/**
 * node test/bench/messages.bench.ts [--quick] [--rounds=6] [--count=300]
 *
 * Added latency and time to first event of Anthropic's Messages API on the bridge (/v1/messages ->
 * InvokeModel / InvokeModelWithResponseStream) next to the AWS SDK calling the same emulator
 * directly with the same native body. Sequential requests (concurrency 1), rounds alternating between
 * the two so drift on a shared machine hits both. The emulator and the bridge (from source, wired as
 * `serve` wires it) each run in a process of their own.
 */
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { toBedrockNativeBody } from '../../src/core/anthropic-sanitiser.ts';
import { createBedrockClients } from '../../src/server/bedrock-clients.ts';
import { benchArgs } from './support/args.ts';
import type { Call } from './support/clients.ts';
import { runLoad } from './support/load.ts';
import type { BenchChild } from './support/process.ts';
import { summarize } from './support/stats.ts';
import { startBridgePair } from './support/bridge-pair.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = benchArgs();
const quick = args.has('quick');
const rounds = Number(args.get('rounds') ?? (quick ? 2 : 6));
const count = Number(args.get('count') ?? (quick ? 60 : 300));
const warmup = quick ? 50 : 200;

const PROFILE = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const BASE = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const BETAS = 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,oauth-2025-04-20';

/** Claude Code's shape: a system array, ~20 tools (with `custom`), a JSON user id, context management. */
function claudeCodeLike(prompt: string): Record<string, unknown> {
  const tools = Array.from({ length: 20 }, (_, i) => ({
    name: `tool_${i}`,
    description: `Tool number ${i}: does one thing well and says so in a long enough description.`,
    input_schema: { type: 'object', properties: { path: { type: 'string' }, limit: { type: 'integer' } }, required: ['path'] },
    ...(i % 4 === 0 ? { custom: { defer_loading: true } } : {}),
  }));
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 32000,
    stream: true,
    system: [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197' }, { type: 'text', text: 'You are a coding agent. '.repeat(200), cache_control: { type: 'ephemeral' } }],
    tools,
    metadata: { user_id: JSON.stringify({ device_id: 'bench', account_uuid: '', session_id: 'bench-session' }) },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
  };
}

interface Scenario {
  name: string;
  stream: boolean;
  request: Record<string, unknown>;
  betas?: string;
}

const scenarios: Scenario[] = [
  { name: 'message', stream: false, request: { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Say hello in one word.' }] } },
  { name: 'stream 50 chunks', stream: true, request: { model: 'claude-haiku-4-5', max_tokens: 200, stream: true, messages: [{ role: 'user', content: '[[chunks:50]] Count to fifty.' }] } },
  { name: 'Claude Code body, stream', stream: true, request: claudeCodeLike('[[chunks:50]] Count to fifty. [[no-tool]]'), betas: BETAS },
];

/** Time of the first content_block_delta in an SSE text so far, via `seen`. */
function firstDeltaIn(text: string): boolean {
  return text.includes('event: content_block_delta');
}

function bridgeCall(agent: http.Agent, url: URL, apiKey: string, scenario: Scenario): Call {
  const body = Buffer.from(JSON.stringify(scenario.request));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-api-key': apiKey,
    'anthropic-version': '2023-06-01',
    ...(scenario.betas ? { 'anthropic-beta': scenario.betas } : {}),
  };
  return () =>
    new Promise((resolve, reject) => {
      const request = http.request({ agent, host: url.hostname, port: url.port, method: 'POST', path: '/v1/messages?beta=true', headers }, (response) => {
        response.setEncoding('utf8');
        let first: number | undefined;
        let text = '';
        response.on('data', (chunk: string) => {
          if (response.statusCode !== 200 || (scenario.stream && first === undefined)) {
            text += chunk;
            if (scenario.stream && first === undefined && firstDeltaIn(text)) first = performance.now();
          }
        });
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`bridge: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          else if (scenario.stream && first === undefined) reject(new Error('bridge: stream without content'));
          else resolve(first);
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
}

function directCall(client: ReturnType<typeof createBedrockClients>['runtime'], scenario: Scenario): Call {
  // What the bridge sends Bedrock for this request: the baseline pays no sanitising.
  const native = toBedrockNativeBody(scenario.request, { baseModelId: BASE, betaHeader: scenario.betas ?? null });
  const body = new TextEncoder().encode(JSON.stringify(native.body));
  if (!scenario.stream) {
    return async () => {
      const out = await client.send(new InvokeModelCommand({ modelId: PROFILE, body, contentType: 'application/json', accept: 'application/json' }));
      if (out.body.length === 0) throw new Error('direct: empty body');
      return undefined;
    };
  }
  const decoder = new TextDecoder();
  return async () => {
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: PROFILE, body, contentType: 'application/json', accept: 'application/json' }));
    let first: number | undefined;
    for await (const event of out.body!) {
      if (first === undefined && event.chunk?.bytes && decoder.decode(event.chunk.bytes).includes('"content_block_delta"')) first = performance.now();
    }
    return first;
  };
}

const fmt = (value: number): string => value.toFixed(2).padStart(8);

async function main(): Promise<void> {
  const children: BenchChild<{ type: 'ready' }>[] = [];
  try {
    const { emulator, bridge } = await startBridgePair(root, children);
    const { url: emulatorUrl, region, credentials } = emulator.ready;
    const clients = createBedrockClients({ region, credentials, runtimeEndpoint: emulatorUrl });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const bridgeUrl = new URL(bridge.ready.url);

    process.stdout.write(`\n/v1/messages vs a direct SDK call (InvokeModel), concurrency 1, ${rounds} rounds x ${count} requests, median/p99 in ms\n`);
    process.stdout.write(`${'scenario'.padEnd(26)} ${'direct'.padStart(8)} ${'bridge'.padStart(8)} ${'added'.padStart(8)} ${'p99 dir'.padStart(8)} ${'p99 brg'.padStart(8)} ${'TTFE dir'.padStart(8)} ${'TTFE brg'.padStart(8)}\n`);
    const callsOf = scenarios.map((scenario) => ({ direct: directCall(clients.runtime, scenario), bridge: bridgeCall(agent, bridgeUrl, bridge.ready.apiKey, scenario) }));
    // Every scenario warms both sides first: the first streams through a fresh process pay for its JIT.
    for (const [index, scenario] of scenarios.entries()) {
      for (const name of ['direct', 'bridge'] as const) {
        const warm = await runLoad(callsOf[index]![name], warmup, 1);
        if (warm.errors > 0) throw new Error(`${name} ${scenario.name}: ${warm.firstError}`);
      }
    }
    for (const [index, scenario] of scenarios.entries()) {
      const calls = callsOf[index]!;
      const samples = { direct: { latency: [] as number[], first: [] as number[] }, bridge: { latency: [] as number[], first: [] as number[] } };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? (['direct', 'bridge'] as const) : (['bridge', 'direct'] as const);
        for (const name of order) {
          const result = await runLoad(calls[name], count, 1);
          if (result.errors > 0) throw new Error(`${name} ${scenario.name}: ${result.firstError}`);
          samples[name].latency.push(...result.latencies);
          samples[name].first.push(...result.firstChunk);
        }
      }
      const direct = summarize(samples.direct.latency);
      const bridged = summarize(samples.bridge.latency);
      const ttfe = (values: number[]) => (values.length > 0 ? fmt(summarize(values).median) : '       -');
      process.stdout.write(
        `${scenario.name.padEnd(26)} ${fmt(direct.median)} ${fmt(bridged.median)} ${fmt(bridged.median - direct.median)} ${fmt(direct.p99)} ${fmt(bridged.p99)} ${ttfe(samples.direct.first)} ${ttfe(samples.bridge.first)}\n`,
      );
    }
    agent.destroy();
    clients.destroy();
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

await main();
