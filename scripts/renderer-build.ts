/**
 * Bundles the window's UI (renderer/) into dist/renderer/: index.html, app.js and app.css. The local
 * server serves these three files under /ui/ with `script-src 'self'; style-src 'self'`, so the page has
 * no inline script or style: one external script, one external stylesheet (uPlot's CSS included).
 */
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RENDERER_SOURCE = path.join(root, 'renderer');
export const RENDERER_OUT = path.join(root, 'dist/renderer');

export interface RendererBuildResult {
  outdir: string;
  /** Bytes of app.js and app.css. */
  bytes: { js: number; css: number };
}

/**
 * Builds dist/renderer/ (index.html, app.js, app.css). `minify` defaults to true. The files are built
 * aside and renamed into place one by one, so a running server (or a test process building at the same
 * time) never reads a half-written file.
 */
export async function buildRenderer(options: { outdir?: string; minify?: boolean } = {}): Promise<RendererBuildResult> {
  const outdir = options.outdir ?? RENDERER_OUT;
  const staging = `${outdir}.build-${process.pid}`;
  await mkdir(staging, { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(RENDERER_SOURCE, 'main.ts') },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // Chromium of Electron 45 and any current browser.
    target: ['chrome120', 'firefox120', 'safari17'],
    outdir: staging,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  await copyFile(path.join(RENDERER_SOURCE, 'index.html'), path.join(staging, 'index.html'));
  await mkdir(outdir, { recursive: true });
  for (const file of await readdir(staging)) await rename(path.join(staging, file), path.join(outdir, file));
  await rm(staging, { recursive: true, force: true });
  const outputs = result.metafile.outputs;
  const sizeOf = (suffix: string) => Object.entries(outputs).find(([file]) => file.endsWith(suffix))?.[1].bytes ?? 0;
  return { outdir, bytes: { js: sizeOf('app.js'), css: sizeOf('app.css') } };
}
