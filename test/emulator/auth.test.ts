import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CredentialRegistry,
  DEFAULT_EMULATOR_BEARER_TOKEN,
  DEFAULT_EMULATOR_CREDENTIALS,
  startEmulator,
  verifySigV4Request,
  type RunningEmulator,
} from '../../src/emulator/index.ts';

const NOVA = 'amazon.nova-micro-v1:0';
let emulator: RunningEmulator;
const clients: BedrockRuntimeClient[] = [];

function runtime(config: ConstructorParameters<typeof BedrockRuntimeClient>[0]): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1, ...config });
  clients.push(client);
  return client;
}

function converse(client: BedrockRuntimeClient) {
  return client.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
}

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  for (const c of clients) c.destroy();
  await emulator.close();
});

describe('SigV4 through the real SDK', () => {
  it('accepts the default credentials', async () => {
    const out = await converse(runtime({ credentials: DEFAULT_EMULATOR_CREDENTIALS }));
    assert.equal(out.output!.message!.content![0]!.text, 'echo: hi');
  });

  it('rejects a wrong secret with InvalidSignatureException (403) and the real message', async () => {
    const client = runtime({ credentials: { accessKeyId: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } });
    await assert.rejects(converse(client), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'InvalidSignatureException');
      assert.equal(error.$metadata?.httpStatusCode, 403);
      assert.match(error.message, /^The request signature we calculated does not match the signature you provided/);
      return true;
    });
    const rec = emulator.recorder.last()!;
    assert.equal(rec.auth, 'none');
    assert.equal(rec.errorType, 'InvalidSignatureException');
  });

  it('rejects an unknown access key with UnrecognizedClientException', async () => {
    const client = runtime({ credentials: { accessKeyId: 'UNKNOWNKEY0000000000', secretAccessKey: 'x' } });
    await assert.rejects(converse(client), { name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
  });

  it('accepts issued session credentials, and rejects them without their token or once expired', async () => {
    const issued = emulator.registry.issue('alice', 'arn:aws:sts::111122223333:assumed-role/Dev', 60_000);
    const ok = await converse(runtime({ credentials: issued }));
    assert.equal(ok.stopReason, 'end_turn');
    assert.equal(emulator.recorder.last()!.accessKeyId, issued.accessKeyId);
    assert.equal(emulator.recorder.last()!.headers['x-amz-security-token'], '[redacted]');

    await assert.rejects(converse(runtime({ credentials: { accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey } })), {
      name: 'UnrecognizedClientException',
    });

    emulator.registry.add({
      accessKeyId: 'ASIAEXPIRED000000000',
      secretAccessKey: 'expired-secret',
      sessionToken: 'expired-token',
      expiresAt: Date.now() - 1000,
      user: 'bob',
      assumedRoleArn: 'arn:aws:sts::111122223333:assumed-role/Dev',
    });
    await assert.rejects(
      converse(runtime({ credentials: { accessKeyId: 'ASIAEXPIRED000000000', secretAccessKey: 'expired-secret', sessionToken: 'expired-token' } })),
      { name: 'ExpiredTokenException' },
    );
  });

  it('accepts a Bedrock API key through the token option and through AWS_BEARER_TOKEN_BEDROCK', async () => {
    const viaOption = runtime({ token: { token: DEFAULT_EMULATOR_BEARER_TOKEN }, authSchemePreference: ['httpBearerAuth'] });
    assert.equal((await converse(viaOption)).stopReason, 'end_turn');
    assert.equal(emulator.recorder.last()!.auth, 'bearer');
    assert.equal(emulator.recorder.last()!.headers.authorization, 'Bearer [redacted]');

    process.env.AWS_BEARER_TOKEN_BEDROCK = DEFAULT_EMULATOR_BEARER_TOKEN;
    try {
      const viaEnv = runtime({});
      assert.equal((await converse(viaEnv)).stopReason, 'end_turn');
      assert.equal(emulator.recorder.last()!.auth, 'bearer');
    } finally {
      delete process.env.AWS_BEARER_TOKEN_BEDROCK;
    }
    const wrong = runtime({ token: { token: 'not-a-key' }, authSchemePreference: ['httpBearerAuth'] });
    await assert.rejects(converse(wrong), { name: 'AccessDeniedException' });
  });

  it('accepts a signature over the host without its port (as Portkey signs), and refuses a tampered body', async () => {
    const url = new URL(`${emulator.url}/model/${encodeURIComponent(NOVA)}/converse`);
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'portless' }] }] });
    const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', credentials: DEFAULT_EMULATOR_CREDENTIALS, sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: { host: url.hostname, 'content-type': 'application/json' },
      body,
    });
    const headers = { ...signed.headers };
    delete headers.host;
    const response = await fetch(url, { method: 'POST', headers, body });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(((await response.json()) as { output: { message: { content: { text: string }[] } } }).output.message.content[0]!.text, 'echo: portless');

    const tampered = await fetch(url, { method: 'POST', headers, body: body.replace('portless', 'tampered') });
    assert.equal(tampered.status, 403);
    assert.equal(tampered.headers.get('x-amzn-errortype')?.split(':')[0], 'InvalidSignatureException');
    assert.ok(tampered.headers.get('x-amzn-requestid'));
    assert.match(((await tampered.json()) as { message: string }).message, /signature we calculated does not match/);

    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype')?.split(':')[0], 'MissingAuthenticationTokenException');
  });
});

describe('verifySigV4Request (service-agnostic)', () => {
  const registry = new CredentialRegistry();
  registry.add({ accessKeyId: 'STSCALLERKEY00000000', secretAccessKey: 'sts-secret', user: 'carol', assumedRoleArn: 'arn:aws:iam::111122223333:user/carol' });
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';

  async function signSts(date: Date) {
    const signer = new SignatureV4({ service: 'sts', region: 'us-east-1', credentials: { accessKeyId: 'STSCALLERKEY00000000', secretAccessKey: 'sts-secret' }, sha256: Sha256 });
    return signer.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: 'sts.us-east-1.amazonaws.com',
        path: '/',
        query: {},
        headers: {
          host: 'sts.us-east-1.amazonaws.com',
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'x-bedrock-bridge-audience': 'https://audit.example.com/usage',
          'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        },
        body,
      },
      { signingDate: date },
    );
  }

  it('verifies an STS request signed with another service name and extra signed headers', async () => {
    const signed = await signSts(new Date());
    const result = await verifySigV4Request({ method: 'POST', rawUrl: '/', headers: signed.headers, body }, { registry, services: ['sts'] });
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.scheme === 'sigv4' && result.credentials.user === 'carol' && result.service === 'sts');

    const wrongService = await verifySigV4Request({ method: 'POST', rawUrl: '/', headers: signed.headers, body }, { registry, services: ['bedrock'] });
    assert.equal(wrongService.ok, false);

    const changedAudience = await verifySigV4Request(
      { method: 'POST', rawUrl: '/', headers: { ...signed.headers, 'x-bedrock-bridge-audience': 'https://evil.example.com' }, body },
      { registry },
    );
    assert.ok(!changedAudience.ok && changedAudience.reason === 'signature-mismatch');
  });

  it('refuses a signature older than five minutes', async () => {
    const signed = await signSts(new Date(Date.now() - 10 * 60_000));
    const result = await verifySigV4Request({ method: 'POST', rawUrl: '/', headers: signed.headers, body }, { registry });
    assert.ok(!result.ok && result.reason === 'signature-expired' && /^Signature expired: /.test(result.message));
  });

  it('refuses a body that does not match x-amz-content-sha256', async () => {
    const signed = await signSts(new Date());
    const result = await verifySigV4Request({ method: 'POST', rawUrl: '/', headers: signed.headers, body: `${body}&x=1` }, { registry });
    assert.ok(!result.ok && result.reason === 'content-sha256-mismatch');
  });
});
