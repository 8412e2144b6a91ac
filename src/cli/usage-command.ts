import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { helpHint } from './help-hint.ts';
import { credentialSourceName, savedSignInSource } from '../app/credential-options.ts';
import { openSettingsStore, readSettings } from '../app/settings-store.ts';
import { printable } from '../core/client-text.ts';
import { defaultDataDirectory } from '../core/paths.ts';
import { UsageAggregates, usageCsv, type UsageGrouping, type UsageRow } from '../usage/aggregates.ts';
import { formatUsd } from '../usage/format-usd.ts';
import { EMULATOR_LEDGER_DIRECTORY, LEDGER_FILE_NAME, readRejected, type RejectedRecord } from '../usage/ledger.ts';

export interface UsageCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  now?: () => number;
}

const HELP = `Usage: bedrock-bridge usage [options]

Shows your own usage from the local ledger: requests, tokens, estimated cost and errors.

  --by GROUPING     day, week, month, model or client (repeatable; default: day, model, client)
  --days N          how far back to look (default: 14 by day, 84 by week, 365 by month, else 30)
  --since DATE      start date (YYYY-MM-DD, local time); overrides --days
  --utc             cut days/weeks/months in UTC instead of local time
  --json            machine-readable output
  --csv             one CSV table for spreadsheets (a "grouping" column, then the key and figures)
  --data-dir DIR    where the ledger lives (default: BEDROCK_BRIDGE_HOME, else the app's data dir)
  --emulator        what \`serve --emulator\` served (its own ledger: <data dir>/emulator)
  -h, --help        show this help

Costs are estimates from the bundled AWS price table (see docs/usage.md); requests to models with no
known price are counted as "unpriced", never as $0.
`;

/** Rejected records listed at most; the rest are counted ("and N more"). */
const REJECTED_SHOWN = 10;

const GROUPINGS: readonly UsageGrouping[] = ['day', 'week', 'month', 'model', 'client'];
const DEFAULT_DAYS: Record<UsageGrouping, number> = { day: 14, week: 84, month: 365, model: 30, client: 30 };

function formatTokens(value: number): string {
  if (value >= 10_000_000) return `${(value / 1_000_000).toFixed(0)}M`;
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1_000).toFixed(0)}k`;
  if (value >= 1_000) return `${(value / 1_000).toFixed(1)}k`;
  return String(value);
}

function formatCost(row: Pick<UsageRow, 'costUsd' | 'unpricedRequests' | 'requests'>): string {
  if (row.unpricedRequests === row.requests && row.requests > 0) return 'unknown';
  const cost = formatUsd(row.costUsd);
  return row.unpricedRequests > 0 ? `${cost} +${row.unpricedRequests} unpriced` : cost;
}

/** A compact fixed-width table. */
export function formatUsageTable(title: string, rows: UsageRow[]): string {
  const header = [title, 'requests', 'input', 'output', 'cache r/w', 'cost', 'errors'];
  const body = rows.map((row) => [
    printable(row.key, 48),
    String(row.requests),
    formatTokens(row.inputTokens),
    formatTokens(row.outputTokens),
    row.cacheReadTokens + row.cacheWriteTokens > 0 ? `${formatTokens(row.cacheReadTokens)}/${formatTokens(row.cacheWriteTokens)}` : '-',
    formatCost(row),
    row.errors > 0 ? String(row.errors) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function formatTime(epochMs: number, utc: boolean): string {
  const d = new Date(epochMs);
  const [y, mo, day, h, mi] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${y}-${two(mo)}-${two(day)} ${two(h)}:${two(mi)}`;
}

/** The records the audit endpoint refused, newest first: they are kept and not sent again, so say which and why. */
export function formatRejected(records: RejectedRecord[], total: number, utc: boolean): string {
  const lines = [`Rejected by the audit endpoint (kept here, not sent again): ${total}`];
  for (const record of records) lines.push(`  ${formatTime(record.startedAt, utc)}  ${record.id}  ${printable(record.modelId ?? '-', 48)}  ${printable(record.reason, 300)}`);
  if (total > records.length) lines.push(`  and ${total - records.length} more`);
  return lines.join('\n');
}

function startOfLocalDay(now: number, daysBack: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysBack + 1);
  return d.getTime();
}

/**
 * Whether `serve` syncs the ledger anywhere: settings name an audit endpoint (usage.endpoint), or it
 * signs in through an org gateway, whose discovery names one. A settings file that cannot be read
 * counts as configured: the pending count is then shown, as it may matter.
 */
async function auditEndpointConfigured(dataDirectory: string): Promise<boolean> {
  try {
    const { settings } = readSettings(await openSettingsStore(dataDirectory));
    if (typeof (settings.usage as { endpoint?: unknown }).endpoint === 'string') return true;
    return credentialSourceName(undefined, settings, await savedSignInSource(dataDirectory)) === 'org-gateway';
  } catch {
    return true;
  }
}

/** `bedrock-bridge usage`: returns the exit code. */
export async function runUsageCommand(argv: string[], io: UsageCommandIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env }): Promise<number> {
  let values: { by?: string[]; days?: string; since?: string; utc?: boolean; json?: boolean; csv?: boolean; 'data-dir'?: string; emulator?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        by: { type: 'string', multiple: true },
        days: { type: 'string' },
        since: { type: 'string' },
        utc: { type: 'boolean' },
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
        'data-dir': { type: 'string' },
        emulator: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr(`bedrock-bridge usage: ${(error as Error).message}\n${helpHint('usage')}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const groupings = (values.by ?? ['day', 'model', 'client']).flatMap((value) => value.split(',')).map((value) => value.trim()) as UsageGrouping[];
  const unknown = groupings.find((g) => !GROUPINGS.includes(g));
  if (unknown) {
    io.stderr(`bedrock-bridge usage: unknown --by "${unknown}": use day, week, month, model or client.\n`);
    return 2;
  }
  let days: number | null = null;
  if (values.days !== undefined) {
    days = Number(values.days);
    if (!Number.isInteger(days) || days < 1) {
      io.stderr('bedrock-bridge usage: --days takes a positive whole number.\n');
      return 2;
    }
  }
  let since: number | null = null;
  if (values.since !== undefined) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(values.since);
    if (!match) {
      io.stderr('bedrock-bridge usage: --since takes a date as YYYY-MM-DD.\n');
      return 2;
    }
    since = values.utc ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime();
  }

  const baseDir = values['data-dir'] ?? defaultDataDirectory(io.env);
  const dataDir = values.emulator ? join(baseDir, EMULATOR_LEDGER_DIRECTORY) : baseDir;
  const path = join(dataDir, LEDGER_FILE_NAME);
  if (values.json && values.csv) {
    io.stderr('bedrock-bridge usage: choose one of --json and --csv.\n');
    return 2;
  }
  if (!existsSync(path)) {
    const emulatorLedger = join(baseDir, EMULATOR_LEDGER_DIRECTORY, LEDGER_FILE_NAME);
    // `serve --emulator` keeps its own ledger: say so rather than that nothing was recorded.
    const hint = !values.emulator && existsSync(emulatorLedger) ? ` Requests served by \`serve --emulator\` are kept apart (${emulatorLedger}): see them with \`bedrock-bridge usage --emulator\`.` : '';
    if (values.csv) io.stdout(usageCsv({}));
    else if (values.json) io.stdout(`${JSON.stringify({ ledger: path, groups: {} })}\n`);
    else io.stdout(`No usage recorded yet (ledger: ${path}).${hint}\n`);
    return 0;
  }
  // Read-only: a running server keeps writing (WAL readers never block it).
  const db = new DatabaseSync(path, { readOnly: true, timeout: 1000 });
  try {
    const aggregates = new UsageAggregates(db);
    const now = io.now?.() ?? Date.now();
    const timeZone = values.utc ? 'utc' : 'local';
    const result: Record<string, UsageRow[]> = {};
    const sections: string[] = [];
    for (const grouping of groupings) {
      const back = days ?? DEFAULT_DAYS[grouping];
      const from = since ?? (values.utc ? Math.floor(now / 86_400_000) * 86_400_000 - (back - 1) * 86_400_000 : startOfLocalDay(now, back));
      const rows = aggregates.by(grouping, { from, timeZone });
      result[grouping] = rows;
      const span = since !== null ? `since ${values.since}` : `last ${back} days`;
      sections.push(`${grouping === 'client' || grouping === 'model' ? `By ${grouping}` : `By ${grouping}`} (${span})\n${rows.length > 0 ? formatUsageTable(grouping, rows) : '(no requests)'}`);
    }
    const queue = db.prepare('SELECT sum(sync_state = 0) AS pending, sum(sync_state = 2) AS rejected FROM records').get() as { pending: number | null; rejected: number | null };
    const rejectedTotal = queue.rejected ?? 0;
    const rejected = rejectedTotal > 0 ? readRejected(db, REJECTED_SHOWN) : [];
    if (values.csv) {
      io.stdout(usageCsv(result));
    } else if (values.json) {
      io.stdout(`${JSON.stringify({ ledger: path, groups: result, sync: { pending: queue.pending ?? 0, rejected: rejectedTotal, rejectedRecords: rejected } })}\n`);
    } else {
      const rejectedSection = rejectedTotal > 0 ? `\n${formatRejected(rejected, rejectedTotal, values.utc === true)}\n` : '';
      const sync = (await auditEndpointConfigured(baseDir)) ? `Not yet sent to the audit endpoint: ${queue.pending ?? 0}` : 'Not synced: no audit endpoint configured.';
      io.stdout(`${sections.join('\n\n')}\n\n${sync}\n${rejectedSection}`);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** The entry src/cli/main.ts calls: `run(command, argv)`. */
export async function run(_command: string, argv: string[]): Promise<number> {
  return runUsageCommand(argv);
}
