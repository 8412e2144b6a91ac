import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { CredentialSourceKind } from './credential-source.ts';
import { CredentialConfigurationError } from './errors.ts';
import { messageOf } from '../core/error-message.ts';
import { parseJsonText } from '../core/json-text.ts';

const CREDENTIAL_SOURCE_KINDS = ['env', 'aws-profile', 'identity-center', 'org-gateway'] as const satisfies readonly CredentialSourceKind[];

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/*
 * Non-secret sign-in settings (`<dataDir>/sign-in.json`). Tokens and client secrets never go here:
 * they live in the TokenVault. The objects are strict, so a field this version does not know (a
 * token pasted in by hand, a typo) is refused with its name rather than kept or ignored.
 */
const identityCenterSchema = z.strictObject({
  /** e.g. https://my-org.awsapps.com/start */
  startUrl: httpUrl,
  /** The Identity Center (SSO) region. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1'),
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  roleName: z.string().min(1).optional(),
  /** Endpoint overrides; otherwise the SDK resolves them (AWS_ENDPOINT_URL_SSO / _SSO_OIDC / _STS included). */
  oidcEndpoint: httpUrl.optional(),
  portalEndpoint: httpUrl.optional(),
  stsEndpoint: httpUrl.optional(),
});

const orgGatewaySchema = z.strictObject({
  /** The URL the admin handed out; `<url>/.well-known/bedrock-bridge` describes the org. */
  url: httpUrl,
});

const awsProfileSchema = z.strictObject({
  /** Profile name in ~/.aws/config; default AWS_PROFILE or `default`. */
  profile: z.string().min(1).optional(),
});

const credentialSettingsSchema = z.strictObject({
  source: z.enum(CREDENTIAL_SOURCE_KINDS),
  /** Allow IAM user access keys (no session token). Off by default; a warning shows when on. */
  allowLongLivedKeys: z.boolean().optional(),
  /** Region for STS calls in env/aws-profile mode (Bedrock's region is the server's). */
  region: z.string().min(1).optional(),
  identityCenter: identityCenterSchema.optional(),
  orgGateway: orgGatewaySchema.optional(),
  awsProfile: awsProfileSchema.optional(),
  /** Keep tokens in memory only, even where a keychain exists. */
  memoryOnlyVault: z.boolean().optional(),
});

export type IdentityCenterSettings = z.infer<typeof identityCenterSchema>;
export type OrgGatewaySettings = z.infer<typeof orgGatewaySchema>;
export type AwsProfileSettings = z.infer<typeof awsProfileSchema>;
export type CredentialSettings = z.infer<typeof credentialSettingsSchema>;

export const SETTINGS_FILE = 'sign-in.json';

export function isCredentialSourceKind(value: unknown): value is CredentialSourceKind {
  return typeof value === 'string' && (CREDENTIAL_SOURCE_KINDS as readonly string[]).includes(value);
}

function invalidSettings(file: string, error: z.ZodError): CredentialConfigurationError {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  return new CredentialConfigurationError(`${file} is not valid sign-in settings (${problems.join('; ')}). Fix or delete it, then run \`bedrock-bridge login\`.`);
}

/** The stored settings; null when there are none yet. A file that is not valid settings is an error naming the problem. */
export async function loadCredentialSettings(dataDir: string): Promise<CredentialSettings | null> {
  const file = join(dataDir, SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (error) {
    throw new CredentialConfigurationError(`${file} is ${messageOf(error)}. Fix or delete it, then run \`bedrock-bridge login\`.`);
  }
  const parsed = credentialSettingsSchema.safeParse(json);
  if (!parsed.success) throw invalidSettings(file, parsed.error);
  return parsed.data;
}

/** Writes the settings (0600, atomically) after checking them against the same schema `load` uses. */
export async function saveCredentialSettings(dataDir: string, settings: CredentialSettings): Promise<void> {
  const file = join(dataDir, SETTINGS_FILE);
  const parsed = credentialSettingsSchema.safeParse(settings);
  if (!parsed.success) throw invalidSettings(file, parsed.error);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(parsed.data, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}
