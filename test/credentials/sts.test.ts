import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { serveApps } from './helpers.ts';

const ROLE = 'arn:aws:sts::111122223333:assumed-role/Developer';

test('STS GetCallerIdentity through the real client', async () => {
  const registry = new CredentialRegistry();
  const creds = registry.issue('alice@example.com', ROLE, 3600_000);
  const server = await serveApps([createStsEmulator(registry)]);
  try {
    const sts = new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: creds });
    const out = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(out.Arn, `${ROLE}/alice@example.com`);
    assert.equal(out.Account, '111122223333');
    assert.match(out.UserId ?? '', /^AROA[A-Z0-9]+:alice@example\.com$/);

    // Wrong secret -> SignatureDoesNotMatch (its first character changed: a random secret may start with 'x')
    const wrongSecret = (creds.secretAccessKey.startsWith('x') ? 'y' : 'x') + creds.secretAccessKey.slice(1);
    const bad = new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: { ...creds, secretAccessKey: wrongSecret }, maxAttempts: 1 });
    await assert.rejects(bad.send(new GetCallerIdentityCommand({})), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'SignatureDoesNotMatch');
      assert.equal(e.$metadata?.httpStatusCode, 403);
      return true;
    });
    // Unknown key -> InvalidClientTokenId
    const unknown = new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: { accessKeyId: 'ASIAUNKNOWN', secretAccessKey: 's', sessionToken: 't' }, maxAttempts: 1 });
    await assert.rejects(unknown.send(new GetCallerIdentityCommand({})), { name: 'InvalidClientTokenId' });
    // Revoked user -> InvalidClientTokenId
    registry.revokeUser('alice@example.com');
    await assert.rejects(new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: creds, maxAttempts: 1 }).send(new GetCallerIdentityCommand({})), { name: 'InvalidClientTokenId' });
    // Expired credentials -> ExpiredToken
    const expired = registry.issue('bob', ROLE, -1000);
    await assert.rejects(new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: expired, maxAttempts: 1 }).send(new GetCallerIdentityCommand({})), { name: 'ExpiredToken' });
  } finally {
    await server.close();
  }
});

test('STS honours AWS_ENDPOINT_URL_STS and verifies extra signed headers (identity proof replay)', async () => {
  const registry = new CredentialRegistry();
  const creds = registry.issue('carol', ROLE, 3600_000);
  const server = await serveApps([createStsEmulator(registry)]);
  const saved = process.env.AWS_ENDPOINT_URL_STS;
  process.env.AWS_ENDPOINT_URL_STS = server.url;
  try {
    const out = await new STSClient({ region: 'eu-west-1', credentials: creds }).send(new GetCallerIdentityCommand({}));
    assert.equal(out.Arn, `${ROLE}/carol`);

    const url = new URL(server.url + '/');
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const signer = new SignatureV4({ service: 'sts', region: 'us-east-1', credentials: creds, sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-bedrock-bridge-audience': 'https://audit.example.com/usage',
      },
      body,
    });
    const headers = signed.headers as Record<string, string>;
    assert.match(headers['authorization'] ?? '', /x-bedrock-bridge-audience/);
    const send = (h: Record<string, string>) => {
      const { host: _host, ...rest } = h;
      return fetch(server.url + '/', { method: 'POST', headers: rest, body });
    };
    const ok = await send(headers);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<Arn>arn:aws:sts::111122223333:assumed-role\/Developer\/carol<\/Arn>/);

    const tampered = await send({ ...headers, 'x-bedrock-bridge-audience': 'https://evil.example.com/usage' });
    assert.equal(tampered.status, 403);
    const text = await tampered.text();
    assert.match(text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(text, /<ErrorResponse/);

    const missing = { ...headers };
    delete missing['x-bedrock-bridge-audience'];
    assert.equal((await send(missing)).status, 403);
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
    else process.env.AWS_ENDPOINT_URL_STS = saved;
    await server.close();
  }
});
