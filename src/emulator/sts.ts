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
 * `source_profile`) run through the SDK's own role assumer: any known caller may assume any role,
 * and gets session credentials named after RoleSessionName.
 */
const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface StsEmulatorOptions {
  now?: () => number;
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
function assumeRole(registry: CredentialRegistry, params: URLSearchParams, requestId: ReturnType<typeof randomUUID>): Response {
  const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(params.get('RoleArn') ?? '');
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!role || !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return stsErrorResponse(400, 'ValidationError', 'RoleArn must be an IAM role ARN and RoleSessionName 2-64 characters', requestId);
  }
  const assumedRoleArn = `arn:aws:sts::${role[1]}:assumed-role/${role[2]}`;
  const issued = registry.issue(sessionName, assumedRoleArn, (Number(params.get('DurationSeconds')) || 3600) * 1000);
  const identity = callerIdentityOf({ user: sessionName, assumedRoleArn });
  return xml(
    `<AssumeRoleResponse xmlns="${XMLNS}"><AssumeRoleResult><Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(issued.secretAccessKey)}</SecretAccessKey><SessionToken>${xmlEscape(issued.sessionToken)}</SessionToken><Expiration>${issued.expiration.toISOString()}</Expiration></Credentials><AssumedRoleUser><Arn>${xmlEscape(identity.arn)}</Arn><AssumedRoleId>${xmlEscape(identity.userId)}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
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
    if (action === 'AssumeRole') return assumeRole(registry, params, requestId);
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
