import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OrgConfig } from './config.ts';

/**
 * Who holds an OIDC access token. JWTs are verified locally against the issuer's JWKS (signature,
 * issuer, audience, expiry with the configured clock skew); other tokens are asked to the IdP's
 * userinfo endpoint (cached a minute, by hash). The identity is only ever what this check found.
 */
export interface VerifiedToken {
  user: string;
  groups: string[];
  claims: Record<string, unknown>;
}

export type TokenCheck =
  | { ok: true; identity: VerifiedToken }
  /** The token is no good: 401. */
  | { ok: false; status: 401; reason: string }
  /** The IdP could not be asked: 503. */
  | { ok: false; status: 503; reason: string };

export interface IssuerMetadata {
  jwks_uri?: string;
  userinfo_endpoint?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
}

const USERINFO_CACHE_MS = 60_000;
const USERINFO_CACHE_ENTRIES = 10_000;

function looksLikeJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === 'string';
  } catch {
    return false;
  }
}

/** A JWT failure, said without the token. */
function jwtFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the access token is for another audience';
    if (error.claim === 'iss') return 'the access token is from another issuer';
    if (error.claim === 'nbf') return 'the access token is not valid yet';
    return `the access token's ${error.claim} claim is not valid`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the access token signature is not valid';
  return 'the access token is not valid';
}

export class TokenVerifier {
  readonly #oidc: OrgConfig['oidc'];
  readonly #fetch: typeof fetch;
  #metadata: Promise<IssuerMetadata> | null = null;
  #jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  readonly #userinfoCache = new Map<string, { identity: VerifiedToken; until: number }>();

  constructor(oidc: OrgConfig['oidc'], options: { fetch?: typeof fetch } = {}) {
    this.#oidc = oidc;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The issuer's discovery document (cached; asked again after a failure). */
  discover(): Promise<IssuerMetadata> {
    this.#metadata ??= (async () => {
      const response = await this.#fetch(`${this.#oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
      return (await response.json()) as IssuerMetadata;
    })().catch((error: unknown) => {
      this.#metadata = null;
      throw error;
    });
    return this.#metadata;
  }

  /** The identity in verified claims, or null when no configured claim names the user. */
  identityOf(claims: Record<string, unknown>): VerifiedToken | null {
    const user = this.#oidc.userClaims.map((name) => claims[name]).find((value): value is string => typeof value === 'string' && value.length > 0);
    if (!user) return null;
    const rawGroups = claims[this.#oidc.groupsClaim];
    const groups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === 'string') : typeof rawGroups === 'string' ? [rawGroups] : [];
    return { user, groups, claims };
  }

  async verify(token: string): Promise<TokenCheck> {
    let metadata: IssuerMetadata;
    try {
      metadata = await this.discover();
    } catch {
      return { ok: false, status: 503, reason: 'the identity provider could not be reached' };
    }
    if (looksLikeJwt(token) && this.#oidc.audience !== undefined) return this.#verifyJwt(token, metadata);
    if (this.#oidc.opaqueTokens === 'reject' || !metadata.userinfo_endpoint) return { ok: false, status: 401, reason: 'the access token is not a JWT for this gateway' };
    return this.#verifyAtUserinfo(token, metadata.userinfo_endpoint);
  }

  async #verifyJwt(token: string, metadata: IssuerMetadata): Promise<TokenCheck> {
    if (!metadata.jwks_uri) return { ok: false, status: 503, reason: 'the identity provider publishes no JWKS' };
    this.#jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 10_000 });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.#oidc.issuer,
        audience: this.#oidc.audience!,
        clockTolerance: this.#oidc.clockSkewSeconds,
        requiredClaims: ['exp', 'iss', 'aud'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && error.name === 'TypeError')) {
        return { ok: false, status: 503, reason: 'the identity provider could not be reached' };
      }
      return { ok: false, status: 401, reason: jwtFailure(error) };
    }
    const identity = this.identityOf(payload as Record<string, unknown>);
    return identity ? { ok: true, identity } : { ok: false, status: 401, reason: 'the access token names no user' };
  }

  async #verifyAtUserinfo(token: string, endpoint: string): Promise<TokenCheck> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const cached = this.#userinfoCache.get(key);
    if (cached && cached.until > now) return { ok: true, identity: cached.identity };
    let response: Response;
    try {
      response = await this.#fetch(endpoint, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    } catch {
      return { ok: false, status: 503, reason: 'the identity provider could not be reached' };
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { ok: false, status: 401, reason: 'the access token is not valid' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, status: 503, reason: `the identity provider answered ${response.status}` };
    }
    const identity = this.identityOf((await response.json()) as Record<string, unknown>);
    if (!identity) return { ok: false, status: 401, reason: 'the access token names no user' };
    if (this.#userinfoCache.size >= USERINFO_CACHE_ENTRIES) this.#userinfoCache.clear();
    this.#userinfoCache.set(key, { identity, until: now + USERINFO_CACHE_MS });
    return { ok: true, identity };
  }
}
