import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { tempDataDirectory } from '../app/support.ts';
import { runCli } from '../support/cli-process.ts';
import { cleanEnv, startServe } from '../support/serve-process.ts';

test('serve on a port held by another Bedrock Bridge says so; held by another program, says that', async () => {
  const home = tempDataDirectory('bb-serve-port-');
  const env = cleanEnv(home.path);
  const first = await startServe(['--emulator', '--port', '0'], env);
  const busy = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = new URL(first.baseURL).port;
    const second = await runCli(['serve', '--emulator', '--port', port], env);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`Bedrock Bridge is already serving on http://127\\.0\\.0\\.1:${port}/v1`));

    const other = await runCli(['serve', '--emulator', '--port', String((busy.address() as AddressInfo).port)], env);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /is already in use by another program\. Pick another with --port/);
  } finally {
    busy.close();
    first.child.kill('SIGTERM');
    await first.exit;
    home.remove();
  }
});
