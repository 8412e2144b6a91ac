/**
 * Claude Code itself (`@anthropic-ai/claude-code`, its own binary, unmodified) in its gateway mode
 * (ANTHROPIC_BASE_URL) against `bedrock-bridge serve --emulator`: a headless `claude -p` in a scratch
 * project, with a throwaway HOME and config dir, makes the emulated model's scripted tool call, and the
 * file change and the usage in the bridge's ledger are checked.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli-process.ts';
import { cleanEnv, startServe, type Started } from '../support/serve-process.ts';

const CLAUDE = new URL('../../node_modules/.bin/claude', import.meta.url).pathname;

interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('Claude Code (claude -p) through /v1/messages', { skip: existsSync(CLAUDE) ? false : 'node_modules/.bin/claude is not installed' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'bb-claude-code-'));
  const bridgeHome = join(root, 'bridge');
  const home = join(root, 'home');
  const project = join(root, 'project');
  let serve: Started;
  // Where Claude Code's HTTP(S) proxy points: any connection here is traffic meant for somewhere other than the bridge.
  let proxy: Server;
  let proxyPort = 0;
  let proxyConnections = 0;
  const children: ChildProcessWithoutNullStreams[] = [];

  before(async () => {
    for (const dir of [bridgeHome, home, project]) mkdirSync(dir, { recursive: true });
    proxy = createServer((socket) => {
      proxyConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as { port: number }).port;
    serve = await startServe(['--emulator', '--port', '0', '--log-requests'], cleanEnv(bridgeHome));
    children.push(serve.child);
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  /** `claude -p PROMPT` in the project, pointed at the bridge, kept off the network and the user's own config. */
  function claude(prompt: string, model: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<ClaudeRun> {
    const origin = serve.baseURL.replace(/\/v1$/, '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      ANTHROPIC_BASE_URL: origin,
      ANTHROPIC_AUTH_TOKEN: serve.apiKey,
      ANTHROPIC_MODEL: model,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      HTTP_PROXY: `http://127.0.0.1:${proxyPort}`,
      NO_PROXY: '127.0.0.1,localhost',
      ...extraEnv,
    };
    const child = spawn(CLAUDE, ['-p', '--permission-mode', 'acceptEdits', '--output-format', 'json', prompt], { cwd: project, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('writes a file with the scripted Write call, reads one with Read (Claude by name and by alias, Nova through Converse), and the bridge records the usage', async () => {
    const target = join(project, 'hello.txt');
    const written = await claude(`Create the file [[tool:Write]] [[arg:file_path=${target}]] [[arg:content=written by the emulated model]]`, 'claude-sonnet-4-5');
    assert.equal(written.code, 0, `claude -p failed:\n${written.stdout}\n${written.stderr}`);
    const result = JSON.parse(written.stdout) as { is_error: boolean; num_turns: number; result: string };
    assert.equal(result.is_error, false);
    assert.equal(result.num_turns, 2, 'the tool call, then the answer to its result');
    assert.equal(readFileSync(target, 'utf8'), 'written by the emulated model');

    const notes = join(project, 'notes.txt');
    writeFileSync(notes, 'the secret word is marmalade');
    // A bridge alias as the model, as the window's Setup tab suggests: Claude Code does not know the name,
    // so it sends what it sends its newest models (mid-conversation system messages, adaptive thinking).
    const read = await claude(`What does notes.txt say? [[tool:Read]] [[arg:file_path=${notes}]] [[arg:pages=1]]`, 'gpt-4o');
    assert.equal(read.code, 0, `claude -p failed:\n${read.stdout}\n${read.stderr}`);
    const answer = (JSON.parse(read.stdout) as { result: string }).result;
    assert.match(answer, /marmalade/, `the file's text came back to the model as the tool result: ${answer}`);

    // A model other than Claude, through Converse (its output limit is under Claude Code's default max_tokens).
    const novaFile = join(project, 'nova.txt');
    const nova = await claude(`Create it [[tool:Write]] [[arg:file_path=${novaFile}]] [[arg:content=written by Nova]]`, 'us.amazon.nova-lite-v1:0', {
      CLAUDE_CODE_MAX_OUTPUT_TOKENS: '8000',
    });
    assert.equal(nova.code, 0, `claude -p failed:\n${nova.stdout}\n${nova.stderr}`);
    assert.equal(readFileSync(novaFile, 'utf8'), 'written by Nova');

    // What Claude Code sends that Bedrock refuses was left out, and said so in the log.
    const lines = serve.output().split('\n').filter((line) => line.includes(' /v1/messages') && !line.includes('nova'));
    assert.equal(lines.length, 4, serve.output());
    for (const line of lines.slice(0, 2)) {
      assert.match(line, /^\S+ 200 \/v1\/messages \(stream\) claude-sonnet-4-5(?:-20250929)? -> us\.anthropic\.claude-sonnet-4-5-20250929-v1:0 /);
    }
    for (const line of lines.slice(2)) {
      assert.match(line, /^\S+ 200 \/v1\/messages \(stream\) gpt-4o -> global\.anthropic\.claude-sonnet-4-5-20250929-v1:0 /);
      assert.match(line, / dropped \S*thinking\.type:adaptive/);
    }
    for (const line of lines) {
      assert.match(line, / dropped \S*context_management/);
      assert.match(line, / dropped \S*metadata\.user_id/);
    }
    assert.equal(proxyConnections, 0, 'Claude Code tried to reach no other address');

    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
    const usage = await runCli(['usage', '--json', '--by', 'model', '--data-dir', join(bridgeHome, 'emulator')], cleanEnv(bridgeHome));
    assert.equal(usage.code, 0, usage.stderr);
    const report = JSON.parse(usage.stdout) as {
      groups: { model: { key: string; requests: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }[] };
    };
    const rows = report.groups.model.filter((entry) => entry.key.includes('claude-sonnet-4-5'));
    assert.equal(rows.length, 2, `the us. profile and the alias's global. profile: ${usage.stdout}`);
    const row = rows.reduce((sum, entry) => ({
      ...sum,
      requests: sum.requests + entry.requests,
      inputTokens: sum.inputTokens + entry.inputTokens,
      outputTokens: sum.outputTokens + entry.outputTokens,
      cacheReadTokens: sum.cacheReadTokens + entry.cacheReadTokens,
      cacheWriteTokens: sum.cacheWriteTokens + entry.cacheWriteTokens,
    }));
    assert.equal(row.requests, 4, 'two turns per run, each a usage record');
    // Claude Code marks its system prompt for caching: the second turn of each run reads the first's cache.
    assert.ok(row.inputTokens + row.cacheReadTokens + row.cacheWriteTokens > 1000, `Claude Code sends a long system prompt: ${usage.stdout}`);
    assert.ok(row.cacheReadTokens > 0, `cache reads recorded: ${usage.stdout}`);
    assert.ok(row.outputTokens > 0);
    const novaRow = report.groups.model.find((entry) => entry.key.includes('nova-lite'));
    assert.equal(novaRow?.requests, 2, usage.stdout);
  });
});
