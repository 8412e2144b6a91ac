/**
 * node test/bench/passthrough.bench.ts [--quick] [--rounds=4] [--count-c1=300] [--count-c32=1000]
 *
 * The Bedrock-native passthrough's own cost: the AWS SDK's runtime client sending the same Bedrock
 * Runtime requests straight to the emulator (baseline) and through Bedrock Bridge's
 * `/model/{id}/...` routes (bearer = the local key), both on a pooled HTTP/2 session. Emulator and
 * bridge run in processes of their own (the children gateway.bench.ts uses); rounds alternate the
 * two targets so drift on a shared machine hits both. Prints latency (median, p99), time to the
 * first streamed event and requests/s, and the passthrough's added latency.
 */
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BedrockRuntimeClient, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { createBedrockClients } from '../../src/server/bedrock-clients.ts';
import { benchArgs } from './support/args.ts';
import { directTarget, type Call, type Scenario } from './support/clients.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { startIpcChild, type BenchChild, type BridgeReady, type EmulatorReady } from './support/process.ts';
import { summarize } from './support/stats.ts';

const args = benchArgs();
const scale = args.has('quick') ? 0.2 : 1;
const settings = {
  rounds: Number(args.get('rounds') ?? 4),
  countC1: Math.round(Number(args.get('count-c1') ?? 300) * scale),
  countC32: Math.round(Number(args.get('count-c32') ?? 1000) * scale),
  warmup: Math.round(100 * scale),
  model: process.env.BENCH_MODEL ?? 'anthropic.claude-3-haiku-20240307-v1:0',
};

const support = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support');
const log = (message: string) => process.stderr.write(`${message}\n`);


/** InvokeModelWithResponseStream in Claude's native body; resolves at the first content delta. */
function invokeStreamCall(client: BedrockRuntimeClient, modelId: string, prompt: string): Call {
  const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1000, messages: [{ role: 'user', content: prompt }] });
  return async () => {
    const response = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, contentType: 'application/json', body }));
    let first: number | undefined;
    for await (const part of response.body!) {
      if (first === undefined && part.chunk?.bytes && Buffer.from(part.chunk.bytes).includes('text_delta')) first = performance.now();
    }
    if (first === undefined) throw new Error('no content delta');
    return first;
  };
}

const scenarios: (Scenario & { operation: string })[] = [
  { name: 'converse', operation: 'Converse', label: 'Converse', stream: false, chunks: 1, prompt: 'Say hello in one word.' },
  { name: 'converse-stream', operation: 'ConverseStream', label: 'ConverseStream, 50 chunks', stream: true, chunks: 50, prompt: '[[chunks:50]] Count to fifty.' },
  { name: 'invoke-stream', operation: 'InvokeModelWithResponseStream', label: 'InvokeModel stream, 50 chunks', stream: true, chunks: 50, prompt: '[[chunks:50]] Count to fifty.' },
];

function callFor(client: BedrockRuntimeClient, scenario: (typeof scenarios)[number]): Call {
  if (scenario.name === 'invoke-stream') return invokeStreamCall(client, settings.model, scenario.prompt);
  return directTarget({ client, modelId: settings.model }).call(scenario);
}

const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '-');

const children: BenchChild<{ type: 'ready' }>[] = [];
const clients: { destroy(): void }[] = [];
try {
  const emulator = await startIpcChild<EmulatorReady>('emulator', path.join(support, 'emulator-child.ts'));
  children.push(emulator);
  const { url: emulatorUrl, region, credentials } = emulator.ready;
  const bridge = await startIpcChild<BridgeReady>('bridge', path.join(support, 'bridge-child.ts'), {
    env: {
      BENCH_EMULATOR_URL: emulatorUrl,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    },
  });
  children.push(bridge);
  log(`emulator ${emulatorUrl}, bridge ${bridge.ready.url}`);

  // Both sides use the transport the bridge itself uses upstream: one pooled HTTP/2 session.
  const direct = createBedrockClients({ region, credentials, runtimeEndpoint: emulatorUrl });
  clients.push(direct);
  const viaBridge = new BedrockRuntimeClient({
    region,
    endpoint: bridge.ready.url,
    token: { token: bridge.ready.apiKey },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler: { disableConcurrentStreams: false, maxConcurrentStreams: 100 },
  });
  clients.push(viaBridge);
  const targets = { direct: direct.runtime, passthrough: viaBridge } as const;

  log(`rounds ${settings.rounds}, c=1 x ${settings.countC1}, c=32 x ${settings.countC32} per round and target`);
  const lines: string[] = [];
  for (const scenario of scenarios) {
    const results: Record<keyof typeof targets, { c1: LoadResult[]; c32: LoadResult[] }> = { direct: { c1: [], c32: [] }, passthrough: { c1: [], c32: [] } };
    for (const [name, client] of Object.entries(targets) as [keyof typeof targets, BedrockRuntimeClient][]) {
      const warm = await runLoad(callFor(client, scenario), settings.warmup, 8);
      if (warm.errors > 0) throw new Error(`${name} ${scenario.name}: ${warm.firstError}`);
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = (round % 2 === 0 ? ['direct', 'passthrough'] : ['passthrough', 'direct']) as (keyof typeof targets)[];
      for (const name of order) {
        const call = callFor(targets[name], scenario);
        results[name].c1.push(await runLoad(call, settings.countC1, 1));
        results[name].c32.push(await runLoad(call, settings.countC32, 32));
      }
    }
    const figures = (name: keyof typeof targets) => {
      const c1 = results[name].c1;
      const c32 = results[name].c32;
      const errors = [...c1, ...c32].reduce((sum, r) => sum + r.errors, 0);
      if (errors > 0) throw new Error(`${name} ${scenario.name}: ${errors} errors (${[...c1, ...c32].find((r) => r.firstError)?.firstError})`);
      const latency = summarize(c1.flatMap((r) => r.latencies));
      const first = summarize(c1.flatMap((r) => r.firstChunk));
      const rps = c32.reduce((sum, r) => sum + r.completed, 0) / (c32.reduce((sum, r) => sum + r.wallMs, 0) / 1000);
      const latency32 = summarize(c32.flatMap((r) => r.latencies));
      return { latency, first, rps, latency32 };
    };
    const base = figures('direct');
    const relayed = figures('passthrough');
    const row = (name: string, f: ReturnType<typeof figures>) =>
      `  ${name.padEnd(12)} c=1 median ${fmt(f.latency.median).padStart(6)} ms  p99 ${fmt(f.latency.p99).padStart(6)} ms  first event median ${fmt(f.first.median).padStart(6)} ms  | c=32 ${f.rps.toFixed(0).padStart(5)} req/s  median ${fmt(f.latency32.median).padStart(6)} ms`;
    lines.push(`${scenario.label} (${scenario.operation})`);
    lines.push(row('direct SDK', base));
    lines.push(row('passthrough', relayed));
    lines.push(
      `  added        c=1 median ${fmt(relayed.latency.median - base.latency.median)} ms, p99 ${fmt(relayed.latency.p99 - base.latency.p99)} ms` +
        (scenario.stream ? `, first event ${fmt(relayed.first.median - base.first.median)} ms` : '') +
        `; c=32 throughput ${((relayed.rps / base.rps) * 100).toFixed(0)}% of direct`,
    );
    log(`done: ${scenario.label}`);
  }
  console.log(`\nBedrock-native passthrough vs the AWS SDK straight to the emulator (model ${settings.model}, ${settings.rounds} rounds)\n${lines.join('\n')}`);
} finally {
  for (const client of clients) client.destroy();
  for (const child of children.reverse()) await child.stop();
}
