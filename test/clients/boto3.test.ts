/**
 * boto3 (Python) through the Bedrock-native passthrough, configured as the README says: the bridge as
 * `endpoint_url`, the local key in AWS_BEARER_TOKEN_BEDROCK (botocore 1.39+ sends it as a Bearer token).
 * Skipped when python3 with boto3 1.39+ is not installed, unless REQUIRE_BOTO3=1 (CI).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';

function boto3Requirement(): string | false {
  const probe = spawnSync('python3', ['-c', 'import boto3, botocore; print(botocore.__version__)'], { encoding: 'utf8' });
  const version = probe.status === 0 ? probe.stdout.trim() : null;
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  if (version !== null && (major > 1 || (major === 1 && minor >= 39))) return false;
  const reason = `needs python3 with boto3/botocore 1.39 or later (found ${version ?? 'none'})`;
  if (process.env.REQUIRE_BOTO3 === '1') throw new Error(`REQUIRE_BOTO3=1, but this ${reason}`);
  return reason;
}

const skip = boto3Requirement();

/** Calls each operation once and prints what came back as one JSON line. */
const SCRIPT = `
import json, sys, boto3, botocore.exceptions
client = boto3.client("bedrock-runtime", region_name=sys.argv[2], endpoint_url=sys.argv[1])
out = {}
r = client.converse(modelId="claude-sonnet", messages=[{"role": "user", "content": [{"text": "hello from boto3"}]}])
out["converse"] = r["output"]["message"]["content"][0]["text"]
s = client.converse_stream(modelId="claude-haiku", messages=[{"role": "user", "content": [{"text": "streamed to boto3"}]}])
out["stream"] = "".join(e["contentBlockDelta"]["delta"]["text"] for e in s["stream"] if "contentBlockDelta" in e)
body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": [{"role": "user", "content": "native to boto3"}]})
r = client.invoke_model_with_response_stream(modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", body=body)
out["chunks"] = [json.loads(e["chunk"]["bytes"])["type"] for e in r["body"]]
try:
    client.converse(modelId="claude-sonnet", messages=[{"role": "user", "content": [{"text": "[[throttle]] [[retry-after:3]]"}]}])
except botocore.exceptions.ClientError as e:
    out["throttled"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`;

function runPython(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('python3', ['-c', SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('boto3 through the passthrough', { skip }, () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startTestBridge();
  });
  after(async () => {
    await bridge.close();
  });

  // Nothing of the developer's AWS setup: the key, one attempt, no config files.
  const pythonEnv = (token: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_BEARER_TOKEN_BEDROCK: token,
    AWS_MAX_ATTEMPTS: '1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  });

  it('converses, streams and invokes with the local key as its Bedrock API key, and sees Bedrock\'s errors as ClientErrors', async () => {
    const result = await runPython([bridge.origin, TEST_REGION], pythonEnv(bridge.apiKey));
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.converse, 'echo: hello from boto3');
    assert.equal(out.stream, 'echo: streamed to boto3');
    assert.deepEqual([out.chunks[0], out.chunks.at(-1)], ['message_start', 'message_stop']);
    assert.deepEqual(out.throttled, ['ThrottlingException', 429]);
    const routes = bridge.events.map((event) => event.route);
    assert.deepEqual(routes.slice(-4), ['/model/{modelId}/converse', '/model/{modelId}/converse-stream', '/model/{modelId}/invoke-with-response-stream', '/model/{modelId}/converse']);
    assert.match(bridge.events.at(-1)!.userAgent ?? '', /^Boto3\//);
  });

  it('gets AccessDeniedException for a wrong key', async () => {
    const result = await runPython([bridge.origin, TEST_REGION], pythonEnv('not-the-key'));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /AccessDeniedException.*Incorrect API key/);
  });
});
