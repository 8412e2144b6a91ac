import { parseArgs } from 'node:util';
import { createIdentityCenterEmulator } from './identity-center.ts';
import { CredentialRegistry, DEFAULT_EMULATOR_BEARER_TOKEN, DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type EmulatorOptions, type RunningEmulator } from './index.ts';
import { createStsEmulator } from './sts.ts';

export interface EmulatorCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Resolves when the command should stop; default: the first SIGINT or SIGTERM. */
  untilStopped?: Promise<unknown>;
  /** Extra options (e.g. `services` from other emulators). */
  options?: EmulatorOptions;
}

export const EMULATOR_USAGE = `Usage: bedrock-bridge emulator [--port N] [--host 127.0.0.1] [--region us-east-1] [--collector]

Runs a local Amazon Bedrock emulator (runtime + control plane, HTTP/2 and HTTP/1.1 on one port)
that verifies SigV4 signatures against a fixed fake key pair, with IAM Identity Center (sign-ins
are approved at /device) and STS on the same port, issuing credentials Bedrock accepts.
--collector also starts an audit collector (a usage endpoint) on a free port. See docs/emulator.md.`;

/** The lines to paste into a shell so the AWS SDK and CLI talk to the emulator. */
export function emulatorEnvironment(emulator: Pick<RunningEmulator, 'url' | 'region'>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
    AWS_ENDPOINT_URL_SSO: emulator.url,
    AWS_ENDPOINT_URL_SSO_OIDC: emulator.url,
    AWS_ENDPOINT_URL_STS: emulator.url,
    AWS_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey,
  };
}

/**
 * `bedrock-bridge emulator --port N`: starts the emulator, prints its URL and the environment to export,
 * and stays up until SIGINT/SIGTERM (or `io.untilStopped`). Returns the process exit code.
 */
export async function runEmulatorCommand(argv: string[], io: EmulatorCommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  let values: { port?: string; host?: string; region?: string; collector?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        region: { type: 'string' },
        collector: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${EMULATOR_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(EMULATOR_USAGE);
    return 0;
  }
  const port = values.port === undefined ? 4599 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`Invalid --port '${values.port}'.`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  // One registry for all three services: the role credentials Identity Center issues are the ones
  // Bedrock and STS verify signatures against.
  const registry = io.options?.registry ?? new CredentialRegistry();
  const services = [createIdentityCenterEmulator(registry).routes, createStsEmulator(registry), ...(io.options?.services ?? [])];
  let emulator: RunningEmulator;
  let collector: { usageUrl: string; close(): Promise<void> } | null = null;
  try {
    emulator = await startEmulator({ ...io.options, registry, services, port, host, region: values.region ?? 'us-east-1' });
  } catch (error) {
    io.err(`Could not start the emulator: ${(error as Error).message}`);
    return 1;
  }
  if (values.collector) {
    try {
      // Loaded only when asked for: it opens node:sqlite.
      const { startAuditCollector } = await import('./audit-collector.ts');
      // Identity proofs must name the STS the gateway resolves (AWS_ENDPOINT_URL_STS, printed below).
      collector = await startAuditCollector({ host, stsEndpoint: emulator.url, region: emulator.region });
    } catch (error) {
      await emulator.close();
      io.err(`Could not start the audit collector: ${(error as Error).message}`);
      return 1;
    }
  }
  io.out(`Bedrock emulator listening on ${emulator.url}`);
  io.out(`  with IAM Identity Center (approve sign-ins at ${emulator.url}/device) and STS on the same port`);
  io.out('');
  io.out('Point the AWS SDK at it:');
  for (const [name, value] of Object.entries(emulatorEnvironment(emulator))) io.out(`  export ${name}=${value}`);
  io.out(`  # or a Bedrock API key instead of the key pair: export AWS_BEARER_TOKEN_BEDROCK=${DEFAULT_EMULATOR_BEARER_TOKEN}`);
  io.out('');
  printSignInTrial(emulator, collector?.usageUrl ?? null, io.out);
  io.out('');
  io.out('Press Ctrl+C to stop.');

  const stopped =
    io.untilStopped ??
    new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  await stopped;
  await collector?.close();
  await emulator.close();
  return 0;
}

/**
 * How to sign in against the emulator with the exports above. The start URL only has to be a URL
 * (the emulator accepts any); a local one means a shell without the exports fails at AWS instead of
 * reaching somebody's real portal. A scratch home keeps the trial out of the real sign-in settings
 * and usage ledger; `--memory-only` keeps its throwaway tokens out of the OS keychain altogether.
 */
function printSignInTrial({ url, region }: Pick<RunningEmulator, 'url' | 'region'>, usageUrl: string | null, out: (line: string) => void): void {
  out('Try the sign-in offline (in a shell with the exports above):');
  out('  export BEDROCK_BRIDGE_HOME="$(mktemp -d)"');
  if (usageUrl) out(`  echo '{"usage":{"endpoint":"${usageUrl}"}}' > "$BEDROCK_BRIDGE_HOME/settings.json"`);
  out(`  bedrock-bridge login --auth identity-center --start-url ${url}/start --sso-region ${region} --memory-only`);
  out('  bedrock-bridge serve --auth identity-center');
  out('Each prints a /device link: open it and Allow (or Deny) the code. With --memory-only the tokens');
  out('end with `login`, so `serve` signs in again.');
  if (usageUrl) out(`Usage records the gateway syncs (under your user name): ${usageUrl}/_collector/records`);
}
