import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageLedger } from '../../src/usage/ledger.ts';
import type { UsageRecord } from '../../src/usage/usage-record.ts';
import { cleanEnv, startServe, type Started } from '../support/serve-process.ts';

/** Claude Code's own binary, from its npm package. */
const CLAUDE = new URL('../../node_modules/.bin/claude', import.meta.url).pathname;
const STREAM_ROUTE = '/model/{modelId}/invoke-with-response-stream';

/**
 * Claude Code 2.1 in its own Bedrock mode (CLAUDE_CODE_USE_BEDROCK=1) against `serve --emulator`: it
 * sends Bedrock Runtime requests (InvokeModel / InvokeModelWithResponseStream in Claude's native body)
 * to ANTHROPIC_BEDROCK_BASE_URL, which the bridge relays to Bedrock (here its emulator). The emulated
 * model is scripted by markers in the prompt: `[[tool:NAME]]` calls Claude Code's tool NAME with the
 * `[[arg:...]]` arguments; the next turn (the tool result) ends the conversation.
 */
describe('Claude Code in Bedrock mode through the bridge', { timeout: 240_000 }, () => {
  let root: string;
  let dataDir: string;
  let serve: Started;
  let origin: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'bb-claude-bedrock-'));
    dataDir = join(root, 'bridge');
    serve = await startServe(['--emulator', '--port', '0'], cleanEnv(dataDir), 45_000);
    // The endpoint serve prints for Bedrock clients.
    origin = /Bedrock:\s+(http:\/\/\S+)/.exec(serve.output())?.[1] ?? '';
    assert.equal(origin, serve.baseURL.replace(/\/v1$/, ''));
  });
  after(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs `claude -p PROMPT` in `project` with a fresh HOME and only the variables given (plus PATH). */
  function runClaude(project: string, prompt: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = mkdtempSync(join(root, 'home-'));
    const child = spawn(CLAUDE, ['-p', '--permission-mode', 'acceptEdits', prompt], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        AWS_REGION: 'us-east-1',
        CLAUDE_CODE_USE_BEDROCK: '1',
        ANTHROPIC_BEDROCK_BASE_URL: origin,
        // Nothing but the bridge: no telemetry, updates, error reports or other side traffic...
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        // ...and whatever would still go out goes to a closed loopback port instead.
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '127.0.0.1,localhost',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    return new Promise((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    );
  }

  function project(): string {
    const dir = mkdtempSync(join(root, 'project-'));
    mkdirSync(join(dir, '.git'));
    return dir;
  }

  it('with the local key as AWS_BEARER_TOKEN_BEDROCK: writes a file through its Write tool', async () => {
    const dir = project();
    const target = join(dir, 'hello.txt');
    const result = await runClaude(dir, `create the file [[tool:Write]] [[arg:file_path=${target}]] [[arg:content=written through the bridge]]`, {
      AWS_BEARER_TOKEN_BEDROCK: serve.apiKey,
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${serve.output()}`);
    assert.equal(readFileSync(target, 'utf8'), 'written through the bridge');
    assert.match(result.stdout, /tool result: File created successfully/);
  });

  it('with CLAUDE_CODE_SKIP_BEDROCK_AUTH and the key as ANTHROPIC_AUTH_TOKEN: reads a file through its Read tool', async () => {
    const dir = project();
    const source = join(dir, 'notes.md');
    writeFileSync(source, 'the passthrough relays every byte\n');
    const result = await runClaude(dir, `read it [[tool:Read]] [[arg:file_path=${source}]] [[arg:pages=1]]`, {
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      ANTHROPIC_AUTH_TOKEN: serve.apiKey,
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${serve.output()}`);
    // The emulated model answers the tool result with its text: the file went from Claude Code to the model and back.
    assert.match(result.stdout, /tool result: .*the passthrough relays every byte/s);
  });

  it('left usage records of each turn in the ledger', async () => {
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.output());
    const ledger = new UsageLedger({ dataDir: join(dataDir, 'emulator'), writer: 'inline' });
    let records: UsageRecord[];
    try {
      records = ledger.list();
    } finally {
      ledger.close();
    }
    const turns = records.filter((record) => record.route === STREAM_ROUTE && record.client?.startsWith('claude-cli/'));
    // Two runs, two turns each (the tool call, then the answer to its result).
    assert.equal(turns.length, 4, JSON.stringify(records, null, 2));
    for (const turn of turns) {
      assert.equal(turn.status, 200);
      assert.equal(turn.errorType, null);
      assert.equal(turn.stream, true);
      assert.match(turn.modelId ?? '', /anthropic\.claude/);
      assert.ok(turn.outputTokens > 0 && turn.inputTokens + turn.cacheReadTokens + turn.cacheWriteTokens > 0, JSON.stringify(turn));
      assert.ok(turn.costUsd !== null && turn.costUsd > 0);
    }
  });
});
