import { fromEnv, fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SignInRequiredError } from './sign-in-required-error.ts';
import { CredentialConfigurationError } from './errors.ts';
import { SignInRequiredSignal } from './credential-source.ts';
import type { CredentialSource, CredentialSourceKind, CredentialStatus, SignedInIdentity } from './credential-source.ts';
import { LONG_LIVED_KEYS_WARNING, policedProvider } from './long-lived-keys.ts';
import type { PolicedCredentials } from './long-lived-keys.ts';
import { createRefreshingProvider } from './refreshing-provider.ts';
import type { RefreshingProvider } from './refreshing-provider.ts';
import { sessionNameFromArn } from './util.ts';
import { messageOf } from '../core/error-message.ts';

export { LONG_LIVED_KEYS_WARNING, isLongLived } from './long-lived-keys.ts';

export interface SdkSourceOptions {
  /**
   * Long-lived keys (IAM user keys, no session token). aws-profile refuses them unless true; env
   * accepts its own unless false. Either way they warn.
   */
  allowLongLivedKeys?: boolean;
  /** STS region for identity() (and a role profile's AssumeRole); default AWS_REGION or us-east-1. */
  region?: string;
  stsEndpoint?: string;
  refreshAheadMs?: number;
  now?: () => number;
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

  /** The SDK provider under the long-lived-keys policy (policedProvider). */
  protected abstract inner(): () => Promise<PolicedCredentials>;
  /** Turns the SDK's error into ours (e.g. an ended `aws sso login` session -> SignInRequiredError). */
  protected abstract translate(error: unknown): unknown;

  async #fetch(): Promise<PolicedCredentials['credentials']> {
    let fetched: PolicedCredentials;
    try {
      fetched = await this.inner()();
    } catch (error) {
      // Our own refusal (long-lived keys) says what to do already; translating it could misname it.
      const translated = error instanceof CredentialConfigurationError ? error : this.translate(error);
      this.#lastError = translated;
      if (translated instanceof SignInRequiredError) this.signal.raise();
      throw translated;
    }
    this.#warning = fetched.longLivedKeysInUse ? LONG_LIVED_KEYS_WARNING : null;
    this.#lastError = null;
    this.signal.reset();
    return fetched.credentials;
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
      tokenStorage: null,
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

/**
 * `env`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (CI, aws-vault exec), read by
 * fromEnv alone: never a file under ~/.aws, whatever AWS_PROFILE says. Long-lived keys warn.
 */
export class EnvSource extends SdkCredentialSource {
  readonly kind = 'env' as const;
  readonly #inner = policedProvider(
    { allow: false, acceptEnvironmentKeys: this.options.allowLongLivedKeys !== false, source: 'env' },
    {},
    () => fromEnv(),
  );
  protected inner(): () => Promise<PolicedCredentials> {
    return this.#inner;
  }
  protected translate(error: unknown): unknown {
    return new CredentialConfigurationError(
      `No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)${error instanceof Error ? `: ${error.message}` : ''}`,
    );
  }
}

export interface AwsProfileSourceOptions extends SdkSourceOptions {
  profile?: string;
  /** Tests: the shared files' paths (else AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE / ~/.aws). */
  filepath?: string;
  configFilepath?: string;
}

/**
 * `aws-profile`: an existing AWS CLI profile through the SDK's providers. Long-lived keys are refused
 * unless allowed, also when they only serve to assume the profile's role (`source_profile`).
 */
export class AwsProfileSource extends SdkCredentialSource {
  readonly kind = 'aws-profile' as const;
  readonly profile: string;
  readonly #inner: () => Promise<PolicedCredentials>;

  constructor(options: AwsProfileSourceOptions = {}) {
    super(options);
    this.profile = options.profile ?? process.env.AWS_PROFILE ?? 'default';
    this.#inner = policedProvider(
      { allow: options.allowLongLivedKeys === true, acceptEnvironmentKeys: false, source: `aws-profile "${this.profile}"` },
      { region: options.region, profile: this.profile },
      (roleAssumer) =>
        fromIni({
          profile: this.profile,
          ignoreCache: true,
          roleAssumer,
          ...(options.filepath ? { filepath: options.filepath } : {}),
          ...(options.configFilepath ? { configFilepath: options.configFilepath } : {}),
        }),
    );
  }
  protected inner(): () => Promise<PolicedCredentials> {
    return this.#inner;
  }
  protected translate(error: unknown): unknown {
    const message = messageOf(error);
    if (/sso/i.test(message) && /(expired|refresh|token|login)/i.test(message)) {
      return new SignInRequiredError(`The AWS CLI session of profile "${this.profile}" has ended: run \`aws sso login --profile ${this.profile}\`, then retry.`);
    }
    return error;
  }
}

export interface DefaultChainOptions {
  /** As for env: environment keys pass unless false; keys from the shared files only when true. */
  allowLongLivedKeys?: boolean;
  /** Region of a role profile's AssumeRole when the profile names none. */
  region?: string;
  /** Told once when long-lived keys are in use (allowed). */
  onWarning?: (warning: string) => void;
}

/**
 * `serve --auth default`: the SDK's default chain (environment, AWS_PROFILE or the `default` profile,
 * `aws sso login`, credential_process, web identity, container and instance roles), under the same
 * rule as aws-profile for what it finds in ~/.aws, and as env for the environment's keys. Not a
 * CredentialSource: the chain has no single identity or sign-in to report.
 */
export function defaultChainProvider(options: DefaultChainOptions = {}): AwsCredentialIdentityProvider {
  const profile = process.env.AWS_PROFILE;
  const policed = policedProvider(
    {
      allow: options.allowLongLivedKeys === true,
      acceptEnvironmentKeys: options.allowLongLivedKeys !== false,
      source: `the AWS SDK default chain, profile "${profile ?? 'default'}"`,
    },
    { region: options.region, profile },
    (roleAssumer) => fromNodeProviderChain({ roleAssumer }),
  );
  let warned = false;
  return async (properties) => {
    const { credentials, longLivedKeysInUse } = await policed(properties);
    if (longLivedKeysInUse && !warned) {
      warned = true;
      options.onWarning?.(LONG_LIVED_KEYS_WARNING);
    }
    return credentials;
  };
}
