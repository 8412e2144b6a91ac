import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { it } from 'node:test';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { runEmulatorCommand } from '../../src/emulator/cli.ts';

it('runEmulatorCommand prints the URL and the environment, serves, and stops when told', async () => {
  const lines: string[] = [];
  let stop!: () => void;
  const untilStopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let ready!: () => void;
  const printed = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const exit = runEmulatorCommand(['--port', '0'], {
    out: (line) => {
      lines.push(line);
      if (line.startsWith('Press Ctrl+C')) ready();
    },
    err: (line) => lines.push(`ERR ${line}`),
    untilStopped,
  });
  await printed;
  const url = /listening on (http:\/\/\S+)/.exec(lines[0]!)![1]!;
  const env = Object.fromEntries(
    lines.filter((l) => l.trim().startsWith('export ')).map((l) => l.trim().slice('export '.length).split('=') as [string, string]),
  );
  assert.equal(env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, url);
  assert.equal(env.AWS_ENDPOINT_URL_BEDROCK, url);

  const client = new BedrockRuntimeClient({
    endpoint: env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const out = await client.send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'cli' }] }] }));
  assert.equal(out.output!.message!.content![0]!.text, 'echo: cli');
  client.destroy();

  stop();
  assert.equal(await exit, 0);
  const port = Number(new URL(url).port);
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    }),
    { code: 'ECONNREFUSED' },
  );
});

it('runEmulatorCommand rejects bad arguments with exit code 2', async () => {
  const lines: string[] = [];
  const code = await runEmulatorCommand(['--port', 'abc'], { out: (l) => lines.push(l), err: (l) => lines.push(l), untilStopped: Promise.resolve() });
  assert.equal(code, 2);
  assert.equal(await runEmulatorCommand(['--bogus'], { out: () => {}, err: () => {}, untilStopped: Promise.resolve() }), 2);
});

it('the recorder is bounded', async () => {
  const { RequestRecorder } = await import('../../src/emulator/recorder.ts');
  const recorder = new RequestRecorder(3);
  for (let i = 0; i < 5; i++) {
    recorder.start({ at: i, operation: 'Converse', httpVersion: '2.0', method: 'POST', rawUrl: '/', headers: {}, auth: 'none', attempt: 1, status: 200 }).finish();
  }
  assert.equal(recorder.size, 3);
  assert.deepEqual(recorder.all().map((r) => r.seq), [3, 4, 5]);
  recorder.clear();
  assert.equal(recorder.last(), undefined);
});
