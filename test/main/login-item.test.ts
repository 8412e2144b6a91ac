import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { useTempDirs } from '../support/temp-dirs.ts';
import { autostartCommand, autostartPath, electronLoginItem, xdgAutostartLoginItem, type LoginItemSettingsApi } from '../../src/main/login-item.ts';

/** Electron's login items as Windows keeps them: the Run entry reads as ours only with the same args. */
function fakeLoginItems(platform: 'darwin' | 'win32'): LoginItemSettingsApi & { calls: unknown[] } {
  let entry = { openAtLogin: false, args: [] as string[] };
  const calls: unknown[] = [];
  return {
    calls,
    getLoginItemSettings: (options = {}) => ({
      openAtLogin: entry.openAtLogin && (platform !== 'win32' || JSON.stringify(options.args ?? []) === JSON.stringify(entry.args)),
    }),
    setLoginItemSettings: (settings) => {
      calls.push(settings);
      entry = { openAtLogin: settings.openAtLogin, args: settings.args ?? [] };
    },
  };
}

describe('start at login', () => {
  for (const platform of ['darwin', 'win32'] as const) {
    it(`${platform}: off by default; on and off through Electron's login items, starting with --hidden`, async () => {
      const api = fakeLoginItems(platform);
      const item = electronLoginItem(api);
      assert.equal(await item.get(), false);
      await item.set(true);
      assert.equal(await item.get(), true);
      assert.deepEqual(api.calls, [{ openAtLogin: true, args: ['--hidden'] }]);
      await item.set(false);
      assert.equal(await item.get(), false);
    });
  }

  describe('linux: an XDG autostart entry', () => {
    const configHome = useTempDirs('bb-xdg-');

    it('written on, removed off, in $XDG_CONFIG_HOME/autostart, starting the executable with --hidden', async () => {
      const env = { XDG_CONFIG_HOME: await configHome() };
      const item = xdgAutostartLoginItem(env, '/opt/Bedrock Bridge/bedrock-bridge');
      const file = path.join(env.XDG_CONFIG_HOME, 'autostart', 'bedrock-bridge.desktop');
      assert.equal(autostartPath(env), file);
      assert.equal(await item.get(), false);
      await item.set(true);
      assert.equal(await item.get(), true);
      const entry = await readFile(file, 'utf8');
      assert.match(entry, /^\[Desktop Entry\]\nType=Application\n/);
      assert.match(entry, /\nExec="\/opt\/Bedrock Bridge\/bedrock-bridge" --hidden\n/);
      assert.match(entry, /\nX-GNOME-Autostart-enabled=true\n/);
      assert.equal((await stat(file)).mode & 0o777, 0o644);
      await item.set(false);
      assert.equal(await item.get(), false);
      await assert.rejects(stat(file), { code: 'ENOENT' });
    });

    it('from an AppImage the entry starts $APPIMAGE, and refresh() follows it when it moved', async () => {
      const home = await configHome();
      await xdgAutostartLoginItem({ XDG_CONFIG_HOME: home, APPIMAGE: '/home/j/Apps/Bedrock-Bridge-0.1.0.AppImage' }, '/tmp/.mount_x/bedrock-bridge').set(true);
      const moved = xdgAutostartLoginItem({ XDG_CONFIG_HOME: home, APPIMAGE: '/home/j/Apps/Bedrock-Bridge-0.2.0.AppImage' }, '/tmp/.mount_y/bedrock-bridge');
      await moved.refresh();
      const entry = await readFile(autostartPath({ XDG_CONFIG_HOME: home }), 'utf8');
      assert.match(entry, /\nExec=\/home\/j\/Apps\/Bedrock-Bridge-0\.2\.0\.AppImage --hidden\n/);
    });

    it('refresh() does not create an entry the user never asked for', async () => {
      const env = { XDG_CONFIG_HOME: await configHome(), APPIMAGE: '/a/b.AppImage' };
      await xdgAutostartLoginItem(env, '/x').refresh();
      await assert.rejects(stat(autostartPath(env)), { code: 'ENOENT' });
    });

    it('Exec quoting per the Desktop Entry spec', () => {
      assert.equal(autostartCommand({}, '/opt/a b/$x"%'), '"/opt/a b/\\$x\\"%%" --hidden');
    });

    it('an entry someone else wrote there counts as on', async () => {
      const env = { XDG_CONFIG_HOME: await configHome() };
      const item = xdgAutostartLoginItem(env, '/x');
      await item.set(true);
      await writeFile(autostartPath(env), '[Desktop Entry]\nExec=/other\n');
      assert.equal(await item.get(), true);
    });
  });
});
