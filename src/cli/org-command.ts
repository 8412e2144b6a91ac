import { parseArgs } from 'node:util';
import { AuditStore, REPORT_DIMENSIONS, type ReportDimension } from '../org/audit-store.ts';
import { configBaseDir, assertPgliteFree, dataDirOf, startOrgGateway } from '../org/server.ts';
import { readOrgConfig } from '../org/config.ts';
import { openDatabase } from '../org/database.ts';
import { jsonLogger } from '../org/log.ts';
import { formatReport, type ReportFormat } from '../org/report-format.ts';
import { helpHint, isArgsError } from './help-hint.ts';

/** `bedrock-bridge org serve|report`: the org side an admin runs (docs/org-gateway.md). */
const HELP = `Usage: bedrock-bridge org <serve|report> [options]

  serve    Run the org gateway: discovery, credentials broker, audit endpoint
  report   Who spent what, on which model, when (from the audit store)

Run "bedrock-bridge org serve --help" or "bedrock-bridge org report --help" for options.
`;

const SERVE_HELP = `Usage: bedrock-bridge org serve --config FILE [--host HOST] [--port PORT]

  --config FILE   the gateway's JSON configuration (default: BEDROCK_BRIDGE_ORG_CONFIG)
  --host HOST     listen address (overrides listen.host)
  --port PORT     listen port (overrides listen.port; 0 = a free port)
  -h, --help      show this help

The database is DATABASE_URL (PostgreSQL) when set, else embedded PGlite in the config's dataDir.
AWS credentials come from the environment's default chain; long-lived keys are refused unless
aws.allowLongLivedKeys is true. Logs are JSON lines on stdout. See docs/org-gateway.md.
`;

const REPORT_HELP = `Usage: bedrock-bridge org report [options]

  --by LIST          any of user, group, model, client, day, week, month (comma-separated or
                     repeated; default: user,model)
  --since DATE       from this day (YYYY-MM-DD, UTC; default: the first of this month)
  --until DATE       up to, not including, this day (YYYY-MM-DD, UTC)
  --user NAME        only this person
  --format FORMAT    table (default), csv or json
  --config FILE      read the database from the gateway's configuration (DATABASE_URL wins)
  --database-url URL a PostgreSQL server (default: DATABASE_URL)
  --data-dir DIR     an embedded (PGlite) data directory, while no gateway is running on it
  -h, --help         show this help
`;

export interface OrgCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
}

const defaultIo = (): OrgCommandIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function serve(argv: string[], io: OrgCommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const path = values.config ?? io.env.BEDROCK_BRIDGE_ORG_CONFIG;
  if (!path) {
    io.stderr(`bedrock-bridge org serve: --config FILE is required.\n\n${SERVE_HELP}`);
    return 2;
  }
  const config = readOrgConfig(path);
  if (values.host) config.listen.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      io.stderr(`bedrock-bridge org serve: --port must be 0-65535.\n`);
      return 2;
    }
    config.listen.port = port;
  }
  const gateway = await startOrgGateway({ config, baseDir: configBaseDir(path), env: io.env, log: jsonLogger(io.stdout) });
  await (io.stopSignal ?? signalled());
  await gateway.close();
  return 0;
}

class UsageError extends Error {}

function utcDay(value: string, flag: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new UsageError(`${flag} must be a date YYYY-MM-DD`);
  return new Date(`${value}T00:00:00Z`);
}

async function report(argv: string[], io: OrgCommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      by: { type: 'string', multiple: true },
      since: { type: 'string' },
      until: { type: 'string' },
      user: { type: 'string' },
      format: { type: 'string', default: 'table' },
      config: { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(REPORT_HELP);
    return 0;
  }
  const by = (values.by ?? ['user,model']).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  const unknown = by.filter((dimension) => !REPORT_DIMENSIONS.includes(dimension as ReportDimension));
  if (unknown.length > 0) throw new UsageError(`--by: unknown ${unknown.join(', ')} (use ${REPORT_DIMENSIONS.join(', ')})`);
  const format = values.format as ReportFormat;
  if (!['table', 'csv', 'json'].includes(format)) throw new UsageError('--format must be table, csv or json');
  const now = new Date();
  const since = values.since ? utcDay(values.since, '--since') : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const until = values.until ? utcDay(values.until, '--until') : undefined;

  const databaseUrl = values['database-url'] ?? (io.env.DATABASE_URL || undefined);
  let dataDir = values['data-dir'];
  if (!databaseUrl && !dataDir) {
    const path = values.config ?? io.env.BEDROCK_BRIDGE_ORG_CONFIG;
    if (!path) throw new UsageError('say where the audit store is: --database-url, DATABASE_URL, --config or --data-dir');
    dataDir = dataDirOf(readOrgConfig(path), configBaseDir(path));
  }
  if (!databaseUrl) assertPgliteFree(dataDir!);
  const store = await AuditStore.open(await openDatabase({ databaseUrl, dataDir: dataDir! }));
  try {
    const dimensions = by as ReportDimension[];
    const rows = await store.report({ by: dimensions, since, ...(until ? { until } : {}), ...(values.user ? { user: values.user } : {}) });
    io.stdout(formatReport(rows, dimensions, format));
  } finally {
    await store.close();
  }
  return 0;
}

export async function run(command: string, argv: string[], io: OrgCommandIo = defaultIo()): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'serve') return await serve(rest, io);
    if (sub === 'report') return await report(rest, io);
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout(HELP);
      return sub === undefined ? 2 : 0;
    }
    io.stderr(`bedrock-bridge ${command}: unknown subcommand "${sub}".\n\n${HELP}`);
    return 2;
  } catch (error) {
    io.stderr(`bedrock-bridge ${command} ${sub}: ${error instanceof Error ? error.message : String(error)}\n${isArgsError(error) ? `${helpHint(`${command} ${sub}`)}\n` : ''}`);
    return error instanceof UsageError || (error instanceof TypeError && 'code' in error) ? 2 : 1;
  }
}
