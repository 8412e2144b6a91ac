import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OrgConfig } from './config.ts';

/**
 * Who holds an OIDC access token. JWTs are verified locally against the issuer's JWKS (signature,
 * issuer, audience, expiry with the configured clock skew); other tokens are asked to the IdP, at its
 * userinfo endpoint or by introspection (RFC 7662), the answer cached a minute by the token's hash.
 * The identity is only ever what this check found.
 */
export interface VerifiedToken {
  user: string;
  groups: string[];
  claims: Record<string, unknown>;
}

export type TokenCheck =
  /** `expiresAt` (epoch ms) when the IdP said when the token ends. */
  | { ok: true; identity: VerifiedToken; expiresAt?: number }
  /** The token is no good: 401. */
  | { ok: false; status: 401; reason: string }
  /** The IdP could not be asked: 503. */
  | { ok: false; status: 503; reason: string };

export interface IssuerMetadata {
  jwks_uri?: string;
  userinfo_endpoint?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  introspection_endpoint?: string;
}

/** RFC 7662's answer: `active`, then the token's claims. */
interface Introspection extends Record<string, unknown> {
  active?: boolean;
  exp?: number;
  iss?: string;
  aud?: string | string[];
  username?: string;
}

/** How long the IdP's answer about an opaque token is trusted (bounded by the token's own expiry). */
const ASKED_CACHE_MS = 60_000;
const ASKED_CACHE_ENTRIES = 10_000;

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
  readonly #introspectionSecret: string | undefined;
  readonly #askedCache = new Map<string, { identity: VerifiedToken; until: number }>();

  /** `introspectionSecret`: the introspection client's secret (from the environment, never the config file). */
  constructor(oidc: OrgConfig['oidc'], options: { fetch?: typeof fetch; introspectionSecret?: string } = {}) {
    this.#oidc = oidc;
    this.#fetch = options.fetch ?? fetch;
    this.#introspectionSecret = options.introspectionSecret;
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
    if (this.#oidc.opaqueTokens === 'reject') return { ok: false, status: 401, reason: 'the access token is not a JWT for this gateway' };
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.#askedCache.get(key);
    if (cached && cached.until > Date.now()) return { ok: true, identity: cached.identity };
    const checked = this.#oidc.opaqueTokens === 'introspection' ? await this.#introspect(token, metadata) : await this.#verifyAtUserinfo(token, metadata);
    if (checked.ok) {
      if (this.#askedCache.size >= ASKED_CACHE_ENTRIES) this.#askedCache.clear();
      this.#askedCache.set(key, { identity: checked.identity, until: Math.min(Date.now() + ASKED_CACHE_MS, checked.expiresAt ?? Infinity) });
    }
    return checked;
  }

  /** POSTs to the introspection endpoint, authenticated as the gateway's own client (HTTP Basic). */
  async #introspect(token: string, metadata: IssuerMetadata): Promise<TokenCheck> {
    if (!metadata.introspection_endpoint) return { ok: false, status: 503, reason: 'the identity provider has no introspection endpoint' };
    const clientId = this.#oidc.introspectionClientId ?? '';
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(this.#introspectionSecret ?? '')}`).toString('base64');
    let response: Response;
    try {
      response = await this.#fetch(metadata.introspection_endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      return { ok: false, status: 503, reason: 'the identity provider could not be reached' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      // The IdP refusing the gateway's own client is a configuration problem, not the user's token.
      return { ok: false, status: 503, reason: `token introspection answered ${response.status}` };
    }
    const answer = (await response.json()) as Introspection;
    if (answer.active !== true) return { ok: false, status: 401, reason: 'the access token is not valid' };
    if (answer.iss !== undefined && answer.iss !== this.#oidc.issuer) return { ok: false, status: 401, reason: 'the access token is from another issuer' };
    const wanted = [this.#oidc.audience ?? []].flat();
    const audiences = [answer.aud ?? []].flat();
    if (wanted.length > 0 && !audiences.some((audience) => wanted.includes(audience))) return { ok: false, status: 401, reason: 'the access token is for another audience' };
    const identity = this.identityOf({ ...(answer.username ? { preferred_username: answer.username } : {}), ...answer });
    if (!identity) return { ok: false, status: 401, reason: 'the access token names no user' };
    return { ok: true, identity, ...(typeof answer.exp === 'number' ? { expiresAt: answer.exp * 1000 } : {}) };
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
    // Access tokens carry scopes (RFC 9068 `scope`; Entra ID and Okta `scp`); ID tokens do not. An ID
    // token whose audience happens to be the configured one must not pass as an access token.
    if (payload.scope === undefined && (payload as { scp?: unknown }).scp === undefined) {
      return { ok: false, status: 401, reason: 'the token is not an access token (it has no scope)' };
    }
    const identity = this.identityOf(payload as Record<string, unknown>);
    return identity ? { ok: true, identity } : { ok: false, status: 401, reason: 'the access token names no user' };
  }

  async #verifyAtUserinfo(token: string, metadata: IssuerMetadata): Promise<TokenCheck> {
    if (!metadata.userinfo_endpoint) return { ok: false, status: 401, reason: 'the access token is not a JWT for this gateway' };
    let response: Response;
    try {
      response = await this.#fetch(metadata.userinfo_endpoint, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
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
    return identity ? { ok: true, identity } : { ok: false, status: 401, reason: 'the access token names no user' };
  }
}
