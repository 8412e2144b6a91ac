import { summarize, type Summary } from './stats.ts';
import type { LoadResult } from './load.ts';

export type TargetName = 'direct' | 'bridge' | 'portkey';
export const TARGETS: readonly TargetName[] = ['direct', 'bridge', 'portkey'];

/** What one target's requests measured, over a whole run or over one round of it. */
export interface Measured {
  latency: Summary;
  firstChunk?: Summary;
  requestsPerSecond: number;
}

/** Everything measured for one target in one scenario at one concurrency. */
export interface Cell extends Measured {
  requests: number;
  errors: number;
  firstError?: string;
  /** Gateway process CPU (user + system) per request, ms; not measured for the in-process baseline. */
  cpuMsPerRequest?: number;
  /** The same figures per interleaved round, in round order (so round i of every target ran side by side). */
  rounds: Measured[];
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

function measuredOf(rounds: LoadResult[]): Measured {
  const latencies = rounds.flatMap((round) => round.latencies);
  const firstChunk = rounds.flatMap((round) => round.firstChunk);
  const wallMs = rounds.reduce((sum, round) => sum + round.wallMs, 0);
  return {
    latency: summarize(latencies),
    ...(firstChunk.length ? { firstChunk: summarize(firstChunk) } : {}),
    requestsPerSecond: (latencies.length * 1000) / wallMs,
  };
}

/** Merges the rounds one target ran for one (scenario, concurrency). */
export function mergeRounds(rounds: LoadResult[], cpuMs: number | undefined): Cell {
  const requests = rounds.reduce((sum, round) => sum + round.latencies.length, 0);
  const errors = rounds.reduce((sum, round) => sum + round.errors, 0);
  const firstError = rounds.find((round) => round.firstError)?.firstError;
  return {
    ...measuredOf(rounds),
    requests,
    errors,
    ...(firstError ? { firstError } : {}),
    ...(cpuMs !== undefined && requests ? { cpuMsPerRequest: cpuMs / (requests + errors) } : {}),
    rounds: rounds.map((round) => measuredOf([round])),
  };
}

interface Row {
  label: string;
  /** 'lower' or 'higher' is better; null: not compared. */
  better: 'lower' | 'higher' | null;
  values: Partial<Record<TargetName, number>>;
  /** The row's figure in each interleaved round, where it can be taken per round. */
  perRound: Partial<Record<TargetName, number[]>>;
  unit: string;
  digits: number;
}

/** A row's figure from one target's measurements; `direct` is the baseline's, from the same round. */
type Pick = (measured: Measured, direct: Measured | undefined) => number | undefined;

function rowsFor(result: ScenarioResult): Row[] {
  const direct = result.cells.direct;
  const gateways: TargetName[] = ['bridge', 'portkey'];
  const row = (label: string, better: Row['better'], unit: string, digits: number, pick: Pick, targets: readonly TargetName[] = TARGETS): Row => {
    const values: Row['values'] = {};
    const perRound: Row['perRound'] = {};
    for (const name of targets) {
      const cell = result.cells[name];
      if (!cell) continue;
      const value = pick(cell, direct);
      if (value !== undefined && Number.isFinite(value)) values[name] = value;
      perRound[name] = cell.rounds.map((round, i) => pick(round, direct?.rounds[i]) ?? Number.NaN);
    }
    return { label, better, unit, digits, values, perRound };
  };
  const rows: Row[] = [
    row('latency median', null, 'ms', 3, (m) => m.latency.median),
    row('latency p99', null, 'ms', 3, (m) => m.latency.p99),
  ];
  if (direct) {
    rows.push(row('added median', 'lower', 'ms', 3, (m, d) => (d ? m.latency.median - d.latency.median : undefined), gateways));
    rows.push(row('added p99', 'lower', 'ms', 3, (m, d) => (d ? m.latency.p99 - d.latency.p99 : undefined), gateways));
  }
  rows.push(row('requests/s', 'higher', '/s', 0, (m) => m.requestsPerSecond));
  if (result.stream) {
    rows.push(row('first chunk median', null, 'ms', 3, (m) => m.firstChunk?.median));
    if (direct?.firstChunk) {
      const firstChunkAdded: Pick = (m, d) => (m.firstChunk && d?.firstChunk ? m.firstChunk.median - d.firstChunk.median : undefined);
      rows.push(row('first chunk added', 'lower', 'ms', 3, firstChunkAdded, gateways));
    }
  }
  // CPU is read per target over the whole run, so this row has no per-round figures.
  const cpu = row('gateway CPU/request', 'lower', 'ms', 3, (m) => (m as Partial<Cell>).cpuMsPerRequest, gateways);
  rows.push({ ...cpu, perRound: {} });
  return rows;
}

/** In how many rounds the bridge beat Portkey on this row, as "won/rounds"; empty when not taken per round. */
function roundsWon(row: Row): string {
  const bridge = row.perRound.bridge;
  const portkey = row.perRound.portkey;
  if (!bridge || !portkey || bridge.length === 0) return '';
  let won = 0;
  for (let i = 0; i < bridge.length; i += 1) {
    const b = bridge[i]!;
    const p = portkey[i]!;
    if (row.better === 'lower' ? b < p : b > p) won += 1;
  }
  return `${won}/${bridge.length}`;
}

function format(value: number | undefined, digits: number): string {
  if (value === undefined) return '—';
  return value.toFixed(digits);
}

/** Plain-text table: rows are scenario x concurrency x metric; columns direct, bridge, portkey. */
export function renderTable(results: BenchResults): { text: string; comparisons: { row: string; bridgeBetter: boolean }[] } {
  const lines: string[] = [];
  const comparisons: { row: string; bridgeBetter: boolean }[] = [];
  const widths = [44, 10, 10, 10, 4, 7];
  const line = (cells: string[]) =>
    lines.push(cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' '));
  line(['scenario / c / metric', 'direct', 'bridge', 'portkey', '', 'rounds']);
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 1, 0)));
  for (const result of results.scenarios) {
    for (const row of rowsFor(result)) {
      const name = `${result.label} c=${result.concurrency} ${row.label} (${row.unit})`;
      let mark = '';
      let won = '';
      const bridge = row.values.bridge;
      const portkey = row.values.portkey;
      if (row.better && bridge !== undefined && portkey !== undefined) {
        const bridgeBetter = row.better === 'lower' ? bridge < portkey : bridge > portkey;
        comparisons.push({ row: name, bridgeBetter });
        mark = bridgeBetter ? ' ok' : ' !!';
        won = roundsWon(row);
      }
      line([name, format(row.values.direct, row.digits), format(bridge, row.digits), format(portkey, row.digits), mark, won]);
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
