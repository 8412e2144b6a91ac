import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CredentialRegistry, KnownCredentials } from './credential-registry.ts';

/**
 * SigV4 verification for every emulated AWS service (Bedrock, STS, ...): the request is re-signed with
 * @smithy/signature-v4 (the signer the SDK itself uses) and the known secret, at the request's own
 * x-amz-date, over exactly the headers it says it signed, and the signatures are compared.
 */

/** What a verifier needs from a request. Header names lowercase (node's `incoming.headers`). */
export interface SigV4RequestParts {
  method: string;
  /** The request target as received, undecoded, e.g. `/model/arn%3Aaws%3A...%2Fabc/converse?x=1`. */
  rawUrl: string;
  /** Node's incoming headers; HTTP/2 pseudo-headers such as `:authority` included. */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | string;
}

export interface SigV4VerifyOptions {
  registry: CredentialRegistry;
  /** Accepted signing names (the credential scope's service); omitted = any. */
  services?: readonly string[];
  /** Now, epoch ms (tests). */
  now?: number;
  /** Allowed clock skew of x-amz-date; AWS allows 5 minutes. */
  maxSkewMs?: number;
}

/** Why a request was refused, service-neutral; `bedrockErrorType`/`message` are Bedrock's (JSON protocol) names. */
export type SigV4FailureReason =
  | 'missing-authentication'
  | 'incomplete-signature'
  | 'unknown-key'
  | 'invalid-token'
  | 'expired-token'
  | 'signature-mismatch'
  | 'signature-expired'
  | 'content-sha256-mismatch'
  | 'invalid-bearer-token';

export type SigV4Result =
  | {
      ok: true;
      scheme: 'sigv4';
      credentials: KnownCredentials;
      accessKeyId: string;
      region: string;
      service: string;
      /** True when the signature only matched over the host without its port (Portkey signs that way). */
      hostWithoutPort: boolean;
    }
  | { ok: true; scheme: 'bearer'; token: string }
  | { ok: false; status: number; reason: SigV4FailureReason; errorType: string; message: string; accessKeyId?: string };

/** SHA-256 / HMAC-SHA256 from node:crypto, shaped as the smithy `Checksum` the signer expects. */
class NodeSha256 {
  #hash: Hash | Hmac;
  readonly #secret: Uint8Array | string | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.#hash = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

const AUTH_PREFIX = 'AWS4-HMAC-SHA256 ';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const MESSAGES = {
  missing: 'Missing Authentication Token',
  unknownKey: 'The security token included in the request is invalid.',
  expired: 'The security token included in the request is expired',
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  bearer: 'Authentication failed: Please make sure your API Key is valid.',
};

function fail(status: number, reason: SigV4FailureReason, errorType: string, message: string, accessKeyId?: string): SigV4Result {
  return accessKeyId === undefined ? { ok: false, status, reason, errorType, message } : { ok: false, status, reason, errorType, message, accessKeyId };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseSigV4Authorization(value: string): ParsedAuthorization | undefined {
  if (!value.startsWith(AUTH_PREFIX)) return undefined;
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  for (const part of value.slice(AUTH_PREFIX.length).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq < 0) continue;
    const key = trimmed.slice(0, eq);
    const val = trimmed.slice(eq + 1);
    if (key === 'Credential') credential = val;
    else if (key === 'SignedHeaders') signedHeaders = val;
    else if (key === 'Signature') signature = val;
  }
  if (!credential || !signedHeaders || !signature) return undefined;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') return undefined;
  return {
    accessKeyId: scope[0]!,
    date: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** `20250101T120000Z` -> epoch ms, or NaN. */
function parseAmzDate(value: string): number {
  if (value.length !== 16 || value[8] !== 'T' || value[15] !== 'Z') return Number.NaN;
  return Date.UTC(
    Number(value.slice(0, 4)),
    Number(value.slice(4, 6)) - 1,
    Number(value.slice(6, 8)),
    Number(value.slice(9, 11)),
    Number(value.slice(11, 13)),
    Number(value.slice(13, 15)),
  );
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

async function computeSignature(
  parts: SigV4RequestParts,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  signingDate: Date,
  headers: Record<string, string>,
  path: string,
  query: Record<string, string | string[]>,
): Promise<string | undefined> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: parts.method, protocol: 'https:', hostname: 'emulator', path, query, headers, body: parts.body },
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const authorization = signed.headers.authorization ?? '';
  const at = authorization.lastIndexOf('Signature=');
  return at < 0 ? undefined : authorization.slice(at + 'Signature='.length);
}

/**
 * Verifies a SigV4 (`Authorization: AWS4-HMAC-SHA256 ...`) or Bearer (`Authorization: Bearer ...`,
 * Bedrock API keys) request against the registry. Service-name agnostic: pass `services` to pin the
 * signing name. Never throws for bad input; the failure carries Bedrock's error name and message
 * plus a neutral `reason` other protocols (STS's XML errors) can map to their own names.
 */
export async function verifySigV4Request(parts: SigV4RequestParts, options: SigV4VerifyOptions): Promise<SigV4Result> {
  const authorization = headerValue(parts.headers.authorization);
  if (!authorization) return fail(403, 'missing-authentication', 'MissingAuthenticationTokenException', MESSAGES.missing);

  if (authorization.startsWith('Bearer ')) {
    const token = authorization.slice(7).trim();
    if (token !== '' && options.registry.hasBearerToken(token)) return { ok: true, scheme: 'bearer', token };
    return fail(403, 'invalid-bearer-token', 'AccessDeniedException', MESSAGES.bearer);
  }

  const auth = parseSigV4Authorization(authorization);
  if (!auth) {
    return fail(
      400,
      'incomplete-signature',
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${authorization.split(' ')[0] ?? ''}`,
    );
  }
  if (options.services && !options.services.includes(auth.service)) {
    return fail(
      403,
      'signature-mismatch',
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${options.services[0] ?? ''}'. `,
      auth.accessKeyId,
    );
  }

  const known = options.registry.find(auth.accessKeyId);
  if (!known) return fail(403, 'unknown-key', 'UnrecognizedClientException', MESSAGES.unknownKey, auth.accessKeyId);

  const now = options.now ?? Date.now();
  const sessionToken = headerValue(parts.headers['x-amz-security-token']);
  if (known.sessionToken !== undefined) {
    if (sessionToken === undefined) {
      return fail(403, 'invalid-token', 'UnrecognizedClientException', MESSAGES.unknownKey, auth.accessKeyId);
    }
    if (!sameHex(sessionToken, known.sessionToken)) {
      return fail(403, 'invalid-token', 'UnrecognizedClientException', MESSAGES.unknownKey, auth.accessKeyId);
    }
  } else if (auth.accessKeyId.startsWith('ASIA') && sessionToken === undefined) {
    return fail(403, 'invalid-token', 'UnrecognizedClientException', MESSAGES.unknownKey, auth.accessKeyId);
  }
  if (known.expiresAt !== undefined && known.expiresAt <= now) {
    return fail(403, 'expired-token', 'ExpiredTokenException', MESSAGES.expired, auth.accessKeyId);
  }

  const amzDate = headerValue(parts.headers['x-amz-date']) ?? '';
  const signingMs = parseAmzDate(amzDate);
  if (Number.isNaN(signingMs) || !amzDate.startsWith(auth.date)) {
    return fail(
      400,
      'incomplete-signature',
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      auth.accessKeyId,
    );
  }
  const maxSkew = options.maxSkewMs ?? 5 * 60_000;
  if (Math.abs(now - signingMs) > maxSkew) {
    const earlier = signingMs < now;
    const message = earlier
      ? `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - maxSkew)} (${formatAmzDate(now)} - 5 min.)`
      : `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + maxSkew)} (${formatAmzDate(now)} + 5 min.)`;
    return fail(403, 'signature-expired', 'InvalidSignatureException', message, auth.accessKeyId);
  }

  // A declared payload hash must be the body's: the signer trusts the header, so check it here.
  const declaredHash = headerValue(parts.headers['x-amz-content-sha256']);
  if (declaredHash !== undefined && declaredHash !== 'UNSIGNED-PAYLOAD') {
    const actual = parts.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(parts.body).digest('hex');
    if (actual !== declaredHash) {
      // Non-S3 services hash the body they received, so a lying header is just a bad signature.
      return fail(403, 'content-sha256-mismatch', 'InvalidSignatureException', MESSAGES.mismatch, auth.accessKeyId);
    }
  }

  const headers: Record<string, string> = {};
  let hostHeader: string | undefined;
  for (const name of auth.signedHeaders) {
    if (name === 'x-amz-date' || name === 'authorization') continue;
    const value = headerValue(parts.headers[name]);
    if (value === undefined) {
      return fail(403, 'signature-mismatch', 'InvalidSignatureException', MESSAGES.mismatch, auth.accessKeyId);
    }
    headers[name] = value;
    if (name === 'host' || name === ':authority') hostHeader = name;
  }
  const q = parts.rawUrl.indexOf('?');
  const path = q < 0 ? parts.rawUrl : parts.rawUrl.slice(0, q);
  const query = q < 0 ? {} : parseQuery(parts.rawUrl.slice(q + 1));
  const signingDate = new Date(signingMs);

  const expected = await computeSignature(parts, auth, known.secretAccessKey, signingDate, headers, path, query);
  if (expected !== undefined && sameHex(expected, auth.signature)) {
    return { ok: true, scheme: 'sigv4', credentials: known, accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, hostWithoutPort: false };
  }
  // Clients that sign the host without its port (Portkey) would match against the default-port endpoint.
  if (hostHeader !== undefined) {
    const host = headers[hostHeader]!;
    const bare = stripPort(host);
    if (bare !== host) {
      headers[hostHeader] = bare;
      const again = await computeSignature(parts, auth, known.secretAccessKey, signingDate, headers, path, query);
      if (again !== undefined && sameHex(again, auth.signature)) {
        return { ok: true, scheme: 'sigv4', credentials: known, accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, hostWithoutPort: true };
      }
    }
  }
  return fail(403, 'signature-mismatch', 'InvalidSignatureException', MESSAGES.mismatch, auth.accessKeyId);
}
