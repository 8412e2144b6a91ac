import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runUsageCommand } from '../../src/cli/usage-command.ts';
import { chatThrough, startApp, tempDataDirectory } from '../app/support.ts';

test('usage after serve --emulator says where the emulator ledger is, and --emulator shows it', async () => {
  const home = tempDataDirectory('bb-usage-emulator-');
  try {
    const running = await startApp({ dataDirectory: home.path });
    assert.equal((await chatThrough(running.app)).status, 200);
    await running.close();

    const run = async (argv: string[]) => {
      let stdout = '';
      const code = await runUsageCommand(argv, { stdout: (text) => void (stdout += text), stderr: (text) => void (stdout += text), env: { BEDROCK_BRIDGE_HOME: home.path } });
      return { code, stdout };
    };
    const plain = await run([]);
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /No usage recorded yet/);
    assert.match(plain.stdout, /serve --emulator` are kept apart \(.*emulator\/usage\.sqlite\): see them with `bedrock-bridge usage --emulator`/);
    const emulator = await run(['--emulator', '--by', 'model']);
    assert.equal(emulator.code, 0);
    assert.match(emulator.stdout, /amazon\.nova-micro-v1:0\s+1\s/);
  } finally {
    home.remove();
  }
});
