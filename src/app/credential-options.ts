import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Settings } from '../core/settings.ts';
import type { CredentialSource, CredentialSourceKind, SignInUi } from '../credentials/credential-source.ts';
import type { SafeStorageLike } from '../credentials/vault.ts';
import { messageOf } from '../core/error-message.ts';

/** What a credential option may look at when the server starts. */
export interface CredentialOptionContext {
  env: NodeJS.ProcessEnv;
  settings: Settings;
  region: string;
  /** Where the shell keeps its files (defaultDataDirectory(), or the app's userData). */
  dataDirectory: string;
  /** Where notices go; default stderr. Never receives secrets. */
  log?: (line: string) => void;
  /** How a device-flow sign-in shows its code; default: printed. */
  ui?: SignInUi;
  /** Sign in before returning when there is no session (default true); the app signs in from its window instead. */
  signInIfNeeded?: boolean;
  /** Electron's safeStorage: the vault's backend in the app. */
  safeStorage?: SafeStorageLike;
}

/** What `serve` runs with: a provider for the Bedrock clients and, for every source but `default`, the source itself. */
export interface ResolvedCredentials {
  /** For the Bedrock clients; `default` too gets one (the SDK's chain under the long-lived-keys rule). */
  provider: AwsCredentialIdentityProvider;
  /** Identity, status and the audit endpoint's proof come from here; null for `default`. */
  source: CredentialSource | null;
}

const DESCRIPTIONS: Record<string, string> = {
  default: "the AWS SDK's default chain: environment, ~/.aws profiles (AWS_PROFILE), `aws sso login` cache, container/instance roles; long-lived keys from ~/.aws only with auth.allowLongLivedKeys",
  env: 'only the process environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): CI, `aws-vault exec`, wrappers',
  'aws-profile': 'a named profile from ~/.aws (auth.awsProfile.profile, or AWS_PROFILE); temporary credentials only unless auth.allowLongLivedKeys',
  'identity-center': 'IAM Identity Center sign-in (set up with `bedrock-bridge login`); signs in on start when needed',
  'org-gateway': "your organisation's gateway (set up with `bedrock-bridge login --gateway URL`); signs in on start when needed",
};

export function credentialSourceNames(): string[] {
  return Object.keys(DESCRIPTIONS);
}

export function credentialSourceHelp(): string {
  return Object.entries(DESCRIPTIONS)
    .map(([name, description]) => `      ${name.padEnd(16)} ${description}`)
    .join('\n');
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

/**
 * The source saved by `bedrock-bridge login` in the data directory, if any. A saved file that is not
 * valid is an error: silently falling back to the SDK chain would run as somebody else.
 */
export async function savedSignInSource(dataDirectory: string): Promise<string | null> {
  const { loadCredentialSettings } = await import('../credentials/index.ts');
  try {
    return (await loadCredentialSettings(dataDirectory))?.source ?? null;
  } catch (error) {
    throw new CredentialSourceError(messageOf(error));
  }
}

/** `--auth <name>`: starts the credential source (signing in when needed) before the server listens. */
export async function resolveCredentials(name: string, context: CredentialOptionContext): Promise<ResolvedCredentials> {
  if (!Object.hasOwn(DESCRIPTIONS, name)) {
    throw new UnknownCredentialSourceError(`Unknown --auth source "${name}". Choose one of: ${credentialSourceNames().join(', ')}.`);
  }
  const log = context.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (name === 'default') {
    // The SDK's chain, but what it finds in ~/.aws obeys the long-lived-keys rule like aws-profile.
    const { defaultChainProvider } = await import('../credentials/aws-sdk-sources.ts');
    const allow = (context.settings.auth as { allowLongLivedKeys?: unknown }).allowLongLivedKeys;
    const provider = defaultChainProvider({
      ...(typeof allow === 'boolean' ? { allowLongLivedKeys: allow } : {}),
      region: context.region,
      onWarning: (warning) => log(`Warning: ${warning}`),
    });
    return { provider, source: null };
  }
  const kind = name as CredentialSourceKind;
  // Loaded only when used, so `serve` with the default chain never touches the vault.
  const { createCredentialSource, consoleSignInUi } = await import('../credentials/index.ts');
  const ui = context.ui ?? consoleSignInUi(log);
  try {
    const source = await createCredentialSource(
      { ...(context.settings.auth as Record<string, unknown>), source: kind },
      {
        dataDir: context.dataDirectory,
        log,
        ui,
        ...(context.signInIfNeeded === false ? { signInIfNeeded: false } : {}),
        ...(context.safeStorage ? { safeStorage: context.safeStorage } : {}),
      },
    );
    return { provider: source.credentials, source };
  } catch (error) {
    if (error instanceof Error && /Configuration|SignIn|NotEntitled/.test(error.name)) throw new CredentialSourceError(`--auth ${kind}: ${error.message}`);
    throw error;
  }
}
