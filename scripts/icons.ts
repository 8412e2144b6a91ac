/**
 * node scripts/icons.ts [outDir]
 *
 * Draws the app and tray icons into build/ (committed; electron-builder and the main process read them
 * from there). Drawn from shapes rather than kept as binary sources so a change is a code review, and
 * encoded with a small PNG/ICO writer over node:zlib (no image dependency):
 * - build/icon.png (1024), build/icons/512x512.png: the app icon (macOS icns and Linux are made from these)
 * - build/icon.ico: the Windows app icon (16-256 px, PNG-compressed entries)
 * - build/tray/<state>Template.png + @2x: macOS menu-bar template images (black + alpha, 16/32 px)
 * - build/tray/<state>.png + @2x: Linux tray PNGs (colour, 16/32 px); build/tray/<state>.ico for Windows
 * The tray states are TRAY_ICON_STATES in src/main/tray-icon.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { TRAY_ICON_STATES, type TrayIconState } from '../src/main/tray-icon.ts';

type Rgba = readonly [number, number, number, number];
/** Coverage of a point in the unit square (0..1 each axis, y down). */
type Shape = (x: number, y: number) => boolean;

interface Layer {
  shape: Shape;
  color: Rgba;
  /** Erase what is below instead of painting (a gap around a badge). */
  erase?: boolean;
}

// --- shapes ---------------------------------------------------------------------------------------
const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const disc = (cx: number, cy: number, r: number): Shape => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx: number, cy: number, r: number, width: number): Shape => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return d <= r && d >= r - width;
};
const union = (...shapes: Shape[]): Shape => (x, y) => shapes.some((shape) => shape(x, y));
const minus = (shape: Shape, cut: Shape): Shape => (x, y) => shape(x, y) && !cut(x, y);
const roundedSquare = (inset: number, radius: number): Shape => (x, y) => {
  const cx = Math.min(Math.max(x, inset + radius), 1 - inset - radius);
  const cy = Math.min(Math.max(y, inset + radius), 1 - inset - radius);
  return x >= inset && x <= 1 - inset && y >= inset && y <= 1 - inset && (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
};
/** Maps a shape drawn in the unit square into the box (x0, y0)-(x0+size, y0+size). */
const placed = (shape: Shape, x0: number, y0: number, size: number): Shape => (x, y) => shape((x - x0) / size, (y - y0) / size);

/** An arch bridge, centred in the unit square: the arch, the deck, three hangers and two piers. */
const BRIDGE: Shape = union(
  minus(ring(0.5, 0.85, 0.6, 0.11), rect(-1, 0.47, 2, 2)),
  rect(0.03, 0.45, 0.97, 0.56),
  rect(0.27, 0.3, 0.34, 0.46),
  rect(0.465, 0.25, 0.535, 0.46),
  rect(0.66, 0.3, 0.73, 0.46),
  rect(0.12, 0.56, 0.21, 0.77),
  rect(0.79, 0.56, 0.88, 0.77),
);

// --- raster + encoders ----------------------------------------------------------------------------
const SUPERSAMPLE = 4;

/** Paints the layers in order at `size` px with SUPERSAMPLE² samples a pixel; returns RGBA rows. */
export function rasterize(size: number, layers: readonly Layer[]): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (px + (sx + 0.5) / SUPERSAMPLE) / size;
          const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
          let sample: Rgba = [0, 0, 0, 0];
          for (const layer of layers) if (layer.shape(x, y)) sample = layer.erase ? [0, 0, 0, 0] : layer.color;
          const alpha = sample[3] / 255;
          r += sample[0] * alpha; g += sample[1] * alpha; b += sample[2] * alpha; a += alpha;
        }
      }
      const offset = (py * size + px) * 4;
      const samples = SUPERSAMPLE * SUPERSAMPLE;
      // Colours are stored un-premultiplied, as PNG wants them.
      pixels[offset] = a > 0 ? Math.round(r / a) : 0;
      pixels[offset + 1] = a > 0 ? Math.round(g / a) : 0;
      pixels[offset + 2] = a > 0 ? Math.round(b / a) : 0;
      pixels[offset + 3] = Math.round((a / samples) * 255);
    }
  }
  return pixels;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG of RGBA pixels: 8 bits a channel, no filtering, one zlib stream. */
export function encodePng(size: number, rgba: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An .ico holding PNG images (read by Windows Vista and later), one per size. */
export function encodeIco(images: ReadonlyArray<{ size: number; png: Buffer }>): Buffer {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, index) => {
    const entry = 6 + 16 * index;
    header[entry] = size >= 256 ? 0 : size;
    header[entry + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(png.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.png)]);
}

// --- the icons ------------------------------------------------------------------------------------
const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];
const STATE_COLOURS: Record<TrayIconState, Rgba> = {
  serving: [13, 148, 136, 255],
  'sign-in': [217, 119, 6, 255],
  error: [220, 38, 38, 255],
  starting: [107, 114, 128, 255],
};

/**
 * Template (macOS, monochrome): the state is the badge's shape, in the lower right corner with a gap
 * cut around it: none when serving, a ring for sign-in, a dot for an error, a half-tone bridge while starting.
 */
function templateLayers(state: TrayIconState): Layer[] {
  const glyph: Layer = { shape: BRIDGE, color: state === 'starting' ? [0, 0, 0, 128] : BLACK };
  const gap: Layer = { shape: disc(0.8, 0.8, 0.26), color: BLACK, erase: true };
  if (state === 'sign-in') return [glyph, gap, { shape: ring(0.8, 0.8, 0.19, 0.08), color: BLACK }];
  if (state === 'error') return [glyph, gap, { shape: disc(0.8, 0.8, 0.19), color: BLACK }];
  return [glyph];
}

/** Colour (Linux, Windows): a white bridge on a rounded square in the state's colour. */
function colourLayers(state: TrayIconState): Layer[] {
  return [
    { shape: roundedSquare(0.02, 0.2), color: STATE_COLOURS[state] },
    { shape: placed(BRIDGE, 0.12, 0.12, 0.76), color: WHITE },
  ];
}

function appIconLayers(): Layer[] {
  return [
    { shape: roundedSquare(0.1, 0.18), color: [15, 118, 110, 255] },
    { shape: placed(BRIDGE, 0.2, 0.2, 0.6), color: WHITE },
  ];
}

const png = (size: number, layers: Layer[]) => encodePng(size, rasterize(size, layers));

/** Every file this script writes, by path relative to the output directory. */
export function iconFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set('icon.png', png(1024, appIconLayers()));
  files.set('icons/512x512.png', png(512, appIconLayers()));
  files.set('icon.ico', encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: png(size, appIconLayers()) }))));
  for (const state of TRAY_ICON_STATES) {
    files.set(`tray/${state}Template.png`, png(16, templateLayers(state)));
    files.set(`tray/${state}Template@2x.png`, png(32, templateLayers(state)));
    files.set(`tray/${state}.png`, png(16, colourLayers(state)));
    files.set(`tray/${state}@2x.png`, png(32, colourLayers(state)));
    files.set(`tray/${state}.ico`, encodeIco([16, 20, 24, 32, 40, 48, 64].map((size) => ({ size, png: png(size, colourLayers(state)) }))));
  }
  return files;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const outDir = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build'));
  const files = iconFiles();
  for (const [name, bytes] of files) {
    mkdirSync(path.dirname(path.join(outDir, name)), { recursive: true });
    writeFileSync(path.join(outDir, name), bytes);
  }
  process.stderr.write(`icons: wrote ${files.size} files to ${outDir}\n`);
}
