import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator } from '../../src/emulator/index.ts';
import { cleanEnv, envAuthServeEnv, postChat, startServe } from '../support/serve-process.ts';
import { runCli } from '../support/cli-process.ts';
import { sseReader } from '../support/sse.ts';

describe('bedrock-bridge serve', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-'));
  const children: ChildProcessWithoutNullStreams[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('starts with --emulator --port 0, prints the URL and a generated key, and answers', async () => {
    const started = await startServe(['--emulator', '--port', '0', '--log-requests'], cleanEnv(home));
    children.push(started.child);
    assert.match(started.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.doesNotMatch(started.baseURL, /:0\/v1$/);
    assert.match(started.apiKey, /^bb-[A-Za-z0-9_-]{20,}$/);

    const response = await postChat(started.baseURL, started.apiKey, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.object, 'chat.completion');

    const unauthorized = await fetch(`${started.baseURL}/models`);
    assert.equal(unauthorized.status, 401);
    // --log-requests: one line for the chat request, without its text.
    const deadline = Date.now() + 5000;
    while (!/200 \/v1\/chat\/completions gpt-4o-mini -> \S+ \d+ in \/ \d+ out \d+ ms/.test(started.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(started.output(), /200 \/v1\/chat\/completions gpt-4o-mini -> \S+ \d+ in \/ \d+ out \d+ ms/);
    assert.ok(!started.output().includes('hello'), 'no prompt text in the log');
    assert.match(started.output(), /not synced \(no audit endpoint is configured\)/, 'the banner says why, in lower case inside the brackets');

    started.child.kill('SIGTERM');
    assert.equal(await started.exit, 0);

    // The request became a usage record in the emulator's own ledger, which `bedrock-bridge usage` reports.
    const usage = await runCli(['usage', '--json', '--by', 'model', '--data-dir', join(home, 'emulator')], cleanEnv(home));
    assert.equal(usage.code, 0);
    const json = usage.stdout;
    const report = JSON.parse(json) as { groups: { model: { key: string; requests: number; inputTokens: number; outputTokens: number }[] }; sync: { pending: number } };
    const chat = report.groups.model.find((row) => row.requests >= 1);
    assert.ok(chat, `a usage row per model: ${json}`);
    assert.equal(chat.requests, 1);
    assert.equal(chat.inputTokens, body.usage.prompt_tokens);
    assert.equal(chat.outputTokens, body.usage.completion_tokens);
    assert.equal(report.sync.pending, 1, 'no audit endpoint configured: the record waits in the ledger');
  });

  it('on SIGTERM lets an in-flight stream finish, refuses new connections, and exits 0', async (t) => {
    const settingsFile = join(home, 'custom.json');
    writeFileSync(settingsFile, JSON.stringify({ apiKey: 'from-settings-file-key', models: { quick: 'amazon.nova-micro-v1:0' } }));
    const started = await startServe(['--emulator', '--port', '0', '--config', settingsFile], cleanEnv(home));
    children.push(started.child);
    assert.match(started.output(), /API key:\s+\(as configured\)/);
    assert.ok(!started.output().includes('from-settings-file-key'), 'a configured key is not printed');

    const response = await postChat(started.baseURL, 'from-settings-file-key', { model: 'quick', stream: true, messages: [{ role: 'user', content: 'slowly [[chunks:12]] [[slow:150ms]]' }] });
    assert.equal(response.status, 200);
    const stream = sseReader(response);
    assert.ok(await stream.next());

    const signalledAt = Date.now();
    started.child.kill('SIGTERM');
    // While the stream drains, new connections are refused.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await assert.rejects(
      fetch(`${started.baseURL}/models`, { headers: { authorization: 'Bearer from-settings-file-key' } }),
      'a new connection was accepted during shutdown',
    );
    const { events, cut } = await stream.rest();
    assert.ok(!cut);
    assert.equal(events.at(-1), '[DONE]', 'the in-flight stream completed');
    assert.ok(events.length >= 12);

    assert.equal(await started.exit, 0);
    t.diagnostic(`the stream finished and the process exited ${Date.now() - signalledAt} ms after SIGTERM`);
    assert.match(started.output(), /SIGTERM/);
  });

  it('--auth env with AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK reaches that endpoint', async () => {
    const emulator = await startEmulator({ port: 0, host: '127.0.0.1', region: 'us-west-2' });
    try {
      const env = envAuthServeEnv(home, emulator.url, { AWS_REGION: 'us-west-2', BEDROCK_BRIDGE_API_KEY: 'env-key' });
      const started = await startServe(['--auth', 'env', '--port', '0', '--model', 'mine=amazon.nova-micro-v1:0', '--default-model', 'mine'], env);
      children.push(started.child);
      assert.match(started.output(), /Region:\s+us-west-2/);
      assert.match(started.output(), /Credentials:\s+env/);
      assert.match(started.output(), /Default:\s+mine \(amazon\.nova-micro-v1:0\)/);
      const response = await postChat(started.baseURL, 'env-key', { model: 'default', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(response.status, 200);
      const recorded = emulator.recorder.last('Converse');
      assert.ok(recorded, 'the request reached the endpoint from AWS_ENDPOINT_URL_BEDROCK_RUNTIME');
      assert.equal(recorded.modelId, 'amazon.nova-micro-v1:0');
      assert.equal(recorded.accessKeyId, DEFAULT_EMULATOR_CREDENTIALS.accessKeyId);
      const models = await fetch(`${started.baseURL}/models`, { headers: { authorization: 'Bearer env-key' } });
      assert.equal(models.status, 200);
      assert.equal(models.headers.get('x-bedrock-bridge-models-degraded'), null);
      assert.ok(emulator.recorder.last('ListFoundationModels'), 'the control plane went to AWS_ENDPOINT_URL_BEDROCK');
      started.child.kill('SIGINT');
      assert.equal(await started.exit, 0);
    } finally {
      await emulator.close();
    }
  });

  it('a restart from the window keeps the generated key and prints the new base URL', async () => {
    const started = await startServe(['--emulator', '--port', '0'], cleanEnv(join(home, 'restart')));
    children.push(started.child);
    const link = /Window:\s+(\S+)/.exec(started.output())![1]!;
    const origin = new URL(link).origin;
    const exchange = await fetch(link, { redirect: 'manual' });
    assert.equal(exchange.status, 303);
    const cookie = exchange.headers.get('set-cookie')!.split(';')[0]!;
    const restart = await fetch(`${origin}/control/v1/restart`, { method: 'POST', headers: { cookie, 'x-bedrock-bridge': '1' } });
    assert.equal(restart.status, 202, await restart.text());

    const deadline = Date.now() + 15_000;
    let announced: RegExpExecArray | null = null;
    while (!(announced = /Restarted from the window: Base URL (http:\/\/\S+\/v1)/.exec(started.output())) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(announced, `serve says where it serves now:\n${started.output()}`);
    const response = await postChat(announced[1]!, started.apiKey, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(response.status, 200, 'the key printed at start still works after the restart');

    started.child.kill('SIGTERM');
    assert.equal(await started.exit, 0);
  });

  it('prints help and rejects unknown flags', async () => {
    const help = await runCli(['serve', '--help'], cleanEnv(home));
    assert.equal(help.code, 0);
    for (const flag of ['--port', '--host', '--api-key', '--region', '--config', '--model', '--default-model', '--auth', '--emulator']) {
      assert.ok(help.stdout.includes(flag), flag);
    }
    const bad = await runCli(['serve', '--no-such-flag'], cleanEnv(home));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^bedrock-bridge serve: .*'--no-such-flag'.*\nRun "bedrock-bridge serve --help" for its options\./s);
  });

  it('every command\'s help fits 100 columns, lists -h, --help, and lines its descriptions up', async () => {
    for (const command of [['serve'], ['login'], ['usage'], ['org', 'serve'], ['org', 'report']]) {
      const help = await runCli([...command, '--help'], cleanEnv(home));
      assert.equal(help.code, 0, command.join(' '));
      const lines = help.stdout.split('\n');
      assert.deepEqual(lines.filter((line) => line.length > 100), [], `${command.join(' ')}: lines past 100 columns`);
      assert.ok(lines.some((line) => /^ {2}-h, --help +\S/.test(line)), `${command.join(' ')} lists -h, --help`);
      // Descriptions of the options start in one column.
      const starts = new Set(lines.filter((line) => /^ {2}-/.test(line)).map((line) => /^ {2}(?:-h, --help|\S+(?: [A-Z=_]+)?) +/.exec(line)![0].length));
      assert.equal(starts.size, 1, `${command.join(' ')}: descriptions start at columns ${[...starts].join(', ')}`);
    }
  });
});
