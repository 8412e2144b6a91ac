/**
 * Bedrock rejects the credentials the gateway signed with while the credential source still takes
 * them as valid (revoked or expired early on the AWS side): the gateway refreshes them once and
 * retries once, unseen by the client; when no refresh can help, the client gets the right answer.
 * Real SDK, real sources, the wire-level emulators; the emulator's recorder says which key it saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvSource } from '../../src/credentials/aws-sdk-sources.ts';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type EmulatorOperation, type RecordedRequest } from '../../src/emulator/index.ts';
import type { RequestFinishedEvent } from '../../src/core/request-events.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { NO_AWS_ENV, withEnv } from '../support/env.ts';
import { openAIErrorOf, rawRequest, type RawResponse } from '../support/http.ts';
import { parseSse } from '../support/sse.ts';
import { chat, signedInIdentityCenter, withSignedInBridge, type SignedInIdentityCenter } from './helpers.ts';

const HOUR = 3600_000;

/** What one test step did upstream: the requests Bedrock saw, the request-finished events, the credential fetches. */
interface Observed {
  bedrock: RecordedRequest[];
  events: RequestFinishedEvent[];
  credentialFetches: number;
}

const RUNTIME_OPERATIONS: ReadonlySet<EmulatorOperation> = new Set(['Converse', 'ConverseStream', 'InvokeModel', 'InvokeModelWithResponseStream']);

/** Runs `step`, then reports what reached the emulated Bedrock runtime and Identity Center meanwhile. */
async function observe<T>(t: SignedInIdentityCenter | null, bridge: TestBridge, step: () => Promise<T>): Promise<{ result: T; seen: Observed }> {
  const recorder = bridge.emulator.recorder;
  const seqBefore = recorder.all().at(-1)?.seq ?? 0;
  const eventsBefore = bridge.events.length;
  const fetchesBefore = t?.idc.stats.roleCredentials ?? 0;
  const result = await step();
  const bedrock = recorder.filter((entry) => entry.seq > seqBefore && RUNTIME_OPERATIONS.has(entry.operation));
  await Promise.all(bedrock.map((entry) => entry.done));
  return {
    result,
    seen: { bedrock, events: bridge.events.slice(eventsBefore), credentialFetches: (t?.idc.stats.roleCredentials ?? 0) - fetchesBefore },
  };
}

/** The access key id the source holds now (no fetch). */
async function heldKey(t: SignedInIdentityCenter): Promise<string> {
  return (await t.source.credentials()).accessKeyId;
}

/** Bedrock refused `oldKey` (with `errorType`), then served the request signed with `newKey`. */
function assertRetriedWithNewKey(seen: Observed, oldKey: string, newKey: string, errorType: string): void {
  assert.notEqual(newKey, oldKey, 'the refresh brought other credentials');
  assert.equal(seen.credentialFetches, 1, 'exactly one extra credential fetch');
  const rejected = seen.bedrock.filter((entry) => entry.status === 403);
  const served = seen.bedrock.filter((entry) => entry.status === 200);
  assert.ok(rejected.length >= 1 && rejected.every((entry) => entry.accessKeyId === oldKey && entry.errorType === errorType), `rejected: ${JSON.stringify(rejected.map((e) => [e.accessKeyId, e.errorType]))}`);
  assert.ok(served.length >= 1 && served.every((entry) => entry.accessKeyId === newKey), 'the retry was signed with the new credentials');
  assert.equal(seen.bedrock.length, rejected.length + served.length);
}

/** Median latency of `count` plain chat requests, for the cost of the retry path. */
async function medianChatMs(bridge: TestBridge, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    assert.equal((await chat(bridge, 'hello')).status, 200);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function timed<T>(step: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  return step().then((value) => ({ value, ms: performance.now() - started }));
}

function assertWholeStream(response: RawResponse): void {
  assert.equal(response.status, 200);
  const events = parseSse(response.text);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as { error?: unknown; choices: { delta: { content?: string } }[] });
  assert.ok(chunks.every((chunk) => chunk.error === undefined), 'no error event');
  assert.ok(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('').trim().length > 0, 'content arrived');
}

test('credentials revoked on the AWS side while still held as valid: a chat completion refreshes them once and succeeds, signed with the new key', () =>
  withSignedInBridge('erin', HOUR, async (t, bridge) => {
    const baselineMs = await medianChatMs(bridge, 5);
    const oldKey = await heldKey(t);
    t.registry.revoke(oldKey);

    const { result, seen } = await observe(t, bridge, () => timed(() => chat(bridge, 'hello')));
    assert.equal(result.value.status, 200, result.value.text);
    assert.ok(result.value.json.choices[0].message.content.length > 0);
    assertRetriedWithNewKey(seen, oldKey, await heldKey(t), 'UnrecognizedClientException');
    assert.equal(seen.bedrock.length, 2, 'one rejected call, one retry');
    assert.equal(seen.events.length, 1, 'one request-finished event for the client request');
    assert.equal(seen.events[0]!.status, 200);
    assert.equal(seen.events[0]!.errorType, null);
    assert.ok(seen.events[0]!.usage.outputTokens > 0, 'usage counted once, from the retry');
    console.log(`retry path: ${result.ms.toFixed(1)} ms against a median of ${baselineMs.toFixed(1)} ms (+${(result.ms - baselineMs).toFixed(1)} ms)`);

    // The new credentials stay in use: the next request is signed with them at once.
    const next = await observe(t, bridge, () => chat(bridge, 'hello'));
    assert.equal(next.result.status, 200);
    assert.deepEqual(next.seen.bedrock.map((entry) => entry.accessKeyId), [await heldKey(t)]);
    assert.equal(next.seen.credentialFetches, 0);
  }));

test('credentials expired early on the AWS side: a stream retries before writing anything and reaches the client whole, ending in [DONE]', () =>
  withSignedInBridge('fay', HOUR, async (t, bridge) => {
    const oldKey = await heldKey(t);
    t.registry.expire(oldKey);

    const { result, seen } = await observe(t, bridge, () => chat(bridge, '[[chunks:12]] hello', true));
    assertWholeStream(result);
    assertRetriedWithNewKey(seen, oldKey, await heldKey(t), 'ExpiredTokenException');
    assert.equal(seen.bedrock.length, 2);
    assert.equal(seen.events.length, 1);
    assert.equal(seen.events[0]!.status, 200);
    assert.equal(seen.events[0]!.errorType, null);
    assert.equal(seen.events[0]!.stream, true);
  }));

test('embeddings: every call of the request rejected at once costs one refresh, each retried with the new key', () =>
  withSignedInBridge('gus', HOUR, async (t, bridge) => {
    const oldKey = await heldKey(t);
    t.registry.revoke(oldKey);
    const input = ['one', 'two', 'three'];

    const { result, seen } = await observe(t, bridge, () =>
      rawRequest({
        port: bridge.port,
        method: 'POST',
        path: '/v1/embeddings',
        headers: bridge.headers(),
        body: JSON.stringify({ model: 'amazon.titan-embed-text-v2:0', input }),
      }),
    );
    assert.equal(result.status, 200, result.text);
    assert.equal(result.json.data.length, input.length);
    assertRetriedWithNewKey(seen, oldKey, await heldKey(t), 'UnrecognizedClientException');
    assert.equal(seen.bedrock.filter((entry) => entry.status === 200).length, input.length, 'each text served once');
    assert.equal(seen.events.length, 1);
    assert.equal(seen.events[0]!.status, 200);
    assert.ok(seen.events[0]!.usage.inputTokens > 0);
  }));

test('concurrent requests meeting the rejection together share one refresh (single flight), and all succeed', () =>
  withSignedInBridge('hal', HOUR, async (t, bridge) => {
    const oldKey = await heldKey(t);
    t.registry.revoke(oldKey);
    const count = 8;

    const { result, seen } = await observe(t, bridge, () =>
      Promise.all(Array.from({ length: count }, (_, i) => chat(bridge, `hello ${i}`, i % 2 === 1))),
    );
    for (const response of result) {
      if (response.headers['content-type']?.toString().startsWith('text/event-stream')) assertWholeStream(response);
      else assert.equal(response.status, 200, response.text);
    }
    assertRetriedWithNewKey(seen, oldKey, await heldKey(t), 'UnrecognizedClientException');
    const rejected = seen.bedrock.filter((entry) => entry.status === 403).length;
    console.log(`single flight: ${rejected} of ${count} concurrent requests were rejected, ${seen.credentialFetches} credential fetch`);
    assert.ok(rejected >= 2, `the rejections overlapped (${rejected})`);
    assert.equal(seen.bedrock.filter((entry) => entry.status === 200).length, count);
    assert.equal(seen.events.length, count, 'one request-finished event per client request');
    assert.ok(seen.events.every((event) => event.status === 200 && event.errorType === null));
  }));

test('credentials and session both revoked: 401 sign_in_required at once (plain and stream), the sign-in signal raised once, nothing retried', () =>
  withSignedInBridge('ida', HOUR, async (t, bridge) => {
    assert.equal((await chat(bridge, 'hello')).status, 200);
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));
    t.idc.revokeSession('ida');

    for (const stream of [false, true]) {
      const { result, seen } = await observe(t, bridge, () => timed(() => chat(bridge, 'hello', stream)));
      console.log(`session revoked: ${stream ? 'streamed' : 'plain'} request answered ${result.value.status} in ${result.ms.toFixed(1)} ms`);
      assert.equal(result.value.status, 401);
      const error = openAIErrorOf(result.value);
      assert.equal(error.type, 'authentication_error');
      assert.equal(error.code, 'sign_in_required');
      assert.match(error.message, /tray/);
      assert.match(error.message, /`bedrock-bridge login`/);
      assert.ok(result.ms < 1000, `failed fast: ${result.ms.toFixed(0)} ms`);
      assert.equal(seen.bedrock.length, 1, 'the rejected call only: no retry without new credentials');
      assert.equal(seen.credentialFetches, 0);
      assert.equal(seen.events.length, 1);
      assert.equal(seen.events[0]!.status, 401);
      assert.equal(seen.events[0]!.errorType, 'authentication_error');
    }
    assert.equal(raised, 1, 'the tray/CLI is told once');
    assert.equal(t.source.status().signedIn, false);

    // Once the session is known to be over, a rejection asks nothing of Identity Center.
    const tokenCalls = t.idc.stats.createTokenRefresh;
    assert.equal((await chat(bridge, 'hello')).status, 401);
    assert.equal(t.idc.stats.createTokenRefresh, tokenCalls);
  }));

test('a permission error (AccessDeniedException) is not a credential rejection: passed through, nothing refreshed', () =>
  withSignedInBridge('jon', HOUR, async (t, bridge) => {
    assert.equal((await chat(bridge, 'hello')).status, 200);
    const { result, seen } = await observe(t, bridge, () => chat(bridge, '[[deny]] hello'));
    assert.equal(result.status, 403);
    assert.equal(openAIErrorOf(result).code, 'access_denied');
    assert.equal(seen.bedrock.length, 1);
    assert.equal(seen.credentialFetches, 0);
  }));

test('static credentials cannot be refreshed: a rejection passes through unchanged, Bedrock called once', async () => {
  const bridge = await startTestBridge();
  try {
    bridge.emulator.registry.revoke(DEFAULT_EMULATOR_CREDENTIALS.accessKeyId);
    for (const stream of [false, true]) {
      const { result, seen } = await observe(null, bridge, () => chat(bridge, 'hello', stream));
      assert.equal(result.status, 401);
      assert.equal(openAIErrorOf(result).code, 'aws_credentials_invalid');
      assert.equal(seen.bedrock.length, 1);
      assert.equal(seen.events.length, 1);
    }
  } finally {
    await bridge.close();
  }
});

test('--auth env: the environment gives the same credentials again, so a rejection passes through unchanged, Bedrock called once', async () => {
  const emulator = await startEmulator();
  try {
    const issued = emulator.registry.issue('kim', 'arn:aws:sts::111122223333:assumed-role/Dev', HOUR);
    await withEnv({ ...NO_AWS_ENV, AWS_ACCESS_KEY_ID: issued.accessKeyId, AWS_SECRET_ACCESS_KEY: issued.secretAccessKey, AWS_SESSION_TOKEN: issued.sessionToken }, async () => {
      const source = new EnvSource({});
      const bridge = await startTestBridge({ upstream: { emulator, credentials: source.credentials } });
      try {
        assert.equal((await chat(bridge, 'hello')).status, 200);
        emulator.registry.revoke(issued.accessKeyId);
        const { result, seen } = await observe(null, bridge, () => chat(bridge, 'hello'));
        assert.equal(result.status, 401);
        const error = openAIErrorOf(result);
        assert.equal(error.code, 'aws_credentials_invalid');
        assert.match(error.message, /security token included in the request is invalid/);
        assert.deepEqual(seen.bedrock.map((entry) => [entry.accessKeyId, entry.status]), [[issued.accessKeyId, 403]]);
        assert.equal(seen.events.length, 1);
        assert.equal(seen.events[0]!.status, 401);
      } finally {
        await bridge.close();
      }
    });
  } finally {
    await emulator.close();
  }
});

test('after a rejected request renewed the credentials, the model catalog (control plane) is read with the new ones too, not the refused ones until they expire', async () => {
  const t = await signedInIdentityCenter({ user: 'lea', emulator: { credentialTtlMs: HOUR } });
  const catalogErrors: unknown[] = [];
  try {
    const bridge = await startTestBridge({
      upstream: { emulator: t.emulator, credentials: t.source.credentials },
      gateway: { modelCacheMs: 0, onModelCatalogError: (error) => catalogErrors.push(error) },
    });
    try {
      const listModels = () => rawRequest({ port: bridge.port, method: 'GET', path: '/v1/models', headers: bridge.headers() });
      // An editor lists the models when it connects: the catalog is read with the credentials of the time.
      assert.equal((await listModels()).status, 200);
      const oldKey = await heldKey(t);
      t.registry.revoke(oldKey);
      assert.equal((await chat(bridge, 'hello')).status, 200, 'the chat request recovered with new credentials');
      const newKey = await heldKey(t);
      assert.notEqual(newKey, oldKey);

      const seqBefore = bridge.emulator.recorder.all().at(-1)?.seq ?? 0;
      const listed = await listModels();
      assert.equal(listed.status, 200);
      const reads = bridge.emulator.recorder.filter((entry) => entry.seq > seqBefore && (entry.operation === 'ListFoundationModels' || entry.operation === 'ListInferenceProfiles'));
      assert.ok(reads.length > 0, 'the catalog was read again');
      assert.deepEqual(
        reads.map((entry) => [entry.accessKeyId, entry.status]),
        reads.map(() => [newKey, 200]),
        'signed with the renewed credentials and served',
      );
      assert.deepEqual(catalogErrors, [], 'no catalog failure logged');
    } finally {
      await bridge.close();
    }
  } finally {
    await t.close();
  }
});

test('the Bedrock-native passthrough: a relayed stream whose credentials Bedrock rejects is re-signed with renewed ones and reaches the client whole', () =>
  withSignedInBridge('ivy', HOUR, async (t, bridge) => {
    const oldKey = await heldKey(t);
    t.registry.expire(oldKey);
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'relayed hello' }] });

    const { result, seen } = await observe(t, bridge, () =>
      rawRequest({
        port: bridge.port,
        method: 'POST',
        path: '/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream',
        headers: bridge.headers(),
        body,
      }),
    );
    assert.equal(result.status, 200, result.text);
    assert.equal(result.headers['content-type'], 'application/vnd.amazon.eventstream');
    assertRetriedWithNewKey(seen, oldKey, await heldKey(t), 'ExpiredTokenException');
    assert.equal(seen.bedrock.length, 2);
    assert.equal(seen.events.length, 1);
    assert.equal(seen.events[0]!.status, 200);
    assert.equal(seen.events[0]!.errorType, null);
    assert.ok(seen.events[0]!.usage.outputTokens > 0);
  }));
