import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdentityCenterSource } from '../../src/credentials/identity-center.ts';
import { SignInRequiredError } from '../../src/credentials/sign-in-required-error.ts';
import { MemoryVault } from '../../src/credentials/vault.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createIdentityCenterEmulator } from '../../src/emulator/identity-center.ts';
import { createStsEmulator } from '../../src/emulator/sts.ts';
import { serveApps } from './helpers.ts';

test('after the org ends a session, a sign-in by another process sharing the vault brings the running source back without a restart', async () => {
  const registry = new CredentialRegistry();
  const { routes, control: idc } = createIdentityCenterEmulator(registry);
  const server = await serveApps([routes, createStsEmulator(registry)]);
  // One keychain, two processes: the running `serve` and a `bedrock-bridge login` next to it.
  const vault = new MemoryVault();
  const sourceFor = () =>
    new IdentityCenterSource({
      settings: { startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', oidcEndpoint: server.url, portalEndpoint: server.url, stsEndpoint: server.url },
      vault,
      ui: { prompt: (prompt) => idc.approve(prompt.userCode, 'alice@example.com') },
    });
  const serving = sourceFor();
  const login = sourceFor();
  try {
    await serving.signIn();
    assert.ok((await serving.credentials()).sessionToken);
    let signInRequired = 0;
    serving.onSignInRequired(() => {
      signInRequired += 1;
    });

    // The org ends the session: the running source learns it on its next renewal and wipes the vault.
    idc.revokeSession('alice@example.com');
    await assert.rejects(serving.credentials({ forceRefresh: true }), SignInRequiredError);
    assert.equal(serving.status().signedIn, false);
    assert.equal(signInRequired, 1);

    // `bedrock-bridge login` in the other process stores a new session in the shared vault.
    await login.signIn();

    // The running source takes it up on its next use (the vault is read again at most once a second).
    // Forced, as the Bedrock clients' retry asks once Bedrock refuses the ended session's credentials.
    const deadline = Date.now() + 5000;
    let credentials = null;
    while (credentials === null && Date.now() < deadline) {
      credentials = await serving.credentials({ forceRefresh: true }).catch((error: unknown) => {
        assert.ok(error instanceof SignInRequiredError, String(error));
        return null;
      });
      if (credentials === null) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(credentials?.sessionToken, 'credentials again, without restarting');
    assert.equal(serving.status().signedIn, true);

    // And the end of this new session is announced again (the signal was re-armed).
    idc.revokeSession('alice@example.com');
    await assert.rejects(serving.credentials({ forceRefresh: true }), SignInRequiredError);
    assert.equal(signInRequired, 2);
  } finally {
    serving.destroy();
    login.destroy();
    await server.close();
  }
});
