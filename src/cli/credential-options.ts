import { fromEnv } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Settings } from '../core/settings.ts';

/** What a credential source may look at when the server starts. */
export interface CredentialSourceContext {
  env: NodeJS.ProcessEnv;
  settings: Settings;
  region: string;
  /** Where the headless shell keeps its files (defaultDataDirectory()). */
  dataDirectory: string;
}

export interface CredentialSource {
  /** One line for `--help`. */
  description: string;
  /**
   * The provider the Bedrock clients use, or undefined for the AWS SDK's own default chain.
   * May throw to stop the server with a clear message (e.g. nothing configured).
   */
  create(context: CredentialSourceContext): Promise<AwsCredentialIdentityProvider | undefined>;
}

const SIGN_IN_DESCRIPTIONS = {
  'aws-profile': 'a named profile from ~/.aws (auth.awsProfile.profile, or AWS_PROFILE); temporary credentials only unless auth.allowLongLivedKeys',
  'identity-center': 'IAM Identity Center sign-in (set up with `bedrock-bridge login`); signs in on start when needed',
  'org-gateway': "your organisation's gateway (set up with `bedrock-bridge login --gateway URL`); signs in on start when needed",
} as const;

/**
 * `--auth <source>`: the one place credential sources are listed. Sign-in sources (Identity Center,
 * org gateway) are added here with registerCredentialSource() by the module that implements them.
 */
const sources = new Map<string, CredentialSource>([
  [
    'default',
    {
      description: "the AWS SDK's default chain: environment, ~/.aws profiles (AWS_PROFILE), `aws sso login` cache, container/instance roles",
      async create() {
        return undefined;
      },
    },
  ],
  [
    'env',
    {
      description: 'only the process environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): CI, `aws-vault exec`, wrappers',
      async create() {
        const provider = fromEnv();
        // Fail at start-up, not on the first request, when the variables are missing.
        try {
          await provider();
        } catch {
          throw new CredentialSourceError('--auth env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set in the environment.');
        }
        return provider;
      },
    },
  ],
  ...(['aws-profile', 'identity-center', 'org-gateway'] as const).map(
    (kind) =>
      [
        kind,
        {
          description: SIGN_IN_DESCRIPTIONS[kind],
          async create(context: CredentialSourceContext) {
            // Loaded only when used, so `serve` with env/default credentials never touches the vault.
            const { createCredentialSource } = await import('../credentials/index.ts');
            try {
              const source = await createCredentialSource(
                { ...(context.settings.auth as Record<string, unknown>), source: kind },
                { dataDir: context.dataDirectory, log: (line) => process.stderr.write(`${line}\n`) },
              );
              return source.credentials;
            } catch (error) {
              if (error instanceof Error && /Configuration|SignIn|NotEntitled/.test(error.name)) throw new CredentialSourceError(`--auth ${kind}: ${error.message}`);
              throw error;
            }
          },
        },
      ] as [string, CredentialSource],
  ),
]);

export function registerCredentialSource(name: string, source: CredentialSource): void {
  sources.set(name, source);
}

export function credentialSourceNames(): string[] {
  return [...sources.keys()];
}

export function credentialSourceHelp(): string {
  return [...sources].map(([name, source]) => `      ${name.padEnd(16)} ${source.description}`).join('\n');
}

/** A credential source cannot start; the message says what to do. */
export class CredentialSourceError extends Error {
  override readonly name: string = 'CredentialSourceError';
}

export class UnknownCredentialSourceError extends CredentialSourceError {
  override readonly name = 'UnknownCredentialSourceError';
}

/**
 * The source from `--auth`, else settings `auth.source`, else the source `bedrock-bridge login` saved
 * (`signedInSource`), else `default` (the AWS SDK chain).
 */
export function credentialSourceName(flag: string | undefined, settings: Settings, signedInSource?: string | null): string {
  const fromSettings = (settings.auth as { source?: unknown }).source;
  return flag ?? (typeof fromSettings === 'string' ? fromSettings : (signedInSource ?? 'default'));
}

/** The source saved by `bedrock-bridge login` in the data directory, if any (never throws). */
export async function savedSignInSource(dataDirectory: string): Promise<string | null> {
  try {
    const { loadCredentialSettings } = await import('../credentials/index.ts');
    return (await loadCredentialSettings(dataDirectory))?.source ?? null;
  } catch {
    return null;
  }
}

export async function createCredentialProvider(name: string, context: CredentialSourceContext): Promise<AwsCredentialIdentityProvider | undefined> {
  const source = sources.get(name);
  if (!source) {
    throw new UnknownCredentialSourceError(`Unknown --auth source "${name}". Choose one of: ${credentialSourceNames().join(', ')}.`);
  }
  return source.create(context);
}
