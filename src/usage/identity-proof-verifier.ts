import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AUDIENCE_HEADER,
  decodeIdentityProof,
  GET_CALLER_IDENTITY_BODY,
  signedHeadersOf,
  userFromArn,
} from './identity-proof.ts';

/**
 * The receiving side of the identity proof (./identity-proof.ts): the audit endpoint checks the proof
 * names its STS endpoint, a GetCallerIdentity call and, in a signed header, this endpoint as audience,
 * then sends the request to STS itself. Who the caller is comes only from STS's answer.
 */
export interface VerifyIdentityProofOptions {
  /** The STS endpoint proofs must name, in stsProofUrl() form. */
  stsUrl: string;
  /** This endpoint's URL(s) without a trailing slash: the proof's audience must be one of them. */
  audiences: string[];
  timeoutMs: number;
}

/** `unreachable`: STS could not be asked, so nothing is known about the proof (try again later). */
export type VerifiedIdentityProof = { user: string; arn: string } | { error: string; unreachable?: true };

/** Sends the proof's request to STS exactly as signed; returns status and body text. */
function replayToSts(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const outgoing: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-length' || name === 'connection' || name === 'transfer-encoding') continue;
    outgoing[name] = value;
  }
  outgoing['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = send(
      { protocol: target.protocol, hostname: target.hostname, port: target.port || undefined, method: 'POST', path: '/', headers: outgoing, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('STS did not answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function verifyIdentityProof(headerValue: string, options: VerifyIdentityProofOptions): Promise<VerifiedIdentityProof> {
  const proof = decodeIdentityProof(headerValue);
  if (!proof) return { error: 'malformed identity proof' };
  if (proof.url !== options.stsUrl) return { error: 'identity proof names another STS endpoint' };
  if (proof.body !== GET_CALLER_IDENTITY_BODY) return { error: 'identity proof is not a GetCallerIdentity call' };
  const audience = proof.headers[AUDIENCE_HEADER];
  if (!audience || !options.audiences.includes(audience.replace(/\/+$/, ''))) return { error: 'identity proof audience is not this endpoint' };
  if (!signedHeadersOf(proof.headers.authorization).includes(AUDIENCE_HEADER)) return { error: 'identity proof audience header is not signed' };
  let answer: { status: number; body: string };
  try {
    answer = await replayToSts(proof.url, proof.headers, proof.body, options.timeoutMs);
  } catch {
    return { error: 'STS could not be reached to verify the identity proof', unreachable: true };
  }
  if (answer.status !== 200) {
    const code = /<Code>([^<]+)<\/Code>/.exec(answer.body)?.[1] ?? String(answer.status);
    return { error: `STS refused the identity proof (${code})` };
  }
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(answer.body)?.[1];
  const user = arn ? userFromArn(arn) : null;
  return user && arn ? { user, arn } : { error: 'STS answered without a usable ARN' };
}
