import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { AuditStore } from './audit-store.ts';
import type { OrgConfig } from './config.ts';
import { CredentialBroker, MAX_SESSION_POLICY_CHARS, sessionPolicy } from './credential-broker.ts';
import { openDatabase, type Sql } from './database.ts';
import { resolveModels } from './entitlement.ts';
import { createOrgGatewayApp } from './gateway-app.ts';
import { jsonLogger, type OrgLogger } from './log.ts';
import { TokenVerifier } from './token-verifier.ts';

/**
 * `bedrock-bridge org serve`: the configuration, the database (DATABASE_URL, else PGlite in the data
 * directory), the token verifier, the credentials broker and the HTTP app on one listener.
 */
export interface RunningOrgGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartOrgGatewayOptions {
  config: OrgConfig;
  /** Relative `dataDir` is resolved against this (the config file's directory). */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  log?: OrgLogger;
  /** How long to wait for a PostgreSQL server that does not answer yet. Default 60 s. */
  databaseWaitMs?: number;
}

const DATABASE_WAIT_MS = 60_000;
/** Errors of a server that is not up (yet): refused, reset, timed out, starting up, shutting down. */
const NOT_UP = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENOTFOUND', '57P03', '57P01']);

function notUp(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && NOT_UP.has(code)) || (error instanceof Error && /timeout exceeded when trying to connect|Connection terminated/i.test(error.message));
}

/**
 * Replicas may start before their database (compose, Kubernetes): wait for it, saying so, rather than
 * exit at once. Anything else (a schema newer than this gateway, bad credentials) fails at once.
 */
async function openStoreWaiting(sql: Sql, log: OrgLogger, waitMs: number): Promise<AuditStore> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await AuditStore.open(sql);
    } catch (error) {
      if (!notUp(error) || Date.now() >= deadline) throw error;
      log('warn', 'database not reachable yet; retrying', { error: error instanceof Error ? error.message : String(error) });
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** PGlite is one process's database: a second process opening the same directory would corrupt it. */
const PGLITE_LOCK = 'bedrock-bridge-org.pid';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throws when another live process holds the PGlite directory. */
export function assertPgliteFree(dataDir: string): void {
  const lock = join(dataDir, PGLITE_LOCK);
  if (!existsSync(lock)) return;
  const pid = Number(readFileSync(lock, 'utf8').trim());
  if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) {
    throw new Error(`The embedded database in ${dataDir} is in use by process ${pid} (org serve). PGlite serves one process: stop it first, or use a PostgreSQL server (DATABASE_URL) to run several.`);
  }
}

export function dataDirOf(config: OrgConfig, baseDir: string): string {
  return resolve(baseDir, config.dataDir);
}

/** Every rule's session policy must fit IAM's limit: found at start, not at a user's first request. */
function assertPoliciesFit(config: OrgConfig): void {
  config.entitlement.rules.forEach((rule, index) => {
    if (!rule.allow) return;
    const length = sessionPolicy(resolveModels(rule.models, config.models)).length;
    if (length > MAX_SESSION_POLICY_CHARS) {
      throw new Error(`entitlement.rules[${index}]: its session policy is ${length} characters, over IAM's ${MAX_SESSION_POLICY_CHARS}: use fewer model patterns (e.g. with *)`);
    }
  });
}

export async function startOrgGateway(options: StartOrgGatewayOptions): Promise<RunningOrgGateway> {
  const { config } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? jsonLogger();
  assertPoliciesFit(config);
  const databaseUrl = env.DATABASE_URL || undefined;
  const dataDir = dataDirOf(config, options.baseDir);
  if (!databaseUrl) assertPgliteFree(dataDir);
  const sql = await openDatabase({ databaseUrl, dataDir });
  if (!databaseUrl) writeFileSync(join(dataDir, PGLITE_LOCK), String(process.pid));
  let store: AuditStore;
  try {
    store = await openStoreWaiting(sql, log, options.databaseWaitMs ?? DATABASE_WAIT_MS);
  } catch (error) {
    await sql.close().catch(() => {});
    throw error;
  }
  const broker = new CredentialBroker(config.aws, { onWarning: (message) => log('warn', message) });
  const app = createOrgGatewayApp({ config, store, verifier: new TokenVerifier(config.oidc, { ...(env.OIDC_INTROSPECTION_CLIENT_SECRET ? { introspectionSecret: env.OIDC_INTROSPECTION_CLIENT_SECRET } : {}) }), broker, log });

  const server = createAdaptorServer({ fetch: app.fetch, hostname: config.listen.host }) as Server;
  // Slow or idle clients cannot hold connections forever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `http://${host}:${port}`;
  log('info', 'listening', { url, publicUrl: config.publicUrl ?? null, database: store.kind, ...(databaseUrl ? {} : { dataDir }) });
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeIdleConnections();
        });
        broker.destroy();
        await store.close();
        if (!databaseUrl) rmSync(join(dataDir, PGLITE_LOCK), { force: true });
      })()),
  };
}

/** The config file's directory: relative paths in it are relative to the file. */
export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}
