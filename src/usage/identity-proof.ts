import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Proof of AWS identity for the audit endpoint in Identity Center mode (BRIEF section 6; the scheme
 * of Vault's AWS auth): a GetCallerIdentity request signed with the user's role credentials, which
 * the collector replays to STS itself. The signed `x-bedrock-bridge-audience` header binds it to one
 * usage endpoint, and SigV4's 15-minute window bounds its life.
 */
export const IDENTITY_HEADER = 'x-bedrock-bridge-identity';
export const AUDIENCE_HEADER = 'x-bedrock-bridge-audience';
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const STS_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

export interface IdentityProof {
  method: 'POST';
  /** The STS endpoint with a trailing slash. */
  url: string;
  /** The signed headers (lower-case names), authorization included. */
  headers: Record<string, string>;
  body: string;
}

/** The STS endpoint as the SDK resolves it: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the regional default. */
export function resolveStsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (configured) return configured.replace(/\/+$/, '');
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}`;
}

/** `https://host[:port]/` — the single form both sides compare. */
export function stsProofUrl(stsEndpoint: string): string {
  const url = new URL(stsEndpoint);
  return `${url.protocol}//${url.host}/`;
}

export interface CreateIdentityProofOptions {
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** The usage endpoint URL exactly as it is POSTed to. */
  audience: string;
  stsEndpoint: string;
  /** Signing region (the STS endpoint's region). */
  region: string;
  signingDate?: Date;
}

/** Builds the proof object (signed now). */
export async function createIdentityProof(options: CreateIdentityProofOptions): Promise<IdentityProof> {
  const url = new URL(stsProofUrl(options.stsEndpoint));
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const request = {
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: '/',
    query: {},
    headers: {
      host: url.host,
      'content-type': STS_CONTENT_TYPE,
      [AUDIENCE_HEADER]: options.audience,
    } as Record<string, string>,
    body: GET_CALLER_IDENTITY_BODY,
  };
  const signed = await signer.sign(request, options.signingDate ? { signingDate: options.signingDate } : {});
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = String(value);
  return { method: 'POST', url: url.toString(), headers, body: GET_CALLER_IDENTITY_BODY };
}

export function encodeIdentityProof(proof: IdentityProof): string {
  return Buffer.from(JSON.stringify(proof), 'utf8').toString('base64url');
}

/** The header value: base64url(JSON proof). */
export async function createIdentityProofHeader(options: CreateIdentityProofOptions): Promise<string> {
  return encodeIdentityProof(await createIdentityProof(options));
}

/** Parses a header value; null if it is not a well-formed proof. Does not verify anything. */
export function decodeIdentityProof(value: string): IdentityProof | null {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object') return null;
    const { method, url, headers, body } = parsed as Record<string, unknown>;
    if (method !== 'POST' || typeof url !== 'string' || typeof body !== 'string') return null;
    if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return null;
    const lower: Record<string, string> = {};
    for (const [name, headerValue] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof headerValue !== 'string') return null;
      lower[name.toLowerCase()] = headerValue;
    }
    return { method, url, headers: lower, body };
  } catch {
    return null;
  }
}

/** SignedHeaders of a SigV4 Authorization header value. */
export function signedHeadersOf(authorization: string | undefined): string[] {
  const match = /SignedHeaders=([^,\s]+)/.exec(authorization ?? '');
  return match?.[1] ? match[1].split(';') : [];
}

/** The user in an STS caller ARN: the assumed-role session name, or the IAM user/role name. */
export function userFromArn(arn: string): string | null {
  const resource = arn.split(':').slice(5).join(':');
  const parts = resource.split('/');
  if (parts[0] === 'assumed-role') return parts[2] ?? null;
  return parts[parts.length - 1] || null;
}
