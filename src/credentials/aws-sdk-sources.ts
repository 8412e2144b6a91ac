import { fromEnv, fromIni } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { SignInRequiredError } from './sign-in-required-error.ts';
import { CredentialConfigurationError } from './errors.ts';
import { SignInRequiredSignal } from './credential-source.ts';
import type { CredentialSource, CredentialSourceKind, CredentialStatus, SignedInIdentity } from './credential-source.ts';
import { createRefreshingProvider } from './refreshing-provider.ts';
import type { RefreshingProvider } from './refreshing-provider.ts';
import { sessionNameFromArn } from './util.ts';

export const LONG_LIVED_KEYS_WARNING =
  'Long-lived AWS access keys (an IAM user key without a session token) are in use because settings allow them. Prefer Identity Center or your org gateway: these keys do not expire.';

export interface SdkSourceOptions {
  /** Allow IAM user keys without a session token (warns). aws-profile refuses them otherwise. */
  allowLongLivedKeys?: boolean;
  /** STS region for identity(); default AWS_REGION or us-east-1. */
  region?: string;
  stsEndpoint?: string;
  refreshAheadMs?: number;
  now?: () => number;
}

/** A credential is long-lived when it has no session token (IAM user access keys). */
export function isLongLived(credentials: AwsCredentialIdentity): boolean {
  return !credentials.sessionToken;
}

/**
 * The SDK's own providers behind our refreshing cache: `env` (fromEnv) and `aws-profile` (fromIni,
 * which covers `aws sso login` profiles, credential_process, assumed roles and static keys).
 */
abstract class SdkCredentialSource implements CredentialSource {
  abstract readonly kind: CredentialSourceKind;
  readonly credentials: AwsCredentialIdentityProvider;
  protected readonly signal = new SignInRequiredSignal();
  protected readonly provider: RefreshingProvider;
  protected readonly options: SdkSourceOptions;
  #warning: string | null = null;
  #identity: SignedInIdentity | null = null;
  #lastError: unknown = null;

  constructor(options: SdkSourceOptions) {
    this.options = options;
    this.provider = createRefreshingProvider({
      fetch: () => this.#fetch(),
      ...(options.refreshAheadMs !== undefined ? { refreshAheadMs: options.refreshAheadMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.credentials = this.provider.provider;
  }

  protected abstract inner(): AwsCredentialIdentityProvider;
  /** Turns the SDK's error into ours (e.g. an ended `aws sso login` session -> SignInRequiredError). */
  protected abstract translate(error: unknown): unknown;
  protected abstract longLivedAllowedByDefault(): boolean;

  async #fetch(): Promise<AwsCredentialIdentity> {
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await this.inner()();
    } catch (error) {
      const translated = this.translate(error);
      this.#lastError = translated;
      if (translated instanceof SignInRequiredError) this.signal.raise();
      throw translated;
    }
    if (isLongLived(credentials)) {
      if (!this.options.allowLongLivedKeys && !this.longLivedAllowedByDefault()) {
        throw new CredentialConfigurationError(
          `Refusing long-lived AWS access keys (${this.kind}): Bedrock Bridge uses short-lived credentials only. Use an \`aws sso login\` or credential_process profile, or set "allowLongLivedKeys": true in settings if you accept the risk.`,
        );
      }
      this.#warning = LONG_LIVED_KEYS_WARNING;
    } else {
      this.#warning = null;
    }
    this.#lastError = null;
    this.signal.reset();
    return credentials;
  }

  onSignInRequired(listener: () => void): () => void {
    return this.signal.on(listener);
  }

  status(): CredentialStatus {
    const current = this.provider.current();
    return {
      source: this.kind,
      signedIn: current !== null || this.#lastError === null,
      user: this.#identity?.user ?? null,
      credentialsExpireAt: current?.expiration ?? null,
      sessionEndsAt: null,
      warning: this.#warning,
    };
  }

  async identity(): Promise<SignedInIdentity | null> {
    if (this.#identity) return this.#identity;
    const sts = new STSClient({
      region: this.options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      credentials: this.credentials,
      ...(this.options.stsEndpoint ? { endpoint: this.options.stsEndpoint } : {}),
    });
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      const arn = out.Arn ?? '';
      const roleName = /:assumed-role\/([^/]+)\//.exec(arn)?.[1];
      this.#identity = {
        user: sessionNameFromArn(arn),
        source: this.kind,
        ...(out.Account ? { accountId: out.Account } : {}),
        ...(roleName ? { roleName } : {}),
        arn,
      };
      return this.#identity;
    } finally {
      sts.destroy();
    }
  }
}

/** `env`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (CI, aws-vault exec). Long-lived keys warn. */
export class EnvSource extends SdkCredentialSource {
  readonly kind = 'env' as const;
  readonly #inner = fromEnv();
  protected inner(): AwsCredentialIdentityProvider {
    return this.#inner;
  }
  protected translate(error: unknown): unknown {
    return new CredentialConfigurationError(
      `No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)${error instanceof Error ? `: ${error.message}` : ''}`,
    );
  }
  protected longLivedAllowedByDefault(): boolean {
    return true;
  }
}

export interface AwsProfileSourceOptions extends SdkSourceOptions {
  profile?: string;
  /** Tests: the shared files' paths (else AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE / ~/.aws). */
  filepath?: string;
  configFilepath?: string;
}

/** `aws-profile`: an existing AWS CLI profile through the SDK's providers. Long-lived keys refused unless allowed. */
export class AwsProfileSource extends SdkCredentialSource {
  readonly kind = 'aws-profile' as const;
  readonly profile: string;
  readonly #inner: AwsCredentialIdentityProvider;

  constructor(options: AwsProfileSourceOptions = {}) {
    super(options);
    this.profile = options.profile ?? process.env.AWS_PROFILE ?? 'default';
    this.#inner = fromIni({
      profile: this.profile,
      ignoreCache: true,
      ...(options.filepath ? { filepath: options.filepath } : {}),
      ...(options.configFilepath ? { configFilepath: options.configFilepath } : {}),
    });
  }
  protected inner(): AwsCredentialIdentityProvider {
    return this.#inner;
  }
  protected translate(error: unknown): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (/sso/i.test(message) && /(expired|refresh|token|login)/i.test(message)) {
      return new SignInRequiredError(`The AWS CLI session of profile "${this.profile}" has ended: run \`aws sso login --profile ${this.profile}\`, then retry.`);
    }
    return error;
  }
  protected longLivedAllowedByDefault(): boolean {
    return false;
  }
}
