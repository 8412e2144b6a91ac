import { parseArgs } from 'node:util';
import { DEFAULT_EMULATOR_BEARER_TOKEN, DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type EmulatorOptions, type RunningEmulator } from './index.ts';

export interface EmulatorCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Resolves when the command should stop; default: the first SIGINT or SIGTERM. */
  untilStopped?: Promise<unknown>;
  /** Extra options (e.g. `services` from other emulators). */
  options?: EmulatorOptions;
}

export const EMULATOR_USAGE = `Usage: bedrock-bridge emulator [--port N] [--host 127.0.0.1] [--region us-east-1]

Runs a local Amazon Bedrock emulator (runtime + control plane, HTTP/2 and HTTP/1.1 on one port)
that verifies SigV4 signatures against a fixed fake key pair. See docs/emulator.md.`;

/** The lines to paste into a shell so the AWS SDK and CLI talk to the emulator. */
export function emulatorEnvironment(emulator: Pick<RunningEmulator, 'url' | 'region'>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
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
  let values: { port?: string; host?: string; region?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        region: { type: 'string' },
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
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator({ ...io.options, port, host: values.host ?? '127.0.0.1', region: values.region ?? 'us-east-1' });
  } catch (error) {
    io.err(`Could not start the emulator: ${(error as Error).message}`);
    return 1;
  }
  io.out(`Bedrock emulator listening on ${emulator.url}`);
  io.out('');
  io.out('Point the AWS SDK at it:');
  for (const [name, value] of Object.entries(emulatorEnvironment(emulator))) io.out(`  export ${name}=${value}`);
  io.out(`  # or a Bedrock API key instead of the key pair: export AWS_BEARER_TOKEN_BEDROCK=${DEFAULT_EMULATOR_BEARER_TOKEN}`);
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
  await emulator.close();
  return 0;
}
