/**
 * Bundles the window's UI (renderer/) into dist/renderer/: index.html, app.js and app.css. The local
 * server serves these three files under /ui/ with `script-src 'self'; style-src 'self'`, so the page has
 * no inline script or style: one external script, one external stylesheet (uPlot's CSS included).
 */
import { copyFile, mkdir } from 'node:fs/promises';
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

/** Builds dist/renderer/ (index.html, app.js, app.css). `minify` defaults to true. */
export async function buildRenderer(options: { outdir?: string; minify?: boolean } = {}): Promise<RendererBuildResult> {
  const outdir = options.outdir ?? RENDERER_OUT;
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(RENDERER_SOURCE, 'main.ts') },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // Chromium of Electron 45 and any current browser.
    target: ['chrome120', 'firefox120', 'safari17'],
    outdir,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  await copyFile(path.join(RENDERER_SOURCE, 'index.html'), path.join(outdir, 'index.html'));
  const outputs = result.metafile.outputs;
  const sizeOf = (suffix: string) => Object.entries(outputs).find(([file]) => file.endsWith(suffix))?.[1].bytes ?? 0;
  return { outdir, bytes: { js: sizeOf('app.js'), css: sizeOf('app.css') } };
}
