import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';

const BIN = new URL('../../bin/bedrock-bridge.js', import.meta.url).pathname;

/** The machine's own `node` (PATH without node_modules/.bin), when it is older than 22. */
function olderSystemNode(): { path: string; version: string } | null {
  const directories = [...(process.env.PATH ?? '').split(delimiter).filter((entry) => entry !== '' && !entry.includes('node_modules')), '/usr/local/bin', '/usr/bin'];
  for (const directory of directories) {
    const path = join(directory, 'node');
    if (!existsSync(path)) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (/^v(1\d|2[01])\./.test(version)) return { path, version };
  }
  return null;
}

test('under an older Node the CLI says which Node it needs, without a stack trace', (t) => {
  const older = olderSystemNode();
  if (!older) {
    t.skip('no Node older than 22 on this machine');
    return;
  }
  for (const args of [['serve', '--emulator'], ['usage'], ['--help']]) {
    const result: SpawnSyncReturns<string> = spawnSync(older.path, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BEDROCK_BRIDGE_HOME: '/nonexistent-bb-home' }, timeout: 20_000 });
    assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /bedrock-bridge needs Node\.js 22\.18 or newer; this is Node\.js 2?\d\.\d+\.\d+/);
    assert.doesNotMatch(result.stderr, /ERR_UNKNOWN_BUILTIN_MODULE|node:sqlite|\n\s+at /, 'no stack trace');
  }
  t.diagnostic(`ran ${older.path} (${older.version})`);
});
