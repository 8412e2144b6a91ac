/**
 * Run as a child process by ./secret-service.ts, with the environment of the Secret Service under test
 * (DBUS_SESSION_BUS_ADDRESS). A process of its own because libdbus reads the bus address once per process:
 * the test runner's process must never be bound to one bus. Prints one JSON value on stdout.
 *
 *   node secret-service-client.ts ready <timeoutMs>   set, read back and delete a probe entry, retried until it works
 *   node secret-service-client.ts find <service>      every entry of a service: [{ account, password }]
 *   node secret-service-client.ts open-vault <dataDir> what openVault picks for that data directory, and how long it took
 */
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';
import { openVault } from '../../src/credentials/vault.ts';

const SECRET_SERVICE = { linux: { store: 'secret-service' as const } };
const [op, arg] = process.argv.slice(2);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function ready(timeoutMs: number): Promise<unknown> {
  const started = performance.now();
  let lastError = 'not tried';
  for (let attempt = 1; performance.now() - started < timeoutMs; attempt++) {
    try {
      const entry = new AsyncEntry('bedrock-bridge-test-readiness', 'probe', SECRET_SERVICE);
      await entry.setPassword(`ready-${attempt}`);
      const readBack = await entry.getPassword();
      await entry.deleteCredential();
      if (readBack === `ready-${attempt}`) return { ok: true, attempts: attempt, ms: Math.round(performance.now() - started) };
      lastError = `read back ${JSON.stringify(readBack)}`;
    } catch (error) {
      lastError = messageOf(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { ok: false, error: lastError, ms: Math.round(performance.now() - started) };
}

async function main(): Promise<unknown> {
  if (op === 'ready') return ready(Number(arg ?? 10_000));
  if (op === 'find') return findCredentialsAsync(arg!);
  if (op === 'open-vault') {
    const started = performance.now();
    const vault = await openVault({ dataDir: arg! });
    return { protection: vault.protection, warning: vault.warning, ms: Math.round(performance.now() - started) };
  }
  throw new Error(`unknown operation ${op}`);
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${messageOf(error)}\n`);
    process.exit(1);
  },
);
