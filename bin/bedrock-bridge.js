#!/usr/bin/env node
// Launcher for the `bedrock-bridge` command: Node >= 22.18 runs the TypeScript sources directly.
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bedrock-bridge: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
