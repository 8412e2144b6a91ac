import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { iconFiles } from '../../scripts/icons.ts';
import { TRAY_ICON_STATES, trayIconFile } from '../../src/main/tray-icon.ts';

const BUILD = new URL('../../build/', import.meta.url).pathname;

function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('icons', () => {
  const files = iconFiles();

  it('the committed images are what scripts/icons.ts draws (run it after changing a shape)', () => {
    for (const [name, bytes] of files) assert.ok(readFileSync(BUILD + name).equals(bytes), `build/${name} is out of date: node scripts/icons.ts`);
  });

  it('sizes: app icon 1024 and 512, tray 16 px with a 32 px @2x, the ico with 16..256', () => {
    assert.deepEqual(pngSize(files.get('icon.png')!), { width: 1024, height: 1024 });
    assert.deepEqual(pngSize(files.get('icons/512x512.png')!), { width: 512, height: 512 });
    for (const state of TRAY_ICON_STATES) {
      assert.deepEqual(pngSize(files.get(`tray/${state}Template.png`)!), { width: 16, height: 16 });
      assert.deepEqual(pngSize(files.get(`tray/${state}Template@2x.png`)!), { width: 32, height: 32 });
      // Every file the tray asks for exists.
      for (const platform of ['darwin', 'win32', 'linux'] as const) assert.ok(files.has(trayIconFile('tray', state, platform)));
    }
    const ico = files.get('icon.ico')!;
    assert.equal(ico.readUInt16LE(2), 1);
    const sizes = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => ico[6 + 16 * i] || 256);
    assert.deepEqual(sizes, [16, 24, 32, 48, 64, 128, 256]);
  });

  it('macOS templates are black with alpha only; the states differ', () => {
    const pixels = (png: Buffer) => inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)));
    for (const state of TRAY_ICON_STATES) {
      const raw = pixels(files.get(`tray/${state}Template@2x.png`)!);
      for (let row = 0; row < 32; row++) {
        for (let x = 0; x < 32; x++) {
          const at = row * (32 * 4 + 1) + 1 + x * 4;
          assert.deepEqual([raw[at], raw[at + 1], raw[at + 2]], [0, 0, 0], `${state} pixel ${x},${row}`);
        }
      }
    }
    const distinct = new Set(TRAY_ICON_STATES.map((state) => files.get(`tray/${state}Template@2x.png`)!.toString('base64')));
    assert.equal(distinct.size, TRAY_ICON_STATES.length);
  });
});
