import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { startEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createOrgGatewayEmulator } from '../../src/emulator/org-gateway.ts';
import { OrgGatewaySource } from '../../src/credentials/org-gateway.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { signedInIdentityCenter } from './helpers.ts';
import { startTestIdp } from './oidc-helpers.ts';

const MODEL = 'amazon.nova-micro-v1:0';

/** Sequential workers plus periodic concurrent bursts for `durationMs`; counts failures. */
async function load(client: BedrockRuntimeClient, durationMs: number, onTick?: (elapsed: number) => void) {
  const started = Date.now();
  let ok = 0;
  const failures: string[] = [];
  const one = async () => {
    try {
      const out = await client.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hello' }] }] }));
      assert.ok(out.output?.message);
      ok += 1;
    } catch (error) {
      failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };
  const worker = async () => {
    while (Date.now() - started < durationMs) await one();
  };
  const bursts = async () => {
    while (Date.now() - started < durationMs) {
      await Promise.all(Array.from({ length: 25 }, one));
      onTick?.(Date.now() - started);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  await Promise.all([worker(), worker(), worker(), bursts()]);
  return { ok, failures };
}

test('identity-center credentials expiring under steady load: zero failed requests, single-flight refreshes', async () => {
  const { emulator, idc, source, close } = await signedInIdentityCenter({ user: 'loaduser', emulator: { credentialTtlMs: 3000 } });
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emulator.url, credentials: source.credentials, maxAttempts: 1 });
  try {
    let expired = false;
    const { ok, failures } = await load(client, 9000, (elapsed) => {
      // Halfway through, the org expires every access token: refreshes must renew it via the refresh token.
      if (!expired && elapsed > 4000) {
        expired = true;
        idc.expireAccessTokens();
      }
    });
    if (failures.length) console.log(failures.slice(0, 5));
    console.log(`identity-center load: ${ok} requests ok, ${failures.length} failed, ${source.refreshCount} credential refreshes, ${idc.stats.createTokenRefresh} token refreshes`);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `only ${ok} requests`);
    assert.ok(source.refreshCount >= 3, `refreshes: ${source.refreshCount}`);
    assert.equal(idc.stats.roleCredentials, source.refreshCount, 'one GetRoleCredentials per refresh: single-flight');
    assert.ok(idc.stats.createTokenRefresh >= 1, 'the access token was renewed with the refresh token');
    assert.equal((await source.identity())?.user, 'loaduser');
  } finally {
    client.destroy();
    await close();
  }
});

test('org-gateway credentials expiring under steady load: zero failed requests', async () => {
  const idp = await startTestIdp();
  const registry = new CredentialRegistry();
  const gateway = createOrgGatewayEmulator(registry, { issuer: idp.issuer, clientId: idp.clientId, credentialTtlMs: 3000 });
  const emulator = await startEmulator({ registry, services: [gateway.routes] });
  const approvals: Promise<void>[] = [];
  const source = new OrgGatewaySource({
    settings: { url: emulator.url },
    vault: new MemoryVault(),
    ui: { prompt: (p) => void approvals.push(idp.approve(p.userCode, 'olga')) },
  });
  const provider: AwsCredentialIdentityProvider = source.credentials;
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emulator.url, credentials: provider, maxAttempts: 1 });
  try {
    await source.signIn();
    await Promise.all(approvals);
    const { ok, failures } = await load(client, 7000);
    if (failures.length) console.log(failures.slice(0, 5));
    console.log(`org-gateway load: ${ok} requests ok, ${failures.length} failed, ${source.refreshCount} credential refreshes`);
    assert.deepEqual(failures, []);
    assert.ok(source.refreshCount >= 3, `refreshes: ${source.refreshCount}`);
    assert.equal(gateway.control.stats.credentialsIssued, source.refreshCount);
  } finally {
    client.destroy();
    await emulator.close();
    await idp.close();
  }
});
