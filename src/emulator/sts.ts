import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { CredentialRegistry, KnownCredentials } from './credential-registry.ts';
import { verifySigV4Request } from './sigv4.ts';
import type { SigV4FailureReason } from './sigv4.ts';

/**
 * AWS STS, awsQuery protocol (form-encoded POST /, XML answers), as @aws-sdk/client-sts speaks it.
 * GetCallerIdentity: the Identity Center user's name is the assumed-role session name, and the
 * audit collector replays a signed GetCallerIdentity (with a signed `x-bedrock-bridge-audience`
 * header) here to learn who sent usage. AssumeRole, so that AWS CLI role profiles (`role_arn` +
 * `source_profile`) run through the SDK's own role assumer and the org gateway's credentials broker
 * can be tested: any known caller may assume any role, and gets session credentials named after
 * RoleSessionName. DurationSeconds, SourceIdentity, session tags and the session policy are checked
 * as STS checks them, and each session is reported to `onAssumeRole`.
 */
const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface StsEmulatorOptions {
  now?: () => number;
  /** The role's MaxSessionDuration (3600 to 43200). Default 3600, as IAM creates roles. */
  maxSessionDurationSeconds?: number;
  /** Trust policy conditions: AssumeRole without SourceIdentity is AccessDenied (sts:SourceIdentity required). */
  requireSourceIdentity?: boolean;
  /** Sees every session issued. */
  onAssumeRole?: (session: AssumedRoleSession) => void;
}

export interface AssumedRoleSession {
  roleArn: string;
  sessionName: string;
  sourceIdentity: string | null;
  tags: Record<string, string>;
  /** The parsed session policy, or null without one. */
  policy: unknown;
  durationSeconds: number;
  accessKeyId: string;
}

const STS_NAME = /^[\w+=,.@-]{2,64}$/;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_PACKED_POLICY_CHARS = 2048;

type Checked<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Tags.member.N.Key / Tags.member.N.Value, checked as STS does. */
function sessionTags(params: URLSearchParams): Checked<Record<string, string>> {
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (let n = 1; params.has(`Tags.member.${n}.Key`); n += 1) {
    const key = params.get(`Tags.member.${n}.Key`) ?? '';
    const value = params.get(`Tags.member.${n}.Value`) ?? '';
    if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key) || key.toLowerCase().startsWith('aws:')) {
      return { ok: false, code: 'ValidationError', message: `Tag key ${JSON.stringify(key)} is not valid` };
    }
    if (value.length > 256 || !TAG_TEXT.test(value)) return { ok: false, code: 'ValidationError', message: `Tag value for ${key} is not valid` };
    if (seen.has(key.toLowerCase())) return { ok: false, code: 'ValidationError', message: 'Duplicate tag keys found. Please note that Tag keys are case insensitive.' };
    seen.add(key.toLowerCase());
    tags[key] = value;
  }
  if (seen.size > 50) return { ok: false, code: 'ValidationError', message: 'Tags: at most 50 session tags' };
  return { ok: true, value: tags };
}

function sessionPolicy(raw: string | null): Checked<unknown> {
  if (raw === null) return { ok: true, value: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'MalformedPolicyDocument', message: 'The policy is not valid JSON' };
  }
  const statements = (parsed as { Statement?: unknown } | null)?.Statement;
  if (!parsed || typeof parsed !== 'object' || !(Array.isArray(statements) || (statements && typeof statements === 'object'))) {
    return { ok: false, code: 'MalformedPolicyDocument', message: 'The policy has no Statement' };
  }
  if (JSON.stringify(parsed).length > MAX_PACKED_POLICY_CHARS) {
    return { ok: false, code: 'PackedPolicyTooLarge', message: 'Packed size of the policy exceeds the limit.' };
  }
  return { ok: true, value: parsed };
}

export interface CallerIdentity {
  arn: string;
  userId: string;
  account: string;
}

function xmlEscape(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

function xml(body: string, status: number, requestId: string): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
  });
}

export function stsErrorResponse(status: number, code: string, message: string, requestId = randomUUID()): Response {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return xml(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    status,
    requestId,
  );
}

/** The identity STS reports for credentials issued to `user` under `assumedRoleArn`. */
export function callerIdentityOf(credentials: Pick<KnownCredentials, 'user' | 'assumedRoleArn'>): CallerIdentity {
  const arn = `${credentials.assumedRoleArn}/${credentials.user}`;
  const account = /^arn:aws[a-z-]*:(?:sts|iam)::(\d{12}):/.exec(credentials.assumedRoleArn)?.[1] ?? '000000000000';
  const roleName = credentials.assumedRoleArn.split('/')[1] ?? 'role';
  // A stable pseudo role id (AROA + 17 chars), as the real service returns `ROLEID:session`.
  let hash = 0;
  for (const ch of `${account}/${roleName}`) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const roleId = `AROA${hash.toString(36).toUpperCase().padStart(17, 'X').slice(0, 17)}`;
  return { arn, userId: `${roleId}:${credentials.user}`, account };
}

/** The shared verifier's neutral reasons, as STS names them. */
const STS_FAILURES: Record<SigV4FailureReason, [number, string]> = {
  'missing-authentication': [403, 'MissingAuthenticationToken'],
  'incomplete-signature': [400, 'IncompleteSignature'],
  'unknown-key': [403, 'InvalidClientTokenId'],
  'invalid-token': [403, 'InvalidClientTokenId'],
  'invalid-bearer-token': [403, 'InvalidClientTokenId'],
  'expired-token': [400, 'ExpiredToken'],
  'signature-mismatch': [403, 'SignatureDoesNotMatch'],
  'signature-expired': [403, 'SignatureDoesNotMatch'],
  'content-sha256-mismatch': [400, 'SignatureDoesNotMatch'],
};

/** `arn:aws:iam::123456789012:role/Name` -> session credentials for `arn:aws:sts::123456789012:assumed-role/Name/<session>`. */
function assumeRole(registry: CredentialRegistry, params: URLSearchParams, requestId: ReturnType<typeof randomUUID>, options: StsEmulatorOptions): Response {
  const roleArn = params.get('RoleArn') ?? '';
  const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!role || !STS_NAME.test(sessionName)) {
    return stsErrorResponse(400, 'ValidationError', 'RoleArn must be an IAM role ARN and RoleSessionName 2-64 characters', requestId);
  }
  const maxDuration = options.maxSessionDurationSeconds ?? 3600;
  const duration = params.has('DurationSeconds') ? Number(params.get('DurationSeconds')) : 3600;
  if (!Number.isInteger(duration) || duration < 900) {
    return stsErrorResponse(400, 'ValidationError', 'DurationSeconds must be an integer of at least 900', requestId);
  }
  if (duration > maxDuration) {
    return stsErrorResponse(400, 'ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`, requestId);
  }
  const sourceIdentity = params.get('SourceIdentity');
  if (sourceIdentity !== null && (!STS_NAME.test(sourceIdentity) || sourceIdentity.toLowerCase().startsWith('aws:'))) {
    return stsErrorResponse(400, 'ValidationError', 'SourceIdentity must be 2-64 characters of [\\w+=,.@-]', requestId);
  }
  if (sourceIdentity === null && options.requireSourceIdentity) {
    return stsErrorResponse(403, 'AccessDenied', `Not authorized to perform sts:AssumeRole on ${roleArn} without sts:SourceIdentity`, requestId);
  }
  const tags = sessionTags(params);
  if (!tags.ok) return stsErrorResponse(400, tags.code, tags.message, requestId);
  const policy = sessionPolicy(params.get('Policy'));
  if (!policy.ok) return stsErrorResponse(400, policy.code, policy.message, requestId);

  const assumedRoleArn = `arn:aws:sts::${role[1]}:assumed-role/${role[2]}`;
  const issued = registry.issue(sessionName, assumedRoleArn, duration * 1000);
  options.onAssumeRole?.({ roleArn, sessionName, sourceIdentity, tags: tags.value, policy: policy.value, durationSeconds: duration, accessKeyId: issued.accessKeyId });
  const identity = callerIdentityOf({ user: sessionName, assumedRoleArn });
  return xml(
    `<AssumeRoleResponse xmlns="${XMLNS}"><AssumeRoleResult><Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(issued.secretAccessKey)}</SecretAccessKey><SessionToken>${xmlEscape(issued.sessionToken)}</SessionToken><Expiration>${issued.expiration.toISOString()}</Expiration></Credentials><AssumedRoleUser><Arn>${xmlEscape(identity.arn)}</Arn><AssumedRoleId>${xmlEscape(identity.userId)}</AssumedRoleId></AssumedRoleUser>${sourceIdentity !== null ? `<SourceIdentity>${xmlEscape(sourceIdentity)}</SourceIdentity>` : ''}</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    200,
    requestId,
  );
}

export function createStsEmulator(registry: CredentialRegistry, options: StsEmulatorOptions = {}): Hono {
  const app = new Hono();
  const handle = async (request: Request): Promise<Response> => {
    const requestId = randomUUID();
    const body = new Uint8Array(await request.arrayBuffer());
    const url = new URL(request.url);
    const rawUrl = request.url.slice(url.origin.length) || '/';
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const verified = await verifySigV4Request(
      { method: request.method, rawUrl, headers, body },
      { registry, services: ['sts'], ...(options.now ? { now: options.now() } : {}), maxSkewMs: 15 * 60_000 },
    );
    if (!verified.ok) {
      const [status, code] = STS_FAILURES[verified.reason];
      return stsErrorResponse(status, code, verified.message, requestId);
    }
    if (verified.scheme !== 'sigv4') {
      return stsErrorResponse(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.', requestId);
    }

    const params = new URLSearchParams(new TextDecoder().decode(body));
    const action = params.get('Action');
    const version = params.get('Version');
    if (!action) return stsErrorResponse(400, 'MissingAction', 'Missing Action', requestId);
    if (version !== '2011-06-15') {
      return stsErrorResponse(400, 'InvalidParameterValue', `Version ${version ?? ''} is not supported`, requestId);
    }
    if (action === 'AssumeRole') return assumeRole(registry, params, requestId, options);
    if (action !== 'GetCallerIdentity') {
      return stsErrorResponse(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`, requestId);
    }
    const identity = callerIdentityOf(verified.credentials);
    return xml(
      `<GetCallerIdentityResponse xmlns="${XMLNS}"><GetCallerIdentityResult><Arn>${xmlEscape(identity.arn)}</Arn><UserId>${xmlEscape(identity.userId)}</UserId><Account>${identity.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      200,
      requestId,
    );
  };
  app.post('/', (c) => handle(c.req.raw));
  return app;
}
