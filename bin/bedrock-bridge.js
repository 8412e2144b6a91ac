#!/usr/bin/env node
// Launcher for the `bedrock-bridge` command. Runs the esbuild bundle (dist/cli/main.js, from
// `node scripts/build.ts`) when there is one at least as new as every file under src/: plain
// JavaScript starts faster and uses ~20-35 MiB less memory than type stripping. Otherwise Node
// >= 22.18 runs the TypeScript sources directly.
import { existsSync, readdirSync, statSync } from 'node:fs';

// Node's built-in SQLite (the usage ledger) and TypeScript type stripping need Node 22.18 or newer:
// say so plainly rather than with ERR_UNKNOWN_BUILTIN_MODULE and a stack trace.
const REQUIRED_NODE = [22, 18];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < REQUIRED_NODE[0] || (major === REQUIRED_NODE[0] && minor < REQUIRED_NODE[1])) {
  process.stderr.write(
    `bedrock-bridge needs Node.js ${REQUIRED_NODE.join('.')} or newer; this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      'Install a current Node.js (https://nodejs.org, or nvm install 24) and run it again.\n',
  );
  process.exit(1);
}

// node:sqlite is stable in use here but still flagged experimental on Node 22: its one-time
// ExperimentalWarning would greet every `serve`. Other warnings are printed as usual.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && String(warning).includes('SQLite')) return;
  emitWarning(warning, ...rest);
};

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
