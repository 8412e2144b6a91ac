import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVault } from '../../src/credentials/vault.ts';
import { applicationMenuTemplate, electronMenuTemplate, vaultSafeStorage } from '../../src/main/electron-ports.ts';
import type { TrayAction } from '../../src/main/tray-menu.ts';
import { fakeSafeStorage } from '../credentials/fake-safe-storage.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Electron's safeStorage, as the adapter takes it (its type, without importing `electron` here). */
type SafeStorage = Parameters<typeof vaultSafeStorage>[0];

/** Electron 45's safeStorage: decryptStringAsync answers `{ result, shouldReEncrypt }`, not the text. */
function electronShapedSafeStorage(backend = 'gnome_libsecret'): SafeStorage {
  const inner = fakeSafeStorage({ backend });
  return {
    isAsyncEncryptionAvailable: inner.isAsyncEncryptionAvailable,
    encryptStringAsync: inner.encryptStringAsync,
    decryptStringAsync: async (data: Buffer) => ({ result: await inner.decryptStringAsync(data), shouldReEncrypt: false }),
    getSelectedStorageBackend: () => backend,
  } as unknown as SafeStorage;
}

describe('Electron adapters', () => {
  it('tray items become Electron menu items whose clicks come back as actions', () => {
    const clicked: TrayAction[] = [];
    const template = electronMenuTemplate(
      [
        { type: 'normal', label: 'Serving', enabled: false },
        { type: 'submenu', label: 'Model', submenu: [{ type: 'radio', label: 'fast', checked: true, action: { kind: 'set-default-model', model: 'fast' } }] },
      ],
      (action) => clicked.push(action),
    );
    assert.equal(template[0]!.click, undefined);
    assert.equal(template[0]!.enabled, false);
    const radio = (template[1]!.submenu as Array<{ type: string; checked: boolean; click: () => void }>)[0]!;
    assert.deepEqual([radio.type, radio.checked], ['radio', true]);
    radio.click();
    assert.deepEqual(clicked, [{ kind: 'set-default-model', model: 'fast' }]);
  });

  it('application menu: Edit roles everywhere (copy/paste), the app menu on macOS, no View menu with dev tools', () => {
    assert.deepEqual(applicationMenuTemplate('darwin'), [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]);
    assert.deepEqual(applicationMenuTemplate('linux'), [{ role: 'editMenu' }]);
    assert.deepEqual(applicationMenuTemplate('win32'), [{ role: 'editMenu' }]);
  });

  it("the vault reads back what it stored through Electron's safeStorage shape", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bb-ss-'));
    try {
      const storage = vaultSafeStorage(electronShapedSafeStorage(), 'linux');
      await (await openVault({ safeStorage: storage, dataDir: dir })).set('identity-center/refresh-token', 'rt-1');
      const reopened = await openVault({ safeStorage: storage, dataDir: dir });
      assert.equal(reopened.protection, 'electron-safe-storage');
      assert.equal(await reopened.get('identity-center/refresh-token'), 'rt-1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('basic_text on Linux is seen (memory only); on other platforms the backend is not asked', async () => {
    const linux = await openVault({ safeStorage: vaultSafeStorage(electronShapedSafeStorage('basic_text'), 'linux'), dataDir: tmpdir() });
    assert.equal(linux.protection, 'memory-only');
    assert.match(linux.warning!, /basic_text/);
    assert.equal(vaultSafeStorage(electronShapedSafeStorage(), 'darwin').getSelectedStorageBackend, undefined);
  });
});
