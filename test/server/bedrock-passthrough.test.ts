import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { BedrockClient, GetInferenceProfileCommand, ListFoundationModelsCommand, ListInferenceProfilesCommand } from '@aws-sdk/client-bedrock';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { DEFAULT_EMULATOR_BEARER_TOKEN, DEFAULT_EMULATOR_CREDENTIALS } from '../../src/emulator/index.ts';
import { isInferenceRoute } from '../../src/core/request-events.ts';
import { startTestBridge, TEST_REGION, type TestBridge } from '../support/bridge.ts';
import { withEnv } from '../support/env.ts';

const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU_PROFILE = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function claudeBody(prompt: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, messages: [{ role: 'user', content: prompt }], ...extra });
}

/** The event-stream frames of a body, decoded: headers as plain strings, payload as JSON (chunk bytes decoded too). */
function framesOf(bytes: Uint8Array): { headers: Record<string, unknown>; payload: any }[] {
  const frames = [];
  let offset = 0;
  const buffer = Buffer.from(bytes);
  while (offset < buffer.length) {
    const total = buffer.readUInt32BE(offset);
    const message = codec.decode(buffer.subarray(offset, offset + total));
    const headers = Object.fromEntries(Object.entries(message.headers).map(([name, header]) => [name, header.value]));
    let payload = JSON.parse(toUtf8(message.body));
    if (typeof payload.bytes === 'string') payload = JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8'));
    frames.push({ headers, payload });
    offset += total;
  }
  return frames;
}

describe('Bedrock-native passthrough', () => {
  let bridge: TestBridge;
  let client: BedrockRuntimeClient;

  before(async () => {
    bridge = await startTestBridge({ models: { fast: 'amazon.nova-micro-v1:0' } });
    // The AWS SDK for JavaScript as a user configures it for the bridge: its endpoint and the local key as a Bedrock API key.
    client = new BedrockRuntimeClient({ region: TEST_REGION, endpoint: bridge.origin, token: { token: bridge.apiKey }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
  });
  after(async () => {
    client.destroy();
    await bridge.close();
  });

  /** A request straight to the emulator, or to the bridge, over HTTP/1.1 with its own bearer key. */
  const direct = (path: string, body: string) =>
    fetch(`${bridge.emulator.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${DEFAULT_EMULATOR_BEARER_TOKEN}`, 'content-type': 'application/json' }, body });
  const viaBridge = (path: string, body: string, init: RequestInit = {}) =>
    fetch(`${bridge.origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bridge.apiKey}`, 'content-type': 'application/json' }, body, ...init });

  it('answers Converse through the SDK (HTTP/2), signing upstream with the user\'s credentials, and records its usage', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new ConverseCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'hello passthrough' }] }] }));
    assert.equal(out.output?.message?.content?.[0]?.text, 'echo: hello passthrough');
    assert.deepEqual(out.usage, { inputTokens: 2, outputTokens: 3, totalTokens: 5 });
    const upstream = bridge.emulator.recorder.last('Converse')!;
    assert.equal(upstream.auth, 'sigv4');
    assert.equal(upstream.accessKeyId, DEFAULT_EMULATOR_CREDENTIALS.accessKeyId);
    assert.equal(upstream.httpVersion, '2.0');
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/converse');
    assert.ok(isInferenceRoute(event.route), 'the ledger records it');
    assert.equal(event.modelId, PROFILE);
    assert.equal(event.status, 200);
    assert.deepEqual(event.usage, { inputTokens: 2, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('streams ConverseStream events through the SDK and takes the usage from the metadata event', async () => {
    const finished = bridge.nextEvent();
    const started: string[] = [];
    const progress: { modelId: string | null; outputTokens: number }[] = [];
    const onStarted = (event: { route: string }) => started.push(event.route);
    const onProgress = (event: { modelId: string | null; outputTokens: number }) => progress.push(event);
    bridge.gateway.events.on('request-started', onStarted);
    bridge.gateway.events.on('request-progress', onProgress);
    const out = await client.send(new ConverseStreamCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'stream these four words' }] }] }));
    let text = '';
    let metadata;
    for await (const event of out.stream!) {
      text += event.contentBlockDelta?.delta?.text ?? '';
      if (event.metadata) metadata = event.metadata;
    }
    assert.equal(text, 'echo: stream these four words');
    assert.equal(metadata?.usage?.outputTokens, 5);
    const event = await finished;
    bridge.gateway.events.off('request-started', onStarted);
    bridge.gateway.events.off('request-progress', onProgress);
    assert.equal(event.route, '/model/{modelId}/converse-stream');
    assert.deepEqual(started, ['/model/{modelId}/converse-stream']);
    assert.equal(progress[0]?.modelId, PROFILE, 'the live log learns the model before the answer');
    assert.ok(progress.some((p) => p.outputTokens > 0), 'and the output so far while it streams');
    assert.equal(event.stream, true);
    assert.ok(event.timeToFirstTokenMs !== null);
    assert.deepEqual(event.usage, { inputTokens: 4, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('answers InvokeModel with Claude\'s native body; the usage comes from the token-count headers', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new InvokeModelCommand({ modelId: PROFILE, contentType: 'application/json', performanceConfigLatency: 'optimized', body: claudeBody('native hello') }));
    const message = JSON.parse(toUtf8(out.body));
    assert.equal(message.content[0].text, 'echo: native hello');
    assert.equal(out.contentType, 'application/json');
    const upstream = bridge.emulator.recorder.last('InvokeModel')!;
    assert.equal(upstream.headers['x-amzn-bedrock-performanceconfig-latency'], 'optimized', 'the operation\'s options reach Bedrock');
    assert.equal(upstream.auth, 'sigv4');
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/invoke');
    assert.deepEqual(event.usage, { inputTokens: 2, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('streams InvokeModelWithResponseStream chunks; the usage comes from the invocation metrics', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: PROFILE, contentType: 'application/json', body: claudeBody('native stream please') }));
    const types: string[] = [];
    for await (const part of out.body!) types.push(JSON.parse(toUtf8(part.chunk!.bytes!)).type);
    assert.deepEqual(types.slice(0, 2), ['message_start', 'content_block_start']);
    assert.equal(types.at(-1), 'message_stop');
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/invoke-with-response-stream');
    assert.deepEqual(event.usage, { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('counts tokens with the foundation model behind an alias or inference profile, and records no usage', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new CountTokensCommand({ modelId: HAIKU_PROFILE, input: { invokeModel: { body: fromUtf8(claudeBody('count these words')) } } }));
    assert.equal(out.inputTokens, 3);
    assert.equal(bridge.emulator.recorder.last('CountTokens')!.modelId, 'anthropic.claude-haiku-4-5-20251001-v1:0');
    const event = await finished;
    assert.equal(event.route, '/model/{modelId}/count-tokens');
    assert.equal(isInferenceRoute(event.route), false);
  });

  it('resolves the bridge\'s aliases in the path', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new ConverseCommand({ modelId: 'fast', messages: [{ role: 'user', content: [{ text: 'alias' }] }] }));
    assert.equal(out.output?.message?.content?.[0]?.text, 'echo: alias');
    assert.equal(bridge.emulator.recorder.last('Converse')!.modelId, 'amazon.nova-micro-v1:0');
    const event = await finished;
    assert.equal(event.requestedModel, 'fast');
    assert.equal(event.modelId, 'amazon.nova-micro-v1:0');
  });

  it('relays the bytes of a Converse answer and of a ConverseStream (frames not re-encoded) as the emulator sends them', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'same bytes [[tool]]' }] }], toolConfig: { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } } } } } }] } });
    for (const operation of ['converse', 'converse-stream']) {
      const expected = await direct(`/model/${PROFILE}/${operation}`, body);
      const relayed = await viaBridge(`/model/${PROFILE}/${operation}`, body);
      assert.equal(relayed.status, 200);
      assert.equal(relayed.headers.get('content-type'), expected.headers.get('content-type'));
      assert.deepEqual(Buffer.from(await relayed.arrayBuffer()), Buffer.from(await expected.arrayBuffer()), operation);
    }
  });

  it('relays InvokeModelWithResponseStream frames unchanged but for the per-request message id', async () => {
    const body = claudeBody('frames [[reasoning]]', { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2000 });
    const path = `/model/${PROFILE}/invoke-with-response-stream`;
    const expected = await direct(path, body);
    const relayed = await viaBridge(path, body);
    assert.equal(relayed.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    const mask = (frames: ReturnType<typeof framesOf>) => JSON.stringify(frames).replace(/msg_bdrk_[A-Za-z0-9_-]+/g, 'msg_bdrk_ID');
    const relayedFrames = framesOf(new Uint8Array(await relayed.arrayBuffer()));
    assert.equal(mask(relayedFrames), mask(framesOf(new Uint8Array(await expected.arrayBuffer()))));
    assert.ok(relayedFrames.some((frame) => frame.payload.delta?.type === 'signature_delta'), 'thinking signatures pass untouched');
  });

  it('passes a stream through as it comes: the first event long before the last', async () => {
    const started = Date.now();
    const out = await client.send(new ConverseStreamCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'one two three four five [[slow:400ms]]' }] }] }));
    let firstAt = 0;
    for await (const event of out.stream!) if (event.contentBlockDelta && firstAt === 0) firstAt = Date.now();
    const endedAt = Date.now();
    assert.ok(endedAt - firstAt >= 1500, `first delta ${firstAt - started} ms, end ${endedAt - started} ms`);
  });

  it('passes Bedrock\'s errors through with their status, type and message', async () => {
    await assert.rejects(
      client.send(new ConverseCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'slow down [[throttle]] [[retry-after:7]]' }] }] })),
      (error: any) => {
        assert.equal(error.name, 'ThrottlingException');
        assert.equal(error.$metadata.httpStatusCode, 429);
        assert.equal(error.message, 'Too many requests, please wait before trying again.');
        assert.equal(error.$response.headers['retry-after'], '7');
        return true;
      },
    );
    const finished = bridge.nextEvent();
    await assert.rejects(client.send(new InvokeModelCommand({ modelId: PROFILE, body: JSON.stringify({ max_tokens: 10, messages: [] }) })), { name: 'ValidationException', message: /anthropic_version/ });
    const event = await finished;
    assert.equal(event.status, 400);
    assert.equal(event.errorType, 'ValidationException');
  });

  it('reports an in-stream exception as the stream\'s outcome', async () => {
    const finished = bridge.nextEvent();
    const out = await client.send(new ConverseStreamCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'a b c d [[fail-mid-stream:throttling]]' }] }] }));
    await assert.rejects(async () => {
      for await (const _event of out.stream!);
    }, { name: 'ThrottlingException' });
    const event = await finished;
    assert.equal(event.status, 200);
    assert.equal(event.errorType, 'throttlingException');
  });

  it('refuses a wrong key, a SigV4-only client and an unknown model in AWS\'s error shape', async () => {
    const wrong = new BedrockRuntimeClient({ region: TEST_REGION, endpoint: bridge.origin, token: { token: 'not-the-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
    const sigv4 = new BedrockRuntimeClient({ region: TEST_REGION, endpoint: bridge.origin, credentials: DEFAULT_EMULATOR_CREDENTIALS, maxAttempts: 1 });
    try {
      const send = (c: BedrockRuntimeClient, modelId = PROFILE) => c.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      await assert.rejects(send(wrong), (error: any) => error.name === 'AccessDeniedException' && error.$metadata.httpStatusCode === 401 && /Incorrect API key/.test(error.message));
      await assert.rejects(send(sigv4), (error: any) => error.name === 'AccessDeniedException' && error.$metadata.httpStatusCode === 401 && /didn't provide an API key/.test(error.message));
      await assert.rejects(send(client, 'no-such-alias'), (error: any) => error.name === 'ResourceNotFoundException' && error.$metadata.httpStatusCode === 404 && /no-such-alias/.test(error.message));
    } finally {
      wrong.destroy();
      sigv4.destroy();
    }
  });

  it('a client that goes away mid-stream ends the upstream stream', async () => {
    const finished = bridge.nextEvent();
    const abort = new AbortController();
    const response = await viaBridge(`/model/${PROFILE}/converse-stream`, JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'a b c d e f g h [[slow:300ms]]' }] }] }), { signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    const event = await finished;
    assert.equal(event.errorType, 'client_closed_request');
    const upstream = bridge.emulator.recorder.last('ConverseStream')!;
    await upstream.done;
    assert.equal(upstream.errorType, 'ClientDisconnected');
  });

  it('serves the AWS SDK configured by environment only (AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_BEARER_TOKEN_BEDROCK), while the bridge keeps signing upstream with SigV4', async () => {
    await withEnv({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bridge.origin, AWS_BEARER_TOKEN_BEDROCK: bridge.apiKey, AWS_REGION: TEST_REGION }, async () => {
      const fromEnv = new BedrockRuntimeClient({ maxAttempts: 1 });
      try {
        const out = await fromEnv.send(new ConverseCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'configured by env' }] }] }));
        assert.equal(out.output?.message?.content?.[0]?.text, 'echo: configured by env');
        assert.equal(bridge.emulator.recorder.last('Converse')!.auth, 'sigv4', 'the local key never goes to Bedrock');
      } finally {
        fromEnv.destroy();
      }
    });
  });

  it('answers the control plane\'s read-only calls from the catalogue, in Bedrock\'s shape', async () => {
    const viaBridgeControl = new BedrockClient({ region: TEST_REGION, endpoint: bridge.origin, token: { token: bridge.apiKey }, authSchemePreference: ['httpBearerAuth'] });
    const upstream = new BedrockClient({ region: TEST_REGION, endpoint: bridge.emulator.url, credentials: DEFAULT_EMULATOR_CREDENTIALS });
    try {
      const listed = await viaBridgeControl.send(new ListInferenceProfilesCommand({ typeEquals: 'SYSTEM_DEFINED' }));
      const expected = await upstream.send(new ListInferenceProfilesCommand({ typeEquals: 'SYSTEM_DEFINED' }));
      assert.deepEqual(listed.inferenceProfileSummaries, expected.inferenceProfileSummaries);
      assert.equal(listed.nextToken, undefined);
      const profile = await viaBridgeControl.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: PROFILE }));
      assert.equal(profile.inferenceProfileId, PROFILE);
      assert.ok(profile.createdAt instanceof Date);
      const models = await viaBridgeControl.send(new ListFoundationModelsCommand({ byProvider: 'anthropic' }));
      assert.ok(models.modelSummaries!.length > 0);
      assert.ok(models.modelSummaries!.every((model) => model.providerName === 'Anthropic'));
      await assert.rejects(viaBridgeControl.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: 'us.nothing.here-v1:0' })), { name: 'ResourceNotFoundException' });
    } finally {
      viaBridgeControl.destroy();
      upstream.destroy();
    }
  });

  it('speaks HTTP/2 and HTTP/1.1 on one port to every route, with the Host check on HTTP/2\'s :authority', async () => {
    const session = connect(bridge.origin);
    const statusOf = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/v1/models', authorization: `Bearer ${bridge.apiKey}`, ...headers });
        stream.on('response', (response) => resolve(Number(response[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
    // A streamed chat completion: its HTTP/1.1 headers (transfer-encoding, connection) must not reach HTTP/2.
    const streamedChat = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', authorization: `Bearer ${bridge.apiKey}`, 'content-type': 'application/json' });
        let status = 0;
        let body = '';
        stream.on('response', (response) => (status = Number(response[':status'])));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end(JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'over http2' }] }));
      });
    try {
      assert.equal(await statusOf({}), 200);
      assert.equal(await statusOf({ ':authority': `evil.example:${bridge.port}` }), 403, 'a DNS-rebinding page is refused over HTTP/2 too');
      const chat = await streamedChat();
      assert.equal(chat.status, 200);
      assert.match(chat.body, /data: \[DONE\]\n\n$/);
    } finally {
      session.close();
    }
    const overHttp1 = await fetch(`${bridge.baseURL}/models`, { headers: bridge.headers() });
    assert.equal(overHttp1.status, 200);
  });
});

describe('closing the bridge with an HTTP/2 stream in flight', () => {
  it('lets the stream finish within the grace period, then closes', async () => {
    const bridge = await startTestBridge();
    const client = new BedrockRuntimeClient({ region: TEST_REGION, endpoint: bridge.origin, token: { token: bridge.apiKey }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
    try {
      const out = await client.send(new ConverseStreamCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'one two three [[slow:300ms]]' }] }] }));
      const iterator = out.stream![Symbol.asyncIterator]();
      await iterator.next();
      const closed = bridge.gateway.close(10_000);
      let text = '';
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.contentBlockDelta?.delta?.text ?? '';
      assert.equal(text, 'echo: one two three');
      await closed;
      await assert.rejects(client.send(new ConverseCommand({ modelId: PROFILE, messages: [{ role: 'user', content: [{ text: 'after' }] }] })));
    } finally {
      client.destroy();
      await bridge.close();
    }
  });
});
