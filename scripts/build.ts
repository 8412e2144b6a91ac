/**
 * node scripts/build.ts [--entries=cli,...] [--watch-free]
 *
 * Bundles the Node entry points with esbuild, so that what ships runs as plain JavaScript: no
 * TypeScript type stripping at start-up (about 21 MiB of resident memory and some start-up time),
 * and one file per entry instead of hundreds of module loads.
 *
 * Every entry is one object in ENTRIES. The Electron main process and its preload are built like the
 * CLI, with `electron` left external, so no Electron binary is needed to build (or to test them
 * under test/support/fake-electron.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { buildRenderer } from './renderer-build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Entry {
  /** Short name for --entries=. */
  name: string;
  /** esbuild options for this entry (merged over NODE_DEFAULTS). */
  options: BuildOptions;
}

/**
 * Packages that must stay outside every bundle (native addons, Electron itself, PGlite, which loads its
 * WebAssembly and data files from beside its own module, and pg, whose optional native binding is
 * resolved at run time).
 */
const ALWAYS_EXTERNAL = ['@napi-rs/keyring', 'electron', '@electric-sql/pglite', 'pg'];

export const NODE_DEFAULTS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // npm packages are bundled too (the AWS SDK, hono, zod): fewer modules to load at start-up and
  // less memory than resolving them from node_modules one by one.
  external: ALWAYS_EXTERNAL,
  // Some bundled CommonJS packages call require() for Node built-ins: give the ESM bundle a require.
  banner: { js: "import { createRequire as __bbCreateRequire } from 'node:module'; const require = __bbCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

/**
 * src/cli/main.ts finds optional command modules (`optionalCommand('./auth-commands.ts', ...)`)
 * by file name next to itself. In dist those modules are entries of their own, built to `.js`: point
 * the lookup there.
 */
function optionalCommandsAsJs(): Plugin {
  return {
    name: 'optional-commands-as-js',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /[\\/]src[\\/]cli[\\/]main\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        return { contents: source.replace(/optionalCommand\('\.\/([\w-]+)\.ts'/g, "optionalCommand('./$1.js'"), loader: 'ts' };
      });
    },
  };
}

const cliDir = path.join(root, 'src/cli');
const optionalCli = ['auth-commands', 'usage-command', 'org-command'].filter((name) => existsSync(path.join(cliDir, `${name}.ts`)));

const ENTRIES: Entry[] = [
  {
    name: 'cli',
    options: {
      // main plus the optional command modules it loads by name; shared code goes to chunks, and
      // commands stay lazily loaded (`serve` does not load sign-in, usage or emulator code).
      entryPoints: Object.fromEntries([
        ['main', path.join(cliDir, 'main.ts')],
        ...optionalCli.map((name) => [name, path.join(cliDir, `${name}.ts`)]),
      ]),
      outdir: path.join(root, 'dist/cli'),
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [optionalCommandsAsJs()],
    },
  },
  {
    name: 'main',
    options: {
      // electron-store, conf and the core are bundled; `electron` itself is provided by Electron.
      entryPoints: { index: path.join(root, 'src/main/index.ts') },
      outdir: path.join(root, 'dist/main'),
    },
  },
  {
    name: 'preload',
    options: {
      // A sandboxed preload is a CommonJS script with a small `require` (electron, events, timers, url).
      entryPoints: [path.join(root, 'src/preload/index.ts')],
      outfile: path.join(root, 'dist/preload/index.cjs'),
      platform: 'browser',
      format: 'cjs',
      target: 'chrome140',
      banner: {},
    },
  },
];

/** The window's UI: a browser bundle, not a Node entry (scripts/renderer-build.ts). */
const RENDERER = 'renderer';

export async function buildEntries(names?: readonly string[]): Promise<void> {
  const selected = names ? ENTRIES.filter((entry) => names.includes(entry.name)) : ENTRIES;
  const withRenderer = !names || names.includes(RENDERER);
  if (names && selected.length + (withRenderer ? 1 : 0) !== names.length) {
    throw new Error(`unknown entry in ${names.join(',')}; known: ${[...ENTRIES.map((e) => e.name), RENDERER].join(', ')}`);
  }
  for (const entry of selected) {
    const startedAt = performance.now();
    const result = await build({ ...NODE_DEFAULTS, ...entry.options });
    const outputs = Object.entries(result.metafile?.outputs ?? {}).filter(([file]) => /\.c?js$/.test(file));
    const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
    process.stderr.write(`build: ${entry.name}: ${outputs.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${Math.round(performance.now() - startedAt)} ms\n`);
  }
  if (withRenderer) {
    const startedAt = performance.now();
    const { bytes } = await buildRenderer();
    process.stderr.write(`build: ${RENDERER}: app.js ${(bytes.js / 1024).toFixed(0)} KiB, app.css ${(bytes.css / 1024).toFixed(0)} KiB in ${Math.round(performance.now() - startedAt)} ms\n`);
  }
}

/** One entry's complete esbuild options with its output moved from dist/ to `outRoot` (tests build an app folder of their own). */
export function entryBuildOptions(name: string, outRoot: string): BuildOptions {
  const entry = ENTRIES.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`unknown entry ${name}`);
  const moved = (file: string | undefined) => (file ? path.join(outRoot, path.relative(path.join(root, 'dist'), file)) : undefined);
  return { ...NODE_DEFAULTS, ...entry.options, outdir: moved(entry.options.outdir), outfile: moved(entry.options.outfile), logLevel: 'error' };
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const entriesArg = process.argv.slice(2).find((arg) => arg.startsWith('--entries='));
  await buildEntries(entriesArg ? entriesArg.slice('--entries='.length).split(',') : undefined);
}
