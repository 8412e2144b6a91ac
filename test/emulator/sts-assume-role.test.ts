import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { CredentialRegistry } from '../../src/emulator/credential-registry.ts';
import { createStsEmulator, type AssumedRoleSession } from '../../src/emulator/sts.ts';

/** AssumeRole as the org gateway's broker sends it, through the real SDK client, checked as STS checks it. */
const ROLE_ARN = 'arn:aws:iam::111122223333:role/BedrockBridgeUser';
const registry = new CredentialRegistry();
const sessions: AssumedRoleSession[] = [];
let emulator: RunningEmulator;
let sts: STSClient;

before(async () => {
  emulator = await startEmulator({
    registry,
    services: [createStsEmulator(registry, { requireSourceIdentity: true, maxSessionDurationSeconds: 3600, onAssumeRole: (s) => sessions.push(s) })],
  });
  const caller = registry.issue('gateway', 'arn:aws:sts::111122223333:assumed-role/Gateway', 3600_000);
  sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: caller, maxAttempts: 1 });
});
after(() => emulator?.close());

const assume = (input: Partial<AssumeRoleCommandInput>) =>
  sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'ann', SourceIdentity: 'ann', ...input }));

async function refusal(input: Partial<AssumeRoleCommandInput>): Promise<string> {
  const error = await assume(input).then(() => null, (e: unknown) => e as Error);
  assert.ok(error, 'refused');
  return `${error.name}: ${error.message}`;
}

test('AssumeRole reports SourceIdentity, tags, policy and duration, and answers with SourceIdentity', async () => {
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: '*' }] };
  const answer = await assume({ DurationSeconds: 900, Policy: JSON.stringify(policy), Tags: [{ Key: 'user', Value: 'ann@example.com' }, { Key: 'groups', Value: 'eng:ops' }] });
  assert.equal(answer.SourceIdentity, 'ann');
  assert.equal(answer.AssumedRoleUser?.Arn, 'arn:aws:sts::111122223333:assumed-role/BedrockBridgeUser/ann');
  const expiresIn = (answer.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
  assert.ok(expiresIn > 840_000 && expiresIn <= 900_000, String(expiresIn));
  assert.deepEqual(sessions.at(-1), {
    roleArn: ROLE_ARN, sessionName: 'ann', sourceIdentity: 'ann', tags: { user: 'ann@example.com', groups: 'eng:ops' }, policy, durationSeconds: 900, accessKeyId: answer.Credentials?.AccessKeyId,
  });
});

test('AssumeRole refuses what STS refuses: duration, SourceIdentity, tags, policy, and a trust policy requiring SourceIdentity', async () => {
  assert.match(await refusal({ DurationSeconds: 7200 }), /^ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration/);
  assert.match(await refusal({ DurationSeconds: 600 }), /^ValidationError: DurationSeconds must be an integer of at least 900/);
  assert.match(await refusal({ SourceIdentity: 'ann smith' }), /^ValidationError: SourceIdentity must be/);
  assert.match(await refusal({ SourceIdentity: undefined }), /^AccessDenied: .*without sts:SourceIdentity/);
  assert.match(await refusal({ Tags: [{ Key: 'user', Value: 'a' }, { Key: 'USER', Value: 'b' }] }), /^ValidationError: Duplicate tag keys/);
  assert.match(await refusal({ Tags: [{ Key: 'user', Value: 'semi;colon' }] }), /^ValidationError: Tag value for user is not valid/);
  assert.match(await refusal({ Policy: '{not json' }), /^MalformedPolicyDocument/);
  const big = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: Array.from({ length: 60 }, (_, i) => `arn:aws:bedrock:*::foundation-model/model-${i}`) }] };
  assert.match(await refusal({ Policy: JSON.stringify(big) }), /^PackedPolicyTooLarge/);
});
