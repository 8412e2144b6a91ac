import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { createCredentialSource, MemoryVault, SignInFailedError, type CredentialSource } from '../../src/credentials/index.ts';
import { runEmulatorCommand } from '../../src/emulator/cli.ts';
import { cleanEnv, MAIN } from '../support/serve-process.ts';

interface RunningCommand {
  lines: string[];
  url: string;
  /** The `export NAME=value` lines, as a shell would see them. */
  env: Record<string, string>;
  /** The printed line that starts with `prefix` (trimmed). */
  line(prefix: string): string;
  stop(): Promise<number>;
}

/** Runs `bedrock-bridge emulator ARGS` in-process and resolves once it has printed everything. */
async function startCommand(args: string[]): Promise<RunningCommand> {
  const lines: string[] = [];
  let stop!: () => void;
  const untilStopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let ready!: () => void;
  const printed = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const exit = runEmulatorCommand(args, {
    out: (line) => {
      lines.push(line);
      if (line.startsWith('Press Ctrl+C')) ready();
    },
    err: (line) => lines.push(`ERR ${line}`),
    untilStopped,
  });
  await Promise.race([printed, exit.then((code) => assert.fail(`the command exited with ${code}: ${lines.join('\n')}`))]);
  const line = (prefix: string): string => {
    const found = lines.map((l) => l.trim()).find((l) => l.startsWith(prefix));
    assert.ok(found, `a printed line starting with "${prefix}" in:\n${lines.join('\n')}`);
    return found;
  };
  return {
    lines,
    url: /listening on (http:\/\/\S+)/.exec(lines[0]!)![1]!,
    env: Object.fromEntries(lines.filter((l) => l.trim().startsWith('export AWS_')).map((l) => l.trim().slice('export '.length).split('=') as [string, string])),
    line,
    stop: () => {
      stop();
      return exit;
    },
  };
}

/** What a browser does with the verification page: load it, then submit its form with the prefilled code. */
async function submitDevicePage(link: string, user: string, decision: 'allow' | 'deny'): Promise<void> {
  const page = await fetch(link);
  assert.equal(page.status, 200);
  const html = await page.text();
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)![1]!, link);
  const userCode = /name="user_code" value="([^"]*)"/.exec(html)![1]!;
  const answer = await fetch(action, { method: 'POST', body: new URLSearchParams({ user_code: userCode, user, decision }) });
  assert.equal(answer.status, 200, await answer.text());
}

/** The printed `bedrock-bridge login ...` command's arguments. */
function loginArgs(command: RunningCommand): string[] {
  return command.line('bedrock-bridge login ').split(/\s+/).slice(2);
}

function flag(args: string[], name: string): string {
  return args[args.indexOf(name) + 1]!;
}

it('runEmulatorCommand prints the URL and the environment, serves, and stops when told', async () => {
  const command = await startCommand(['--port', '0']);
  const { url, env } = command;
  for (const name of ['BEDROCK_RUNTIME', 'BEDROCK', 'SSO', 'SSO_OIDC', 'STS']) assert.equal(env[`AWS_ENDPOINT_URL_${name}`], url, name);
  const verificationPage = await fetch(`${url}/device`);
  assert.equal(verificationPage.status, 200);
  assert.match(await verificationPage.text(), /<form method="post" action="\/device">/);

  const client = new BedrockRuntimeClient({
    endpoint: env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const out = await client.send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'cli' }] }] }));
  assert.equal(out.output!.message!.content![0]!.text, 'echo: cli');
  client.destroy();

  assert.equal(await command.stop(), 0);
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

it('a person who allows the code on the printed verification page gets Identity Center credentials Bedrock accepts; a denied code fails sign-in', async () => {
  const command = await startCommand(['--port', '0']);
  const dataDir = await mkdtemp(join(tmpdir(), 'bb-emulator-cli-'));
  // The in-process SDK clients find the emulator only through the printed variables, as in a user's shell.
  const exported = Object.entries(command.env).filter(([name]) => name.startsWith('AWS_ENDPOINT_URL_') || name === 'AWS_REGION');
  const saved = exported.map(([name]) => [name, process.env[name]] as const);
  for (const [name, value] of exported) process.env[name] = value;
  const args = loginArgs(command);
  const signIn = (user: string, decision: 'allow' | 'deny'): Promise<CredentialSource> => {
    const approvals: Promise<void>[] = [];
    const source = createCredentialSource(
      { source: 'identity-center', identityCenter: { startUrl: flag(args, '--start-url'), region: flag(args, '--sso-region') } },
      {
        dataDir,
        vault: new MemoryVault(),
        log: () => {},
        ui: { prompt: (p) => approvals.push(submitDevicePage(p.verificationUriComplete ?? p.verificationUri, user, decision)) },
      },
    );
    return source.finally(() => Promise.all(approvals));
  };
  let client: BedrockRuntimeClient | undefined;
  try {
    const source = await signIn('alice', 'allow');
    assert.equal((await source.identity())?.user, 'alice', 'STS (AWS_ENDPOINT_URL_STS) knows the signed-in user');
    const issued = await source.credentials();
    assert.ok(issued.sessionToken, 'role credentials, not the fixed key pair');
    client = new BedrockRuntimeClient({ region: process.env.AWS_REGION!, credentials: source.credentials });
    const out = await client.send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'signed in' }] }] }));
    assert.equal(out.output!.message!.content![0]!.text, 'echo: signed in');

    await assert.rejects(signIn('mallory', 'deny'), (error: unknown) => error instanceof SignInFailedError && error.reason === 'denied');
  } finally {
    client?.destroy();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(dataDir, { recursive: true, force: true });
    assert.equal(await command.stop(), 0);
  }
});

/** Runs the real CLI; every sign-in link it prints is approved as `user` on the verification page. */
function runCli(args: string[], env: NodeJS.ProcessEnv, user: string) {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const approvals = new Map<string, Promise<void>>();
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const [, link] of output.matchAll(/^\s*(http\S+\/device\?user_code=\S+)\n/gm)) {
        if (!approvals.has(link!)) approvals.set(link!, submitDevicePage(link!, user, 'allow'));
      }
    });
  }
  return {
    child,
    output: () => output,
    exit: exit.then(async (code) => (await Promise.all(approvals.values()), code)),
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null) break;
      }
      return assert.fail(`no ${pattern} in:\n${output}`);
    },
  };
}

it('--collector: the printed offline steps (login, then serve --auth identity-center) work, and usage reaches the printed endpoint under the user name', async () => {
  const command = await startCommand(['--port', '0', '--collector']);
  const home = await mkdtemp(join(tmpdir(), 'bb-emulator-trial-'));
  const env = { ...cleanEnv(home), ...command.env };
  let serve: ReturnType<typeof runCli> | undefined;
  try {
    const settings = /^echo '(.+)' > "\$BEDROCK_BRIDGE_HOME\/settings\.json"$/.exec(command.line('echo '))![1]!;
    await writeFile(join(home, 'settings.json'), settings);

    const login = runCli(['login', ...loginArgs(command)], env, 'alice');
    assert.equal(await login.exit, 0, login.output());
    assert.match(login.output(), /Signed in as alice \(identity-center, account \d{12}, role \w+\)/);

    serve = runCli(['serve', '--auth', 'identity-center', '--port', '0', '--api-key', 'trial-key-0123456789abcdef'], env, 'alice');
    const baseUrl = (await serve.waitFor(/Base URL:\s+(\S+)/))[1]!;
    await serve.waitFor(/Press Ctrl\+C/);
    const chat = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer trial-key-0123456789abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: 'offline' }] }),
    });
    assert.equal(chat.status, 200);
    assert.equal((await chat.json()).choices[0].message.content, 'echo: offline');

    const recordsUrl = /(http\S+\/_collector\/records)/.exec(command.line('Usage records'))![1]!;
    let records: { authenticatedUser: string; record: { user: string; identity_source: string } }[] = [];
    for (const deadline = Date.now() + 30_000; records.length === 0 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      records = await (await fetch(recordsUrl)).json();
    }
    assert.equal(records.length, 1, serve.output());
    assert.equal(records[0]!.authenticatedUser, 'alice', 'the collector proved who sent it through STS');
    assert.equal(records[0]!.record.identity_source, 'identity-center');
  } finally {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
    assert.equal(await command.stop(), 0);
    await rm(home, { recursive: true, force: true });
  }
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
