import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startAuditCollector } from '../../src/emulator/audit-collector.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { identityCenterServeEnv, startServe } from '../support/serve-process.ts';
import { waitFor } from './support.ts';

test('serve with Identity Center: the identity proof goes to the STS endpoint of sign-in.json, so the usage reaches the audit endpoint', { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-serve-usage-'));
  const registry = new CredentialRegistry();
  const emulator = await startEmulator({ registry, services: [createIdentityCenterEmulator(registry, { autoApproveAs: 'grace' }).routes, createStsEmulator(registry)] });
  // The org's collector verifies proofs against that STS endpoint only.
  const collector = await startAuditCollector({ databasePath: join(home, 'collector.sqlite'), stsEndpoint: emulator.url });
  writeFileSync(
    join(home, 'sign-in.json'),
    JSON.stringify({
      source: 'identity-center',
      memoryOnlyVault: true,
      identityCenter: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'BedrockUser', stsEndpoint: emulator.url },
    }),
  );
  writeFileSync(join(home, 'settings.json'), JSON.stringify({ usage: { endpoint: collector.usageUrl } }));
  // Only sign-in.json names the STS endpoint: nothing in the environment would lead the proof there.
  const env = identityCenterServeEnv(home, emulator.url, { AWS_ENDPOINT_URL_STS: undefined });
  const serve = await startServe(['--port', '0'], env, 45_000);
  try {
    const response = await fetch(`${serve.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
    await waitFor(() => collector.records().length === 1, 15_000, `the record at the collector (unauthorized: ${collector.stats().unauthorized})\n${serve.output()}`);
    const [stored] = collector.records();
    assert.equal(stored!.authenticatedUser, 'grace', 'the collector verified the proof through STS');
    assert.equal(stored!.record.user, 'grace');
    assert.equal(collector.stats().unauthorized, 0);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
  } finally {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    await collector.close();
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
});
