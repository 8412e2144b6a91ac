import { randomBytes } from 'node:crypto';

/** Credentials the emulator knows, keyed by access key id; signatures are checked against these. */
export interface KnownCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms; requests signed with expired credentials get ExpiredTokenException. */
  expiresAt?: number;
  /** The Identity Center user name (STS session name) these credentials belong to. */
  user: string;
  /** Role ARN without the session part, e.g. arn:aws:sts::111122223333:assumed-role/Dev. */
  assumedRoleArn: string;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * Shared by every emulated service in one emulator: the Identity Center portal issues
 * credentials here, and Bedrock and STS verify SigV4 signatures against them.
 */
export class CredentialRegistry {
  readonly #byKeyId = new Map<string, KnownCredentials>();
  readonly #bearerTokens = new Set<string>();

  add(credentials: KnownCredentials): void {
    this.#byKeyId.set(credentials.accessKeyId, credentials);
  }

  issue(user: string, assumedRoleArn: string, ttlMs: number): IssuedCredentials {
    const issued: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiration: new Date(Date.now() + ttlMs),
    };
    this.add({ ...issued, expiresAt: issued.expiration.getTime(), user, assumedRoleArn });
    return issued;
  }

  find(accessKeyId: string): KnownCredentials | undefined {
    return this.#byKeyId.get(accessKeyId);
  }

  /** Bedrock API keys (AWS_BEARER_TOKEN_BEDROCK). */
  addBearerToken(token: string): void {
    this.#bearerTokens.add(token);
  }

  hasBearerToken(token: string): boolean {
    return this.#bearerTokens.has(token);
  }

  /**
   * Invalidates one set of credentials before its expiry while the holder still takes it as valid:
   * requests signed with it get UnrecognizedClientException, as for a key AWS no longer recognises.
   * (Real AWS gets close with a deny policy on tokens issued before a time, or a deactivated key.)
   */
  revoke(accessKeyId: string): void {
    if (!this.#byKeyId.delete(accessKeyId)) throw new Error(`no credentials with access key id ${accessKeyId}`);
  }

  /** Ends one set of credentials now, whatever expiration it was issued with: requests signed with it get ExpiredTokenException. */
  expire(accessKeyId: string): void {
    const known = this.#byKeyId.get(accessKeyId);
    if (!known) throw new Error(`no credentials with access key id ${accessKeyId}`);
    known.expiresAt = Math.min(known.expiresAt ?? Number.POSITIVE_INFINITY, Date.now());
  }

  /** Makes every credential of a user unusable at once, as a revoked session does. */
  revokeUser(user: string): void {
    for (const [keyId, credentials] of this.#byKeyId) {
      if (credentials.user === user) this.#byKeyId.delete(keyId);
    }
  }
}
