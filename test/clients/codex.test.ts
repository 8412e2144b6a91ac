/**
 * The Codex CLI itself (`@openai/codex` 0.171, its own binary, unmodified) against `serve --emulator`:
 * `codex exec` in a throwaway git repository, configured exactly as the README tells users (the model
 * catalogue command and the config.toml block are read from the README), with a scripted apply_patch
 * and a scripted shell command. Codex must reach nothing but loopback: every proxy-able request goes to
 * a loopback proxy here that refuses it and counts it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, startServe, type Started } from '../support/serve-process.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules/.bin');
const CODEX = join(BIN, 'codex');

/** The fenced block after `<!-- NAME -->` in the README. */
function readmeBlock(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(match, `README has a ${name} block`);
  return match[1]!;
}

/** Scripted-model markers: call TOOL with exactly INPUT (src/emulator/scripted-model.ts). */
function scriptedCall(tool: string, input: unknown): string {
  return `[[tool:${tool}]] [[tool-input:${Buffer.from(JSON.stringify(input)).toString('base64url')}]]`;
}

let work: string;
let serve: Started;
let proxy: Server;
const proxied: string[] = [];
let codexEnv: NodeJS.ProcessEnv;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'bb-codex-'));
  const codexHome = join(work, 'codex-home');
  mkdirSync(codexHome);
  // Anything Codex would send elsewhere than loopback goes through this proxy, which refuses it.
  proxy = createServer((request, response) => {
    proxied.push(`${request.method} ${request.url}`);
    response.writeHead(403).end();
  });
  proxy.on('connect', (request, socket) => {
    proxied.push(`CONNECT ${request.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  serve = await startServe(['--emulator', '--port', '0'], cleanEnv(join(work, 'bridge-home')));
  const port = new URL(serve.baseURL).port;

  codexEnv = {
    PATH: `${BIN}:${process.env.PATH}`,
    HOME: work,
    CODEX_HOME: codexHome,
    BEDROCK_BRIDGE_API_KEY: serve.apiKey,
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    ALL_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  // The README's two steps, as a user runs them.
  await run('bash', ['-c', readmeBlock('codex-catalog')], { env: codexEnv });
  const config = readmeBlock('codex-config')
    .replace('/home/YOU/.codex/bedrock-models.json', join(codexHome, 'bedrock-models.json'))
    .replace('http://127.0.0.1:8741/v1', serve.baseURL);
  // A failure should fail the test at once rather than be retried for minutes.
  writeFileSync(join(codexHome, 'config.toml'), `${config}request_max_retries = 0\nstream_max_retries = 0\n`);
});

after(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await serve.exit;
  }
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

async function newRepository(name: string): Promise<string> {
  const repo = join(work, name);
  mkdirSync(repo);
  await run('git', ['init', '-q'], { cwd: repo });
  writeFileSync(join(repo, 'README.md'), '# scratch\n');
  return repo;
}

async function codexExec(repo: string, prompt: string): Promise<{ finalMessage: string; output: string }> {
  const last = join(repo, '..', `${repo.split('/').pop()}-last-message.txt`);
  const args = ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--ephemeral', '-C', repo, '-o', last, prompt];
  // stdin closed: `codex exec` otherwise waits for more prompt on it.
  const child = spawn(CODEX, args, { env: codexEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `codex exec failed:\n${output}\n--- serve ---\n${serve.output()}`);
  return { finalMessage: readFileSync(last, 'utf8'), output };
}

interface LedgerRow {
  route: string;
  status: number;
  stream: number;
  model_id: string;
  requested_model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  client: string | null;
}

/** The usage records of `/v1/responses`, read once serve has stopped (the ledger is flushed at quit). */
async function ledgerRows(): Promise<LedgerRow[]> {
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exit, 0, serve.output());
  const path = join(work, 'bridge-home', 'emulator', 'usage.sqlite');
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT route, status, stream, model_id, requested_model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, client FROM records WHERE route = '/v1/responses' ORDER BY id").all() as unknown as LedgerRow[];
  } finally {
    db.close();
  }
}

describe('Codex CLI (codex exec) through Bedrock Bridge', { timeout: 240_000 }, () => {
  test('apply_patch: the scripted patch is applied to the repository, and the turn ends with the tool result', async () => {
    const repo = await newRepository('patch-repo');
    const patch = '*** Begin Patch\n*** Add File: greeting.txt\n+Hello from Bedrock\n*** End Patch\n';
    const { finalMessage, output } = await codexExec(repo, `Create the greeting file. ${scriptedCall('apply_patch', { input: patch })}`);
    assert.equal(readFileSync(join(repo, 'greeting.txt'), 'utf8'), 'Hello from Bedrock\n', output);
    // The second request carried the apply_patch output back (custom_tool_call_output), and the model's
    // signed thinking of the first turn: the emulator checks the signature and echoes the result.
    assert.match(finalMessage, /^tool result: .*Success\. Updated the following files:\s+A greeting\.txt/s);
    assert.match(output, /Thinking about: the request/, 'thinking stayed on for the continuation (the reasoning item came back)');
  });

  test('shell: the scripted command runs in the repository', async () => {
    const repo = await newRepository('shell-repo');
    const { finalMessage, output } = await codexExec(repo, `Run it. ${scriptedCall('exec_command', { cmd: 'echo from-shell > shell.txt' })}`);
    assert.equal(readFileSync(join(repo, 'shell.txt'), 'utf8'), 'from-shell\n', output);
    assert.match(finalMessage, /^tool result: .*Process exited with code 0/s);
  });

  test('usage: each Codex request is a /v1/responses record in the ledger; nothing left loopback', async () => {
    const rows = await ledgerRows();
    assert.equal(rows.length, 4, 'two turns for each of the two runs');
    for (const row of rows) {
      assert.equal(row.status, 200);
      assert.equal(row.stream, 1);
      assert.equal(row.requested_model, 'claude-sonnet');
      assert.equal(row.model_id, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0');
      const prompt = row.input_tokens + row.cache_read_tokens + row.cache_write_tokens;
      assert.ok(prompt > 1000, `Codex's instructions and conversation count (${prompt})`);
      assert.ok(row.output_tokens > 0);
      assert.match(row.client ?? '', /codex_exec/);
    }
    // Codex names a prompt cache (prompt_cache_key): its second turn reads what the first one cached.
    assert.ok(rows[0]!.cache_write_tokens > 1000, 'the first turn writes the prompt cache');
    assert.ok(rows[1]!.cache_read_tokens > 1000, 'the continuation reads it');
    assert.deepEqual(proxied, [], 'Codex tried to reach the internet');
    assert.ok(!existsSync(join(work, 'codex-home', 'auth.json')), 'no OpenAI sign-in was needed');
  });
});
