import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CredentialSourceKind } from './credential-source.ts';

/**
 * Non-secret sign-in settings (`<dataDir>/sign-in.json`). Tokens and client secrets never go
 * here: they live in the TokenVault.
 */
export interface IdentityCenterSettings {
  /** e.g. https://my-org.awsapps.com/start */
  startUrl: string;
  /** The Identity Center (SSO) region. */
  region: string;
  accountId?: string;
  roleName?: string;
  /** Endpoint overrides; otherwise the SDK resolves them (AWS_ENDPOINT_URL_SSO / _SSO_OIDC / _STS included). */
  oidcEndpoint?: string;
  portalEndpoint?: string;
  stsEndpoint?: string;
}

export interface OrgGatewaySettings {
  /** The URL the admin handed out; `<url>/.well-known/bedrock-bridge` describes the org. */
  url: string;
}

export interface AwsProfileSettings {
  /** Profile name in ~/.aws/config; default AWS_PROFILE or `default`. */
  profile?: string;
}

export interface CredentialSettings {
  source: CredentialSourceKind;
  /** Allow IAM user access keys (no session token). Off by default; a warning shows when on. */
  allowLongLivedKeys?: boolean;
  /** Region for STS calls in env/aws-profile mode (Bedrock's region is the server's). */
  region?: string;
  identityCenter?: IdentityCenterSettings;
  orgGateway?: OrgGatewaySettings;
  awsProfile?: AwsProfileSettings;
  /** Keep tokens in memory only, even where a keychain exists. */
  memoryOnlyVault?: boolean;
}

export const SETTINGS_FILE = 'sign-in.json';

const KINDS: readonly CredentialSourceKind[] = ['env', 'aws-profile', 'identity-center', 'org-gateway'];

export function isCredentialSourceKind(value: unknown): value is CredentialSourceKind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

export async function loadCredentialSettings(dataDir: string): Promise<CredentialSettings | null> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, SETTINGS_FILE), 'utf8')) as Partial<CredentialSettings>;
    if (!isCredentialSourceKind(parsed.source)) return null;
    return parsed as CredentialSettings;
  } catch {
    return null;
  }
}

/** Writes the settings (0600, atomically). Refuses anything that looks like a secret. */
export async function saveCredentialSettings(dataDir: string, settings: CredentialSettings): Promise<void> {
  const file = join(dataDir, SETTINGS_FILE);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}
