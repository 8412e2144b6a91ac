/**
 * The fuzz properties of test/fuzz/, run longer and with a new seed each time (node test/bench/fuzz.bench.ts):
 * every route of the local server, unknown paths, raw bytes, the audit endpoint contract from both
 * ends, and the settings and sign-in files. Prints the inputs tried and the time per property; a
 * failure prints the counterexample and its seed (re-run with FUZZ_SEED=<seed>) and exits 1.
 *   FUZZ_RUNS   inputs per property (default 1500)
 *   FUZZ_SEED   seed (default: from the clock)
 *   FUZZ_ONLY   run only the properties whose name contains this text
 */
import { startAuditCollector } from '../../src/emulator/audit-collector.ts';
import { auditClientProperty, auditEndpointProperty } from '../fuzz/audit-fuzz.ts';
import { settingsFileProperty, signInFileProperty } from '../fuzz/loader-fuzz.ts';
import { serverProperties, startFuzzBridge } from '../fuzz/server-fuzz.ts';
import { checkProperty, watchUnhandled } from '../fuzz/support.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 1500);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const unhandled = watchUnhandled();

console.log(`fuzz: seed ${seed}, ${runs} inputs per property`);
console.log(`${'property'.padEnd(44)} ${'inputs'.padStart(7)} ${'seconds'.padStart(8)} ${'inputs/s'.padStart(9)}`);

let failed = false;
let total = 0;
const started = performance.now();

async function run(name: string, property: Parameters<typeof checkProperty>[0]): Promise<void> {
  if (process.env.FUZZ_ONLY && !name.includes(process.env.FUZZ_ONLY)) return;
  const t0 = performance.now();
  try {
    const tried = await checkProperty(property, runs, seed);
    const seconds = (performance.now() - t0) / 1000;
    total += tried;
    console.log(`${name.padEnd(44)} ${String(tried).padStart(7)} ${seconds.toFixed(1).padStart(8)} ${(tried / seconds).toFixed(0).padStart(9)}`);
  } catch (error) {
    failed = true;
    console.log(`${name.padEnd(44)} FAILED (seed ${seed})\n${error instanceof Error ? error.message : String(error)}`);
  }
}

const fuzz = await startFuzzBridge();
try {
  for (const { name, property } of serverProperties(fuzz)) await run(`server: ${name}`, property);
} finally {
  await fuzz.close();
}
const token = 'tok-bench-collector-secret';
const collector = await startAuditCollector({ bearerVerifier: (candidate) => (candidate === token ? 'alice@example.com' : null) });
try {
  await run('audit endpoint (collector)', auditEndpointProperty({ port: collector.port, path: collector.path, token }));
} finally {
  await collector.close();
}
const client = auditClientProperty();
try {
  await run('audit client (AuditSync)', client.property);
} finally {
  client.close();
}
await run('settings.json loader', settingsFileProperty());
await run('sign-in.json loader', signInFileProperty());

const seconds = (performance.now() - started) / 1000;
console.log(`${'total'.padEnd(44)} ${String(total).padStart(7)} ${seconds.toFixed(1).padStart(8)} ${(total / seconds).toFixed(0).padStart(9)}`);
console.log(`server answers by status: ${[...fuzz.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(', ')}`);
const errors = unhandled.errors();
if (errors.length > 0) {
  failed = true;
  console.log(`unhandled: ${errors.length}\n${errors.slice(0, 5).join('\n')}`);
}
unhandled.stop();
process.exit(failed ? 1 : 0);
