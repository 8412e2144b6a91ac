import { summarize, type Summary } from './stats.ts';
import type { LoadResult } from './load.ts';

export type TargetName = 'direct' | 'bridge' | 'portkey';
export const TARGETS: readonly TargetName[] = ['direct', 'bridge', 'portkey'];

/** Everything measured for one target in one scenario at one concurrency. */
export interface Cell {
  requests: number;
  errors: number;
  firstError?: string;
  latency: Summary;
  firstChunk?: Summary;
  requestsPerSecond: number;
  /** Gateway process CPU (user + system) per request, ms; not measured for the in-process baseline. */
  cpuMsPerRequest?: number;
}

export interface ScenarioResult {
  scenario: string;
  label: string;
  stream: boolean;
  concurrency: number;
  cells: Partial<Record<TargetName, Cell>>;
}

export interface MemoryResult {
  /** VmRSS after start-up, before any request, MiB. */
  idleRssMiB: number;
  /** VmHWM at the end of the run (peak resident set over the process's life), MiB. */
  peakRssMiB: number;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  settings: Record<string, unknown>;
  /** Load from other programs during the measurement (this is a shared machine). */
  noise: { measureWallSeconds: number; foreignCores: number; benchCores: number };
  checks: Record<string, Record<string, string>>;
  scenarios: ScenarioResult[];
  memory: Partial<Record<TargetName, MemoryResult>>;
  targets: { name: string; holds: boolean | null; detail: string }[];
}

/** Merges the rounds one target ran for one (scenario, concurrency). */
export function mergeRounds(rounds: LoadResult[], cpuMs: number | undefined): Cell {
  const latencies = rounds.flatMap((round) => round.latencies);
  const firstChunk = rounds.flatMap((round) => round.firstChunk);
  const wallMs = rounds.reduce((sum, round) => sum + round.wallMs, 0);
  const errors = rounds.reduce((sum, round) => sum + round.errors, 0);
  const firstError = rounds.find((round) => round.firstError)?.firstError;
  return {
    requests: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    latency: summarize(latencies),
    ...(firstChunk.length ? { firstChunk: summarize(firstChunk) } : {}),
    requestsPerSecond: (latencies.length * 1000) / wallMs,
    ...(cpuMs !== undefined && latencies.length ? { cpuMsPerRequest: cpuMs / (latencies.length + errors) } : {}),
  };
}

interface Row {
  label: string;
  /** 'lower' or 'higher' is better; null: not compared. */
  better: 'lower' | 'higher' | null;
  values: Partial<Record<TargetName, number>>;
  unit: string;
  digits: number;
}

function rowsFor(result: ScenarioResult): Row[] {
  const direct = result.cells.direct;
  const rows: Row[] = [];
  const each = (pick: (cell: Cell) => number | undefined, targets: readonly TargetName[] = TARGETS) => {
    const values: Partial<Record<TargetName, number>> = {};
    for (const name of targets) {
      const cell = result.cells[name];
      const value = cell ? pick(cell) : undefined;
      if (value !== undefined && Number.isFinite(value)) values[name] = value;
    }
    return values;
  };
  const gateways: TargetName[] = ['bridge', 'portkey'];
  rows.push({ label: 'latency median', better: null, unit: 'ms', digits: 3, values: each((c) => c.latency.median) });
  rows.push({ label: 'latency p99', better: null, unit: 'ms', digits: 3, values: each((c) => c.latency.p99) });
  if (direct) {
    rows.push({
      label: 'added median',
      better: 'lower',
      unit: 'ms',
      digits: 3,
      values: each((c) => c.latency.median - direct.latency.median, gateways),
    });
    rows.push({
      label: 'added p99',
      better: 'lower',
      unit: 'ms',
      digits: 3,
      values: each((c) => c.latency.p99 - direct.latency.p99, gateways),
    });
  }
  rows.push({ label: 'requests/s', better: 'higher', unit: '/s', digits: 0, values: each((c) => c.requestsPerSecond) });
  if (result.stream) {
    rows.push({ label: 'first chunk median', better: null, unit: 'ms', digits: 3, values: each((c) => c.firstChunk?.median) });
    if (direct?.firstChunk) {
      const base = direct.firstChunk.median;
      rows.push({
        label: 'first chunk added',
        better: 'lower',
        unit: 'ms',
        digits: 3,
        values: each((c) => (c.firstChunk ? c.firstChunk.median - base : undefined), gateways),
      });
    }
  }
  rows.push({ label: 'gateway CPU/request', better: 'lower', unit: 'ms', digits: 3, values: each((c) => c.cpuMsPerRequest, gateways) });
  return rows;
}

function format(value: number | undefined, digits: number): string {
  if (value === undefined) return '—';
  return value.toFixed(digits);
}

/** Plain-text table: rows are scenario x concurrency x metric; columns direct, bridge, portkey. */
export function renderTable(results: BenchResults): { text: string; comparisons: { row: string; bridgeBetter: boolean }[] } {
  const lines: string[] = [];
  const comparisons: { row: string; bridgeBetter: boolean }[] = [];
  const widths = [44, 10, 10, 10, 4];
  const line = (cells: string[]) =>
    lines.push(cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' '));
  line(['scenario / c / metric', 'direct', 'bridge', 'portkey', '']);
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 1, 0)));
  for (const result of results.scenarios) {
    for (const row of rowsFor(result)) {
      const name = `${result.label} c=${result.concurrency} ${row.label} (${row.unit})`;
      let mark = '';
      const bridge = row.values.bridge;
      const portkey = row.values.portkey;
      if (row.better && bridge !== undefined && portkey !== undefined) {
        const bridgeBetter = row.better === 'lower' ? bridge < portkey : bridge > portkey;
        comparisons.push({ row: name, bridgeBetter });
        mark = bridgeBetter ? ' ok' : ' !!';
      }
      line([name, format(row.values.direct, row.digits), format(bridge, row.digits), format(portkey, row.digits), mark]);
    }
    lines.push('');
  }
  const memoryRows: [string, (m: MemoryResult) => number][] = [
    ['idle RSS after start (MiB)', (m) => m.idleRssMiB],
    ['peak RSS, VmHWM (MiB)', (m) => m.peakRssMiB],
  ];
  for (const [label, pick] of memoryRows) {
    const bridge = results.memory.bridge ? pick(results.memory.bridge) : undefined;
    const portkey = results.memory.portkey ? pick(results.memory.portkey) : undefined;
    let mark = '';
    if (bridge !== undefined && portkey !== undefined) {
      comparisons.push({ row: `gateway ${label}`, bridgeBetter: bridge < portkey });
      mark = bridge < portkey ? ' ok' : ' !!';
    }
    line([`gateway ${label}`, '—', format(bridge, 1), format(portkey, 1), mark]);
  }
  return { text: lines.join('\n'), comparisons };
}

/** The targets: added median < 1 ms at c=1, and bridge better than Portkey on every row. */
export function evaluateTargets(
  results: BenchResults,
  comparisons: { row: string; bridgeBetter: boolean }[],
): BenchResults['targets'] {
  const targets: BenchResults['targets'] = [];
  for (const result of results.scenarios.filter((r) => r.concurrency === 1)) {
    const bridge = result.cells.bridge;
    const direct = result.cells.direct;
    if (!bridge || !direct) {
      targets.push({ name: `${result.label}: added median < 1 ms at c=1`, holds: null, detail: 'not measured' });
      continue;
    }
    const added = bridge.latency.median - direct.latency.median;
    targets.push({
      name: `${result.label}: added median < 1 ms at c=1`,
      holds: added < 1,
      detail: `${added.toFixed(3)} ms`,
    });
  }
  if (comparisons.length === 0) {
    targets.push({ name: 'bridge better than Portkey on every row', holds: null, detail: 'Portkey not measured' });
  } else {
    const failing = comparisons.filter((c) => !c.bridgeBetter);
    targets.push({
      name: 'bridge better than Portkey on every row',
      holds: failing.length === 0,
      detail: failing.length === 0 ? `${comparisons.length}/${comparisons.length} rows` : `worse on: ${failing.map((f) => f.row).join('; ')}`,
    });
  }
  return targets;
}
