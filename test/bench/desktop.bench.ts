/**
 * The desktop main process (node test/bench/desktop.bench.ts): the BUILT main bundle under the fake
 * `electron` (plain Node, so Electron's own ~100 MB of Chromium processes are not in these figures),
 * launched `--hidden --emulator` (tray only, the built-in emulator: no sign-in to wait for).
 *  1. time to ready: spawn -> tray status "Serving on port N";
 *  2. idle RSS of that process 3 s after ready, and after one chat request;
 *  3. for scale, the RSS of the harness alone: Node with the fake `electron` loaded (its TypeScript is
 *     type-stripped at load, which costs memory the real app does not pay).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDesktopBundle, desktopEnv, launchDesktop, type TrayMenuReportItem } from '../support/desktop-process.ts';

const RUNS = 5;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const bundle = await buildDesktopBundle('bench');
const ready: number[] = [];
const idle: number[] = [];
const afterRequest: number[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const home = mkdtempSync(path.join(tmpdir(), 'bb-desktop-bench-'));
    writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ port: 0 }));
    try {
      const startedAt = performance.now();
      const desktop = launchDesktop(bundle, ['--hidden', '--emulator'], desktopEnv(home));
      await desktop.waitFor('serving', (r) => r.type === 'tray-menu' && /^Serving on port/.test(String((r.menu as TrayMenuReportItem[])[1]?.label)), 60_000);
      ready.push(performance.now() - startedAt);
      await sleep(3000);
      idle.push(rssMiB(desktop.child.pid!));
      const key = desktop.next('key', (r) => r.type === 'clipboard');
      desktop.send({ type: 'click', labels: ['Copy API key'] });
      const apiKey = String((await key).text);
      const url = desktop.next('url', (r) => r.type === 'clipboard');
      desktop.send({ type: 'click', labels: ['Copy base URL'] });
      const baseUrl = String((await url).text);
      const response = await fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
      });
      if (response.status !== 200) throw new Error(`chat answered ${response.status}: ${await response.text()}`);
      await sleep(1000);
      afterRequest.push(rssMiB(desktop.child.pid!));
      desktop.send({ type: 'click', labels: ['Quit Bedrock Bridge'] });
      const code = await desktop.exit;
      if (code !== 0) throw new Error(`quit with ${code}: ${desktop.output()}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(bundle.appPath, { recursive: true, force: true });
}

const HOOKS = new URL('../support/fake-electron-hooks.ts', import.meta.url).pathname;
const harness = Number(
  execFileSync(process.execPath, ['--import', HOOKS, '--input-type=module', '-e', "await import('electron'); setTimeout(() => { console.log(process.memoryUsage().rss); process.exit(0); }, 2000);"]).toString(),
) / 1024 / 1024;

const list = (values: number[], digits: number) => values.map((value) => value.toFixed(digits)).join(', ');
console.log(`desktop main bundle under the fake electron, --hidden --emulator, ${RUNS} launches:`);
console.log(`  time to ready (spawn -> serving in the tray): median ${median(ready).toFixed(0)} ms  [${list(ready, 0)}]`);
console.log(`  idle RSS 3 s after ready:                     median ${median(idle).toFixed(1)} MiB  [${list(idle, 1)}]`);
console.log(`  RSS after one chat request:                   median ${median(afterRequest).toFixed(1)} MiB  [${list(afterRequest, 1)}]`);
console.log(`  the harness alone (Node + fake electron):     ${harness.toFixed(1)} MiB`);
