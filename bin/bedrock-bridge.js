#!/usr/bin/env node
// Launcher for the `bedrock-bridge` command. Runs the esbuild bundle (dist/cli/main.js, from
// `node scripts/build.ts`) when there is one at least as new as every file under src/: plain
// JavaScript starts faster and uses ~20-35 MiB less memory than type stripping. Otherwise Node
// >= 22.18 runs the TypeScript sources directly.
import { existsSync, readdirSync, statSync } from 'node:fs';

const bundle = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/', import.meta.url);

function newestUnder(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const mtime = statSync(`${entry.parentPath}/${entry.name}`).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function bundleIsCurrent() {
  if (!existsSync(bundle)) return false;
  // A packaged install may ship dist without src.
  if (!existsSync(sources)) return true;
  return statSync(bundle).mtimeMs >= newestUnder(sources);
}

const { main } = await import(bundleIsCurrent() ? bundle.href : '../src/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bedrock-bridge: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
