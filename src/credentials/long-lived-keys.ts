import { getDefaultRoleAssumer } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CredentialConfigurationError } from './errors.ts';

/*
 * The rule of issue 3: long-lived AWS access keys (an IAM user key: no session token) found in
 * ~/.aws/credentials or ~/.aws/config are refused unless settings allow them, and warned about when
 * they do. The SDK's providers reach such keys two ways: handed over as they are (a `default`
 * profile with aws_access_key_id), or used out of sight to assume a role (`role_arn` +
 * `source_profile`), after which the credentials the SDK returns do have a session token. Both
 * are checked here.
 */

export const LONG_LIVED_KEYS_WARNING =
  'Long-lived AWS access keys (an IAM user key without a session token) are in use because settings allow them. Prefer Identity Center or your org gateway: these keys do not expire.';

export interface LongLivedKeyPolicy {
  /** Settings allow long-lived keys from anywhere (`allowLongLivedKeys: true`). */
  allow: boolean;
  /** Keys from the process environment pass without the setting (`env`, the default chain): CI often has nothing else. */
  acceptEnvironmentKeys: boolean;
  /** Names the source in the refusal, e.g. `aws-profile "work"`. */
  source: string;
}

/** A credential is long-lived when it has no session token (IAM user access keys). */
export function isLongLived(credentials: AwsCredentialIdentity): boolean {
  return !credentials.sessionToken;
}

/**
 * Whether the SDK read these credentials from the process environment itself (fromEnv tags them
 * CREDENTIALS_ENV_VARS) rather than through a profile of the shared files.
 */
export function fromEnvironment(credentials: AwsCredentialIdentity): boolean {
  const features = (credentials as { $source?: Record<string, unknown> }).$source ?? {};
  return 'CREDENTIALS_ENV_VARS' in features && !Object.keys(features).some((feature) => feature.startsWith('CREDENTIALS_PROFILE'));
}

export function longLivedKeysRefused(source: string): CredentialConfigurationError {
  return new CredentialConfigurationError(
    `Refusing long-lived AWS access keys (${source}): Bedrock Bridge uses short-lived credentials only. Sign in with Identity Center or your org gateway, or use an \`aws sso login\` or credential_process profile. If you accept the risk, allow them with the setting "allowLongLivedKeys": true (\`auth.allowLongLivedKeys\` in settings, or \`bedrock-bridge login --allow-long-lived-keys\`).`,
  );
}

/** What a policed fetch returned, and whether long-lived keys (allowed) were used to get it. */
export interface PolicedCredentials {
  credentials: AwsCredentialIdentity;
  longLivedKeysInUse: boolean;
}

/** What fromIni calls to turn source credentials into a role's (STS AssumeRole). */
export type RoleAssumer = ReturnType<typeof getDefaultRoleAssumer>;

/**
 * Runs an SDK provider under the policy. `build` gets the role assumer to hand to fromIni /
 * fromNodeProviderChain: the SDK's own (STS AssumeRole), but it first looks at the keys the role is
 * assumed with. The region and profile feed the STS client as the SDK's built-in assumer would get them.
 */
export function policedProvider(
  policy: LongLivedKeyPolicy,
  sts: { region?: string | undefined; profile?: string | undefined },
  build: (roleAssumer: RoleAssumer) => AwsCredentialIdentityProvider,
): (properties?: Record<string, unknown>) => Promise<PolicedCredentials> {
  const accepted = (credentials: AwsCredentialIdentity) => policy.allow || (policy.acceptEnvironmentKeys && fromEnvironment(credentials));
  let assumer: RoleAssumer | null = null;
  // Role credentials got with (allowed) long-lived keys. Kept by object, not as a flag of the last
  // fetch: the SDK's chain may hand the same memoized credentials to many calls, concurrently.
  const viaLongLivedKeys = new WeakSet<AwsCredentialIdentity>();
  const roleAssumer: RoleAssumer = async (sourceCredentials, params) => {
    const longLived = isLongLived(sourceCredentials);
    if (longLived && !accepted(sourceCredentials)) throw longLivedKeysRefused(`${policy.source}, to assume ${params.RoleArn ?? 'a role'}`);
    assumer ??= getDefaultRoleAssumer({ parentClientConfig: { ...(sts.region ? { region: sts.region } : {}), ...(sts.profile ? { profile: sts.profile } : {}) } });
    const assumed = await assumer(sourceCredentials, params);
    if (longLived) viaLongLivedKeys.add(assumed);
    return assumed;
  };
  const inner = build(roleAssumer);
  return async (properties) => {
    const credentials = await inner(properties);
    const longLived = isLongLived(credentials);
    if (longLived && !accepted(credentials)) throw longLivedKeysRefused(policy.source);
    return { credentials, longLivedKeysInUse: longLived || viaLongLivedKeys.has(credentials) };
  };
}
