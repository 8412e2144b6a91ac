import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator, type AssumedRoleSession } from '../../src/emulator/sts.ts';
import { CredentialBroker, sessionPolicy, stsName } from '../../src/org/credential-broker.ts';

/**
 * The broker's own credentials come from its environment's default chain; long-lived keys there (an
 * IAM user's, no session token) are refused unless the configuration allows them, as on laptops.
 */
const registry = new CredentialRegistry();
const sessions: AssumedRoleSession[] = [];
let emulator: RunningEmulator;

before(async () => {
  emulator = await startEmulator({ registry, services: [createStsEmulator(registry, { onAssumeRole: (s) => sessions.push(s) })] });
  // The emulator's fixed key pair: an IAM user's kind of key, without a session token.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});
after(() => emulator?.close());

const aws = (allowLongLivedKeys: boolean) => ({ region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser', sessionDurationSeconds: 900, allowLongLivedKeys, stsEndpoint: emulator.url });

test('long-lived keys in the gateway\'s environment are refused, and nothing reaches STS', async () => {
  const broker = new CredentialBroker(aws(false));
  await assert.rejects(broker.issue({ user: 'ann', groups: [] }, ['*']), /Refusing long-lived AWS access keys/);
  assert.equal(sessions.length, 0);
  broker.destroy();
});

test('allowed by configuration, they work, with a warning', async () => {
  const warnings: string[] = [];
  const broker = new CredentialBroker(aws(true), { onWarning: (message) => warnings.push(message) });
  const issued = await broker.issue({ user: 'Ann Smith (ops)', groups: ['eng', 'on call'] }, ['*']);
  assert.equal(issued.Version, 1);
  assert.match(warnings[0] ?? '', /Long-lived AWS access keys .* are in use/);
  assert.deepEqual({ ...sessions.at(-1), accessKeyId: null, policy: null }, {
    roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser', sessionName: 'Ann-Smith--ops-', sourceIdentity: 'Ann-Smith--ops-',
    tags: { user: 'Ann Smith _ops_', groups: 'eng:on call' }, policy: null, durationSeconds: 900, accessKeyId: null,
  });
  broker.destroy();
});

test('names and policies fit STS: session names sanitised, all models as *, too many patterns refused before STS', async () => {
  assert.equal(stsName('a'), 'a-');
  assert.equal(stsName('x'.repeat(80)).length, 64);
  assert.deepEqual((JSON.parse(sessionPolicy(['*'])) as { Statement: { Resource: unknown }[] }).Statement[0]?.Resource, ['*']);
  const broker = new CredentialBroker(aws(true));
  const many = Array.from({ length: 40 }, (_, i) => `anthropic.claude-model-number-${i}-v1:0`);
  await assert.rejects(broker.issue({ user: 'ann', groups: [] }, many), /session policy for 40 model patterns is over IAM's 2048 characters/);
  broker.destroy();
});
