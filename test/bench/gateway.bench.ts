/**
 * npm run bench [-- --quick | --scale=N] [--profile] [--targets=direct,bridge,portkey]
 *   [--scenarios=chat,stream1,stream50] [--bridge-handler=default|sdk-default|h2-pooled|h1-keepalive]
 *   [--direct-handler=...] [--bridge-build=source|bundle] [--rounds=8] [--count-c1=2000] [--count-c32=4000]
 *
 * One run, one emulator: the AWS SDK called directly (baseline), Bedrock Bridge's gateway and
 * Portkey's open-source gateway, each in its own process, driven from this process by a closed-loop
 * load generator at concurrency 1 and 32. See docs/benchmark.md for what every figure means.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './support/args.ts';
import { directTarget, openAiTarget, type Scenario, type Target } from './support/clients.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { cpuTimeOf, freePort, machineBusyMs, memoryOf, startIpcChild, startPolledChild, type BenchChild, type BridgeReady, type EmulatorReady } from './support/process.ts';
import {
  evaluateTargets,
  mergeRounds,
  renderTable,
  type BenchResults,
  type ScenarioResult,
  type TargetName,
} from './support/report.ts';
import { summarizeProfile } from './support/profile-summary.ts';
import { parseHandlerName, requestHandlerOptions } from './support/handlers.ts';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { createBedrockClients } from '../../src/server/bedrock-clients.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, '.bench');

// ---- settings ------------------------------------------------------------------------------
const args = benchArgs();
const quick = args.has('quick');
const profile = args.has('profile');
const scale = quick ? 0.2 : Number(args.get('scale') ?? 1);
const settings = {
  warmup: Math.round(Number(args.get('warmup') ?? 200) * scale),
  countC1: Math.round(Number(args.get('count-c1') ?? 2000) * scale),
  countC32: Math.round(Number(args.get('count-c32') ?? 4000) * scale),
  rounds: Number(args.get('rounds') ?? 8),
  concurrencies: (args.get('concurrency') ?? '1,32').split(',').map(Number),
  model: process.env.BENCH_MODEL ?? 'anthropic.claude-3-haiku-20240307-v1:0',
  targets: (args.get('targets') ?? 'direct,bridge,portkey').split(',') as TargetName[],
  scenarios: (args.get('scenarios') ?? 'chat,stream50').split(','),
  profile,
  /** How the baseline's SDK client and the bridge's runtime client reach Bedrock (support/handlers.ts). */
  bridgeHandler: parseHandlerName(args.get('bridge-handler') ?? process.env.BENCH_BRIDGE_HANDLER),
  // The baseline uses the bridge's transport unless told otherwise, so "added" is the gateway's own cost.
  directHandler: parseHandlerName(
    args.get('direct-handler') ?? process.env.BENCH_DIRECT_HANDLER ?? args.get('bridge-handler') ?? process.env.BENCH_BRIDGE_HANDLER,
  ),
  /** `bundle`: the esbuild bundle, as `npm start` runs it (scripts/build.ts); `source`: TypeScript via type stripping. */
  // (Under --profile the default is `source`: the profile summary buckets CPU time by source file.)
  bridgeBuild: (args.get('bridge-build') ?? (profile ? 'source' : 'bundle')) as 'source' | 'bundle',
};
if (settings.bridgeBuild !== 'source' && settings.bridgeBuild !== 'bundle') throw new Error('--bridge-build is source or bundle');

const allScenarios: Scenario[] = [
  { name: 'chat', label: 'chat', stream: false, chunks: 1, prompt: 'Say hello in one word.' },
  { name: 'stream1', label: 'stream 1 chunk', stream: true, chunks: 1, prompt: 'Say hello in one word.' },
  { name: 'stream50', label: 'stream 50 chunks', stream: true, chunks: 50, prompt: '[[chunks:50]] Count to fifty.' },
];
const scenarios = allScenarios.filter((s) => settings.scenarios.includes(s.name));

const log = (message: string) => process.stderr.write(`${message}\n`);


// ---- run -----------------------------------------------------------------------------------
async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  mkdirSync(outDir, { recursive: true });
  const children: BenchChild<{ type: 'ready' }>[] = [];
  const checks: BenchResults['checks'] = {};
  try {
    // The emulator gets its own process so its event loop is not shared with the load generator.
    const emulatorModule = process.env.BENCH_UPSTREAM_CHILD ?? path.join(root, 'test/bench/support/emulator-child.ts');
    const emulator = await startIpcChild<EmulatorReady>('emulator', emulatorModule);
    children.push(emulator);
    const { url: emulatorUrl, region, credentials } = emulator.ready;
    log(`emulator  ${emulatorUrl} (pid ${emulator.pid})`);

    const targets: Target[] = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const pids: Partial<Record<TargetName, number>> = {};

    if (settings.targets.includes('direct')) {
      // `default`: the very client factory the bridge uses, so both sides share one transport setup.
      const client =
        settings.directHandler === 'default'
          ? createBedrockClients({ region, credentials, runtimeEndpoint: emulatorUrl }).runtime
          : new BedrockRuntimeClient({
              endpoint: emulatorUrl,
              region,
              credentials,
              maxAttempts: 1,
              ...requestHandlerOptions(settings.directHandler),
            });
      targets.push(directTarget({ client, modelId: settings.model }));
    }

    if (settings.targets.includes('bridge')) {
      const profileDir = path.join(outDir, 'profile');
      if (profile) mkdirSync(profileDir, { recursive: true });
      let bridgeModule = path.join(root, 'test/bench/support/bridge-child.ts');
      if (settings.bridgeBuild === 'bundle') {
        // The same entry, bundled with the options scripts/build.ts ships the CLI with (npm packages
        // bundled too), so the bridge runs as plain JavaScript the way `npm start` runs it.
        const { build } = await import('esbuild');
        const { NODE_DEFAULTS } = await import('../../scripts/build.ts');
        const outfile = path.join(outDir, 'bridge-child.bundle.mjs');
        // --bridge-packages=external leaves npm packages out of the bundle (for comparing memory).
        const packages = args.get('bridge-packages') === 'external' ? { packages: 'external' as const } : {};
        await build({ ...NODE_DEFAULTS, ...packages, entryPoints: [bridgeModule], outfile, sourcemap: false, legalComments: 'none', metafile: false });
        bridgeModule = outfile;
      }
      const bridge = await startIpcChild<BridgeReady>('bridge', bridgeModule, {
        nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        env: {
          BENCH_EMULATOR_URL: emulatorUrl,
          BENCH_BRIDGE_HANDLER: settings.bridgeHandler,
          AWS_REGION: region,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
        },
      });
      children.push(bridge);
      pids.bridge = bridge.pid;
      log(`bridge    ${bridge.ready.url} (pid ${bridge.pid})`);
      targets.push(
        openAiTarget({
          name: 'bridge',
          pid: bridge.pid,
          baseUrl: bridge.ready.url,
          headers: { authorization: `Bearer ${bridge.ready.apiKey}` },
          model: settings.model,
          agent,
        }),
      );
    }

    if (settings.targets.includes('portkey')) {
      const port = await freePort();
      // Under --profile Portkey runs through a tiny entry that exits cleanly on SIGTERM (so the profile is written).
      const portkeyProfileDir = path.join(outDir, 'profile-portkey');
      if (profile) mkdirSync(portkeyProfileDir, { recursive: true });
      const portkey = await startPolledChild(
        'portkey',
        [
          profile
            ? path.join(root, 'test/bench/support/portkey-entry.ts')
            : path.join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'),
          `--port=${port}`,
          '--headless',
        ],
        `http://127.0.0.1:${port}/`,
        profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${portkeyProfileDir}`] } : {},
      );
      children.push(portkey);
      pids.portkey = portkey.pid;
      log(`portkey   http://127.0.0.1:${port} (pid ${portkey.pid})`);
      targets.push(
        openAiTarget({
          name: 'portkey',
          pid: portkey.pid,
          baseUrl: `http://127.0.0.1:${port}`,
          headers: {
            'x-portkey-provider': 'bedrock',
            'x-portkey-custom-host': emulatorUrl,
            'x-portkey-aws-access-key-id': credentials.accessKeyId,
            'x-portkey-aws-secret-access-key': credentials.secretAccessKey,
            ...(credentials.sessionToken ? { 'x-portkey-aws-session-token': credentials.sessionToken } : {}),
            'x-portkey-aws-region': region,
          },
          model: settings.model,
          agent,
        }),
      );
    }

    const idle: Partial<Record<TargetName, number>> = {};
    for (const [name, pid] of Object.entries(pids) as [TargetName, number][]) idle[name] = memoryOf(pid).rssMiB;

    // Correctness first: every target must produce the same content for every scenario.
    const measured: Target[] = [];
    for (const target of targets) {
      checks[target.name] = {};
      let ok = true;
      for (const scenario of scenarios) {
        try {
          const result = await target.check(scenario);
          const expected = scenario.stream ? scenario.chunks : 1;
          const chunksOk = !scenario.stream || result.contentChunks >= expected;
          checks[target.name]![scenario.name] =
            `${result.ok && chunksOk ? 'ok' : 'FAILED'}: ${result.contentChunks} content chunk(s), ${result.content.length} chars, ${result.detail}`;
          if (!result.ok || !chunksOk) ok = false;
        } catch (error) {
          ok = false;
          checks[target.name]![scenario.name] = `FAILED: ${error instanceof Error ? error.message : String(error)}`;
        }
        log(`check     ${target.name.padEnd(8)} ${scenario.name.padEnd(9)} ${checks[target.name]![scenario.name]}`);
      }
      if (ok) measured.push(target);
      else log(`          ${target.name} is left out of the measurements`);
    }

    // Warm-up: JIT, connection pools and HTTP/2 sessions, at both concurrencies.
    for (const scenario of scenarios) {
      for (const target of measured) {
        const call = target.call(scenario);
        await runLoad(call, settings.warmup, 1);
        await runLoad(call, settings.warmup, 32);
      }
    }
    log(`warm-up   done (${settings.warmup} x 2 per target and scenario)`);

    // How much of the machine other programs used while we measured (the noise on a shared box).
    const ourPids = [emulator.pid, ...Object.values(pids)];
    const ourCpuMs = () => ourPids.reduce((sum, pid) => sum + cpuTimeOf(pid), 0) + cpuTimeOf(process.pid);
    const measureStart = { wall: performance.now(), machine: machineBusyMs(), ours: ourCpuMs() };

    // Measure: each (scenario, concurrency) is split in rounds, and the targets take turns in a
    // rotating order, so a burst of load from elsewhere on the machine hits all of them alike.
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      for (const concurrency of settings.concurrencies) {
        const total = concurrency === 1 ? settings.countC1 : settings.countC32;
        const perRound = Math.max(1, Math.round(total / settings.rounds));
        const rounds = new Map<TargetName, LoadResult[]>();
        const cpu = new Map<TargetName, number>();
        for (let round = 0; round < settings.rounds; round += 1) {
          const order = measured.map((_, i) => measured[(i + round) % measured.length]!);
          for (const target of order) {
            const call = target.call(scenario);
            const cpuBefore = target.pid ? cpuTimeOf(target.pid) : 0;
            const result = await runLoad(call, perRound, concurrency);
            if (target.pid) cpu.set(target.name, (cpu.get(target.name) ?? 0) + cpuTimeOf(target.pid) - cpuBefore);
            rounds.set(target.name, [...(rounds.get(target.name) ?? []), result]);
          }
        }
        const cells: ScenarioResult['cells'] = {};
        for (const target of measured) cells[target.name] = mergeRounds(rounds.get(target.name)!, cpu.get(target.name));
        results.push({ scenario: scenario.name, label: scenario.label, stream: scenario.stream, concurrency, cells });
        log(
          `measured  ${scenario.label} c=${concurrency}: ` +
            measured.map((t) => `${t.name} ${cells[t.name]!.latency.median.toFixed(3)} ms, ${cells[t.name]!.errors} errors`).join('; '),
        );
      }
    }

    const measureWallMs = performance.now() - measureStart.wall;
    const foreignCpuMs = machineBusyMs() - measureStart.machine - (ourCpuMs() - measureStart.ours);
    const noise = {
      measureWallSeconds: measureWallMs / 1000,
      /** Average number of cores busy with other programs while the bench measured. */
      foreignCores: Math.max(0, foreignCpuMs / measureWallMs),
      /** Average number of cores the bench's own processes used. */
      benchCores: (ourCpuMs() - measureStart.ours) / measureWallMs,
    };

    const memory: BenchResults['memory'] = {};
    for (const [name, pid] of Object.entries(pids) as [TargetName, number][]) {
      if (!measured.some((t) => t.name === name)) continue;
      memory[name] = { idleRssMiB: idle[name]!, peakRssMiB: memoryOf(pid).peakRssMiB };
    }

    const cpus = os.cpus();
    const bench: BenchResults = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        node: process.version,
        loadAverageAtStart,
        loadAverageAtEnd: os.loadavg(),
      },
      settings: { ...settings, emulator: emulatorModule },
      noise,
      checks,
      scenarios: results,
      memory,
      targets: [],
    };
    const { text, comparisons } = renderTable(bench);
    bench.targets = evaluateTargets(bench, comparisons);

    agent.destroy();
    for (const target of targets) if ('client' in target) (target.client as { destroy(): void }).destroy();
    for (const child of children.reverse()) await child.stop();
    children.length = 0;

    const errors = results.flatMap((r) =>
      Object.entries(r.cells)
        .filter(([, cell]) => cell.errors > 0)
        .map(([name, cell]) => `${r.label} c=${r.concurrency} ${name}: ${cell.errors} errors, first: ${cell.firstError}`),
    );

    const out: string[] = [];
    out.push('');
    out.push(
      `Bedrock Bridge benchmark — ${bench.finishedAt}, ${bench.machine.cpus} x ${bench.machine.cpuModel}, Node ${bench.machine.node}, ` +
        `load average ${loadAverageAtStart.map((l) => l.toFixed(2)).join('/')} -> ${bench.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join('/')}`,
    );
    out.push(
      `requests per target: warm-up ${settings.warmup} x 2, c=1 ${settings.countC1}, c=32 ${settings.countC32}, in ${settings.rounds} interleaved rounds; model ${settings.model}; ` +
        `SDK request handler: direct ${settings.directHandler}, bridge ${settings.bridgeHandler}; bridge run from ${settings.bridgeBuild}`,
    );
    out.push(
      `noise: while measuring (${noise.measureWallSeconds.toFixed(0)} s) other programs kept ${noise.foreignCores.toFixed(2)} of ` +
        `${bench.machine.cpus} cores busy on average; the bench's own processes ${noise.benchCores.toFixed(2)}`,
    );
    out.push('');
    out.push(text);
    out.push('');
    out.push('ok = bridge better than portkey on that row; !! = not; rounds = in how many of the interleaved rounds the bridge was better (a split such as 4/8 means the difference is within the noise)');
    for (const target of bench.targets) {
      out.push(`target: ${target.name}: ${target.holds === null ? 'n/a' : target.holds ? 'HOLDS' : 'MISSED'} (${target.detail})`);
    }
    for (const [name, byScenario] of Object.entries(checks)) {
      for (const [scenario, verdict] of Object.entries(byScenario)) {
        if (verdict.startsWith('FAILED')) out.push(`left out: ${name} ${scenario}: ${verdict}`);
      }
    }
    for (const error of errors) out.push(`errors: ${error}`);
    process.stdout.write(`${out.join('\n')}\n`);

    const file = path.join(outDir, 'results.json');
    writeFileSync(file, `${JSON.stringify(bench, null, 2)}\n`);
    log(`\nresults written to ${path.relative(root, file)}`);

    if (profile) {
      const summaries: string[] = [];
      for (const [name, dir] of [
        ['bridge', path.join(outDir, 'profile')],
        ['portkey', path.join(outDir, 'profile-portkey')],
      ] as const) {
        if (!settings.targets.includes(name)) continue;
        const newest = readdirSync(dir)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(dir, f))
          .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
        if (!newest) {
          log(`no .cpuprofile was written for ${name} (did it exit normally?)`);
          continue;
        }
        summaries.push(`CPU profile of the ${name} process (${path.relative(root, newest)}):\n${summarizeProfile(newest)}`);
      }
      writeFileSync(path.join(outDir, 'profile-summary.txt'), `${summaries.join('\n\n')}\n`);
      process.stdout.write(`\n${summaries.join('\n\n')}\n`);
    }
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => {});
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
