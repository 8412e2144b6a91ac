import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { defaultChainProvider } from '../credentials/aws-sdk-sources.ts';
import type { OrgConfig } from './config.ts';

/**
 * Short-lived AWS credentials per person: STS AssumeRole into the org's Bedrock role with
 * SourceIdentity = the user (CloudTrail names them on every Bedrock call the session makes), session
 * tags (user, groups) and a session policy allowing only the models they are entitled to. The
 * gateway's own credentials come from its environment's chain (task/instance role, IRSA, ...);
 * long-lived keys are refused there as on laptops.
 */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** IAM's limit for an inline session policy, counted without whitespace. */
export const MAX_SESSION_POLICY_CHARS = 2048;

/** SourceIdentity and RoleSessionName allow [\w+=,.@-], 2 to 64 characters. */
export function stsName(user: string): string {
  return user.replace(/[^\w+=,.@-]/g, '-').slice(0, 64).padEnd(2, '-');
}

/** Session tag values allow letters, spaces, digits and _ . : / = + - @, up to 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

/** Foundation models a cross-region inference profile (us./eu./apac./global. + model id) routes to. */
function profileTarget(modelId: string): string | null {
  return /^(?:us|us-gov|eu|apac|jp|au|ca|global)\.(.+)$/.exec(modelId)?.[1] ?? null;
}

/** The session policy: invoke only these models (ids or `*` patterns), and read the catalog. */
export function sessionPolicy(models: string[]): string {
  const resources = models.includes('*')
    ? ['*']
    : [...new Set(models.flatMap((model) => {
        const target = profileTarget(model);
        return [
          `arn:aws:bedrock:*::foundation-model/${model}`,
          `arn:aws:bedrock:*:*:inference-profile/${model}`,
          ...(target ? [`arn:aws:bedrock:*::foundation-model/${target}`] : []),
        ];
      }))];
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'InvokeEntitledModels', Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], Resource: resources },
      {
        Sid: 'ReadCatalog',
        Effect: 'Allow',
        Action: ['bedrock:ListFoundationModels', 'bedrock:GetFoundationModel', 'bedrock:ListInferenceProfiles', 'bedrock:GetInferenceProfile'],
        Resource: '*',
      },
    ],
  });
}

export class BrokerError extends Error {}

export class CredentialBroker {
  readonly #aws: OrgConfig['aws'];
  readonly #sts: STSClient;

  constructor(aws: OrgConfig['aws'], options: { credentials?: AwsCredentialIdentityProvider; onWarning?: (message: string) => void } = {}) {
    this.#aws = aws;
    this.#sts = new STSClient({
      region: aws.region,
      ...(aws.stsEndpoint ? { endpoint: aws.stsEndpoint } : {}),
      credentials:
        options.credentials ??
        defaultChainProvider({ region: aws.region, allowLongLivedKeys: aws.allowLongLivedKeys, ...(options.onWarning ? { onWarning: options.onWarning } : {}) }),
      maxAttempts: 2,
    });
  }

  async issue(subject: { user: string; groups: string[] }, models: string[]): Promise<CredentialProcessOutput> {
    const policy = sessionPolicy(models);
    if (policy.length > MAX_SESSION_POLICY_CHARS) {
      throw new BrokerError(`the session policy for ${models.length} model patterns is over IAM's ${MAX_SESSION_POLICY_CHARS} characters: use fewer patterns (e.g. with *)`);
    }
    const name = stsName(subject.user);
    const { Credentials: credentials } = await this.#sts.send(
      new AssumeRoleCommand({
        RoleArn: this.#aws.roleArn,
        RoleSessionName: name,
        SourceIdentity: name,
        DurationSeconds: this.#aws.sessionDurationSeconds,
        Policy: policy,
        Tags: [
          { Key: 'user', Value: tagValue(subject.user) },
          ...(subject.groups.length > 0 ? [{ Key: 'groups', Value: tagValue(subject.groups.join(':')) }] : []),
        ],
      }),
    );
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new BrokerError('STS answered AssumeRole without credentials');
    }
    return {
      Version: 1,
      AccessKeyId: credentials.AccessKeyId,
      SecretAccessKey: credentials.SecretAccessKey,
      SessionToken: credentials.SessionToken,
      Expiration: credentials.Expiration.toISOString(),
    };
  }

  destroy(): void {
    this.#sts.destroy();
  }
}
