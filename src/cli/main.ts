#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';

/**
 * `bedrock-bridge <command>`. Each command lives in its own module and is loaded only when used, so
 * `serve` starts without loading sign-in or usage code. Commands owned by other modules
 * (login/logout/status in ./auth-commands.ts, usage in ./usage-command.ts) are picked up when their
 * file exists; such a module exports `run(command: string, argv: string[]): Promise<number>`
 * (or `runAuthCommand` / `runUsageCommand` with the same signature).
 */

type CommandRunner = (argv: string[]) => Promise<number>;

interface OptionalModule {
  run?: (command: string, argv: string[]) => Promise<number>;
  runAuthCommand?: (command: string, argv: string[]) => Promise<number>;
  runUsageCommand?: (command: string, argv: string[]) => Promise<number>;
}

function optionalCommand(file: string, command: string): CommandRunner | null {
  const url = new URL(file, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return null;
  return async (argv) => {
    const module = (await import(url.href)) as OptionalModule;
    const run = module.run ?? module.runAuthCommand ?? module.runUsageCommand;
    if (!run) throw new Error(`${file} exports no run() for "${command}"`);
    return run(command, argv);
  };
}

const COMMANDS: Record<string, { summary: string; run: CommandRunner | null }> = {
  serve: {
    summary: 'Run the OpenAI-compatible server in front of Amazon Bedrock',
    run: async (argv) => (await import('./serve.ts')).runServe(argv),
  },
  emulator: {
    summary: 'Run the local Bedrock emulator (for tests and trying things out)',
    run: async (argv) => {
      const { runEmulatorCommand } = await import('../emulator/cli.ts');
      const code: unknown = await runEmulatorCommand(argv);
      return typeof code === 'number' ? code : 0;
    },
  },
  login: { summary: 'Sign in (Identity Center or your org gateway)', run: optionalCommand('./auth-commands.ts', 'login') },
  logout: { summary: 'Sign out and forget the stored session', run: optionalCommand('./auth-commands.ts', 'logout') },
  status: { summary: 'Show who is signed in and where credentials come from', run: optionalCommand('./auth-commands.ts', 'status') },
  usage: { summary: 'Show what you spent, by model and day', run: optionalCommand('./usage-command.ts', 'usage') },
  org: { summary: "Run your organisation's gateway (org serve) and see who spent what (org report)", run: optionalCommand('./org-command.ts', 'org') },
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function mainHelp(): string {
  const lines = Object.entries(COMMANDS)
    .filter(([, command]) => command.run !== null)
    .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return `Usage: bedrock-bridge <command> [options]

Bedrock Bridge: a local OpenAI-compatible API in front of Amazon Bedrock.

Commands:
${lines.join('\n')}

Run "bedrock-bridge <command> --help" for a command's options.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command?.run) {
    process.stderr.write(`bedrock-bridge: unknown command "${name}".\n\n${mainHelp()}`);
    return 2;
  }
  return command.run(rest);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bedrock-bridge: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
