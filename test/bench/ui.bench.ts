/**
 * The window's UI in real Chromium against a real `serve --emulator` (node test/bench/ui.bench.ts):
 *  1. first render: navigation start to first contentful paint, and to "tabs interactive" (the first
 *     state from the event stream shown in the header), over several cold page loads;
 *  2. the live log at 200 requests/s for 10 s of real chat requests (one in ten streamed): frames drawn,
 *     long tasks, the page's DOM node count (must stay bounded), and whether every request reached it.
 * Skips (exit 0, saying why) when /usr/bin/chromium is missing, unless REQUIRE_CHROMIUM=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, postChat, startServe } from '../support/serve-process.ts';
import { chromiumSkip, launchChromium } from '../support/chromium.ts';
import { buildUiOnce, openUi, uiLinkOf } from '../ui/browser.ts';

const LOADS = 7;
const RATE = 200;
const SECONDS = 10;

const skip = chromiumSkip();
if (skip) {
  console.log(`ui bench skipped: ${skip}`);
  process.exit(0);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const home = mkdtempSync(join(tmpdir(), 'bb-ui-bench-'));
await buildUiOnce();
const [browser, serve] = await Promise.all([launchChromium(), startServe(['--emulator', '--port', '0'], cleanEnv(home), 45_000)]);
const origin = new URL(serve.baseURL).origin;

try {
  // 1. First render, cold (a new browser profile each time: nothing cached).
  let link = uiLinkOf(serve.output());
  let cookie = '';
  const paint: number[] = [];
  const interactive: number[] = [];
  for (let load = 0; load < LOADS; load += 1) {
    const ui = await openUi(browser, link);
    const ready = await ui.page.waitForFunction(() => (document.querySelector('#state[data-level]') ? performance.now() : 0), undefined, { polling: 'raf' });
    interactive.push(Number(await ready.jsonValue()));
    paint.push(await ui.page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN));
    const held = (await ui.context.cookies()).find((candidate) => candidate.name === 'bb_ui')!;
    cookie = `${held.name}=${held.value}`;
    link = ((await (await fetch(`${origin}/control/v1/ui-link`, { headers: { cookie } })).json()) as { url: string }).url;
    await ui.context.close();
  }
  console.log(`UI first render (${LOADS} cold loads, 420x640): first contentful paint median ${median(paint).toFixed(0)} ms (min ${Math.min(...paint).toFixed(0)}, max ${Math.max(...paint).toFixed(0)}); tabs interactive with the first state median ${median(interactive).toFixed(0)} ms (max ${Math.max(...interactive).toFixed(0)})`);

  // 2. The live log under load.
  const ui = await openUi(browser, link);
  const { page } = ui;
  await page.click('#tab-log');
  await page.evaluate(() => {
    const probe = { frames: 0, longTasks: 0, longTaskMs: 0, maxNodes: 0, startedAt: performance.now() };
    (window as unknown as { probe: typeof probe }).probe = probe;
    const frame = () => {
      probe.frames += 1;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        probe.longTasks += 1;
        probe.longTaskMs += entry.duration;
      }
    }).observe({ type: 'longtask' });
    setInterval(() => {
      probe.maxNodes = Math.max(probe.maxNodes, document.getElementsByTagName('*').length);
    }, 250);
  });
  const nodesBefore = await page.evaluate(() => document.getElementsByTagName('*').length);

  let sent = 0;
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const startedAt = performance.now();
  const perTick = RATE / 10;
  for (let tick = 0; tick < SECONDS * 10; tick += 1) {
    for (let index = 0; index < perTick; index += 1) {
      const stream = sent % 10 === 0;
      sent += 1;
      inFlight.push(
        postChat(serve.baseURL, serve.apiKey, { model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: stream ? 'stream [[chunks:20]]' : 'hi' }] })
          .then(async (response) => {
            await response.arrayBuffer();
            if (response.status !== 200) failed += 1;
          })
          .catch(() => {
            failed += 1;
          }),
      );
    }
    const next = startedAt + (tick + 1) * 100;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  await Promise.all(inFlight);
  const sendSeconds = (performance.now() - startedAt) / 1000;
  // Let the last batch arrive and the last frame draw.
  await page.waitForFunction((count) => /^(\d+) of (\d+)/.exec(document.querySelector('#log-summary')?.textContent ?? '')?.[2] === String(Math.min(count, 1000)), Math.min(sent, 1000), { timeout: 20_000 }).catch(() => undefined);
  const probe = await page.evaluate(() => {
    const value = (window as unknown as { probe: { frames: number; longTasks: number; longTaskMs: number; maxNodes: number; startedAt: number } }).probe;
    return { ...value, seconds: (performance.now() - value.startedAt) / 1000, nodes: document.getElementsByTagName('*').length, rows: document.querySelectorAll('.log-row').length, summary: document.querySelector('#log-summary')?.textContent ?? '' };
  });
  console.log(
    `Live log at ${RATE} requests/s: ${sent} requests in ${sendSeconds.toFixed(1)} s (${(sent / sendSeconds).toFixed(0)}/s achieved, ${failed} failed); ` +
      `${(probe.frames / probe.seconds).toFixed(0)} frames/s over ${probe.seconds.toFixed(1)} s; ${probe.longTasks} long tasks (${probe.longTaskMs.toFixed(0)} ms in all); ` +
      `DOM nodes ${nodesBefore} before, at most ${probe.maxNodes} during, ${probe.nodes} after (${probe.rows} rows shown); "${probe.summary}"`,
  );
  // On a shared machine the figures above are bounded by the CPU others use: say how busy it was.
  console.log(`(machine load average over the last minute: ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
  if (ui.problems.length > 0) console.log(`page problems: ${ui.problems.join('; ')}`);
  await ui.context.close();
} finally {
  await browser.close();
  serve.child.kill('SIGTERM');
  await serve.exit;
  rmSync(home, { recursive: true, force: true });
}
