import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

/**
 * A throwaway PostgreSQL server for tests: Debian's binaries, a cluster in a temp directory, on
 * 127.0.0.1 and a free port, trust auth. initdb refuses to run as root, so as root the server runs
 * as the `postgres` OS user. Tests skip when the binaries are missing, unless REQUIRE_POSTGRES=1.
 */
/** POSTGRES_BIN, else the newest Debian-packaged version's binaries. */
function postgresBin(): string {
  if (process.env.POSTGRES_BIN) return process.env.POSTGRES_BIN;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  return `/usr/lib/postgresql/${versions[0] ?? '15'}/bin`;
}
const BIN = postgresBin();
const run = promisify(execFile);

export interface TestPostgres {
  url: string;
  /** Stops the server (fast shutdown: connections are cut); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Why the PostgreSQL tests cannot run here, or null when they can. Throws when REQUIRE_POSTGRES=1 and they cannot. */
export function postgresUnavailable(): string | null {
  const reason = existsSync(join(BIN, 'initdb')) ? null : `PostgreSQL binaries not found in ${BIN} (apt-get install postgresql; or set POSTGRES_BIN)`;
  if (reason && process.env.REQUIRE_POSTGRES === '1') throw new Error(`REQUIRE_POSTGRES=1 but ${reason}`);
  return reason;
}


export async function startTestPostgres(): Promise<TestPostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'bb-pg-'));
  if (asRoot) chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const pg = (binary: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN, binary), ...args]) : run(join(BIN, binary), args));
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`, 'start']);
  };
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', 'fast', 'stop']);
  };
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await start();
      running = true;
    },
    stop: async () => {
      await stop();
      running = false;
    },
    close: async () => {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
