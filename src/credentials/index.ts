import { defaultDataDirectory } from '../core/paths.ts';
import type { CredentialSource, CredentialSourceKind, SignInUi } from './credential-source.ts';
import { CredentialConfigurationError } from './errors.ts';
import { SignInRequiredError } from './sign-in-required-error.ts';
import { AwsProfileSource, EnvSource } from './aws-sdk-sources.ts';
import { IdentityCenterSource } from './identity-center.ts';
import { OrgGatewaySource } from './org-gateway.ts';
import { isCredentialSourceKind, loadCredentialSettings } from './settings.ts';
import type { CredentialSettings } from './settings.ts';
import { openVault } from './vault.ts';
import type { SafeStorageLike, TokenVault } from './vault.ts';

export type { CredentialSource, CredentialSourceKind, CredentialStatus, SignedInIdentity, SignInUi, DeviceCodePrompt } from './credential-source.ts';
export type { CredentialSettings, IdentityCenterSettings, OrgGatewaySettings, AwsProfileSettings } from './settings.ts';
export type { TokenVault, SafeStorageLike, VaultProtection } from './vault.ts';
export { SignInRequiredError } from './sign-in-required-error.ts';
export { NotEntitledError, SignInFailedError, CredentialConfigurationError } from './errors.ts';
export { IdentityCenterSource } from './identity-center.ts';
export { OrgGatewaySource } from './org-gateway.ts';
export type { OrgGatewayDocument } from './org-gateway.ts';
export { AwsProfileSource, EnvSource } from './aws-sdk-sources.ts';
export { openVault, MemoryVault } from './vault.ts';
export { loadCredentialSettings, saveCredentialSettings } from './settings.ts';
export { createRefreshingProvider } from './refreshing-provider.ts';

/** A source that can run a device-flow sign-in (identity-center, org-gateway). */
export type InteractiveSource = IdentityCenterSource | OrgGatewaySource;

export function isInteractiveSource(source: CredentialSource): source is InteractiveSource {
  return source instanceof IdentityCenterSource || source instanceof OrgGatewaySource;
}

export interface CreateCredentialSourceDeps {
  /** Data directory (settings, safeStorage ciphertext); default defaultDataDirectory(). */
  dataDir?: string;
  /** A ready vault; else one is opened: safeStorage (if given), else the OS keychain, else memory. */
  vault?: TokenVault;
  /** Electron's safeStorage (the app shell). */
  safeStorage?: SafeStorageLike;
  /** Shows the device code and opens the browser. Default: print to stderr. */
  ui?: SignInUi;
  /** Sign in right away when no session exists (serve, login). Default true. */
  signInIfNeeded?: boolean;
  /** Where notices go (the default ui, vault warnings); default stderr. Never receives secrets. */
  log?: (line: string) => void;
  refreshAheadMs?: number;
  signal?: AbortSignal;
}

/** Settings precedence: explicit `settings` fields over `<dataDir>/sign-in.json`; `kind` (e.g. `serve --auth`) over both. */
export async function resolveCredentialSettings(
  settings: Partial<CredentialSettings> | undefined,
  dataDir: string,
  kind?: CredentialSourceKind,
): Promise<CredentialSettings> {
  const stored = (await loadCredentialSettings(dataDir)) ?? null;
  const merged = { ...(stored ?? {}), ...(settings ?? {}) } as Partial<CredentialSettings>;
  const source = kind ?? merged.source;
  if (!isCredentialSourceKind(source)) {
    throw new CredentialConfigurationError('No credential source is configured: run `bedrock-bridge login` or pass --auth env|aws-profile|identity-center|org-gateway.');
  }
  return { ...merged, source };
}

export function consoleSignInUi(log: (line: string) => void): SignInUi {
  return {
    prompt: (info) => {
      log('');
      log('To sign in, open this page in a browser:');
      log(`  ${info.verificationUriComplete ?? info.verificationUri}`);
      log(`and confirm the code: ${info.userCode}`);
      log(`(the code expires at ${info.expiresAt.toLocaleTimeString()})`);
      log('');
    },
  };
}

/**
 * Builds the configured credential source, restores its session from the vault and, unless told
 * not to, signs in when there is none (printing the verification URL and code through `ui`).
 * `serve --auth <kind>` calls this; the result's `credentials` goes to the Bedrock clients.
 */
export async function createCredentialSource(
  settings: Partial<CredentialSettings> & { source?: CredentialSourceKind },
  deps: CreateCredentialSourceDeps = {},
): Promise<CredentialSource> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = deps.dataDir ?? defaultDataDirectory();
  const resolved = await resolveCredentialSettings(settings, dataDir, settings.source);
  const refresh = deps.refreshAheadMs !== undefined ? { refreshAheadMs: deps.refreshAheadMs } : {};

  if (resolved.source === 'env') {
    const source = new EnvSource({ ...refresh, ...(resolved.region ? { region: resolved.region } : {}), allowLongLivedKeys: resolved.allowLongLivedKeys ?? true });
    // Fail at start-up when the variables are missing.
    await source.credentials();
    const warning = source.status().warning;
    if (warning) log(`Warning: ${warning}`);
    return source;
  }
  if (resolved.source === 'aws-profile') {
    const source = new AwsProfileSource({
      ...refresh,
      ...(resolved.awsProfile?.profile ? { profile: resolved.awsProfile.profile } : {}),
      ...(resolved.region ? { region: resolved.region } : {}),
      allowLongLivedKeys: resolved.allowLongLivedKeys ?? false,
    });
    // Fail at start-up (e.g. long-lived keys refused), not on the first request.
    await source.credentials();
    const warning = source.status().warning;
    if (warning) log(`Warning: ${warning}`);
    return source;
  }

  const vault =
    deps.vault ??
    (await openVault({ dataDir, ...(deps.safeStorage ? { safeStorage: deps.safeStorage } : {}), ...(resolved.memoryOnlyVault ? { memoryOnly: true } : {}) }));
  if (vault.warning) log(`Note: ${vault.warning}`);
  const ui = deps.ui ?? consoleSignInUi(log);

  let source: InteractiveSource;
  if (resolved.source === 'identity-center') {
    if (!resolved.identityCenter?.startUrl || !resolved.identityCenter.region) {
      throw new CredentialConfigurationError('Identity Center needs a start URL and region: `bedrock-bridge login --start-url URL --sso-region REGION`.');
    }
    source = new IdentityCenterSource({ settings: resolved.identityCenter, vault, ui, ...refresh });
  } else {
    if (!resolved.orgGateway?.url) {
      throw new CredentialConfigurationError('Org gateway mode needs the gateway URL: `bedrock-bridge login --gateway URL`.');
    }
    source = new OrgGatewaySource({ settings: resolved.orgGateway, vault, ui, ...refresh });
  }
  await source.restore();
  if (deps.signInIfNeeded !== false) {
    const signInOptions = deps.signal ? { signal: deps.signal } : {};
    if (!source.signedIn) await source.signIn(signInOptions);
    // Fetch once now: a stored session the org has ended means signing in again before serving, and a
    // configuration problem (no role chosen, not entitled) shows at start-up, not on the first request.
    try {
      await source.credentials();
    } catch (error) {
      if (!(error instanceof SignInRequiredError)) throw error;
      await source.signIn(signInOptions);
      await source.credentials();
    }
  }
  return source;
}
