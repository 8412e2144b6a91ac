import type { AwsCredentialIdentity } from '@smithy/types';
import { decodeJwt } from 'jose';
import { CredentialConfigurationError, NotEntitledError, SignInFailedError } from './errors.ts';
import { SignInRequiredError } from './sign-in-required-error.ts';
import type { SignInUi, SignedInIdentity } from './credential-source.ts';
import { DeviceFlowSource } from './device-flow-source.ts';
import type { TokenGrant } from './token-session.ts';
import type { TokenVault } from './vault.ts';
import type { OrgGatewaySettings } from './settings.ts';
import { ORG_GATEWAY_WELL_KNOWN_PATH } from './org-gateway-contract.ts';
import { parseJsonText } from '../core/json-text.ts';
import type { OrgGatewayDocument } from './org-gateway-contract.ts';
import { errorBodyReason } from '../core/error-body-reason.ts';

export const ORG_KEYS = {
  accessToken: 'org-gateway/access-token',
  refreshToken: 'org-gateway/refresh-token',
} as const;

export type { OrgGatewayDocument };

interface OidcConfiguration {
  issuer: string;
  token_endpoint: string;
  device_authorization_endpoint: string;
  userinfo_endpoint?: string;
  revocation_endpoint?: string;
}

export interface OrgGatewaySourceOptions {
  settings: OrgGatewaySettings;
  vault: TokenVault;
  ui?: SignInUi;
  refreshAheadMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

/** A successful token response (access_token present) as a grant. */
function grantOf(body: TokenResponse): TokenGrant {
  return { accessToken: body.access_token!, expiresIn: body.expires_in, refreshToken: body.refresh_token };
}

/** The RFC 8628 token endpoint errors that are poll outcomes rather than failures. */
const DEVICE_POLL_ERRORS = ['authorization_pending', 'slow_down', 'expired_token', 'access_denied'] as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** https only, except on loopback (local test setups). */
export function assertSecureUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CredentialConfigurationError(`${what} is not a valid URL: ${value}`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url;
  throw new CredentialConfigurationError(`${what} must use https: ${value}`);
}

/**
 * Org gateway mode: RFC 8628 device flow against the org's OIDC IdP (plain fetch), then the
 * gateway's credentials endpoint exchanges the access token for short-lived AWS credentials.
 * The access token also authenticates the audit endpoint (bearerToken()).
 */
export class OrgGatewaySource extends DeviceFlowSource {
  readonly kind = 'org-gateway' as const;
  readonly #settings: OrgGatewaySettings;
  readonly #ui: SignInUi | undefined;
  readonly #fetch: typeof fetch;
  #document: Promise<{ gateway: OrgGatewayDocument; oidc: OidcConfiguration }> | null = null;

  constructor(options: OrgGatewaySourceOptions) {
    assertSecureUrl(options.settings.url, 'The org gateway URL');
    super({ vault: options.vault, keys: ORG_KEYS, refreshAheadMs: options.refreshAheadMs, now: options.now, sleep: options.sleep });
    this.#settings = { ...options.settings };
    this.#ui = options.ui;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The user may change with the next sign-in: forget who it was. */
  protected override sessionEnded(): void {
    this.cachedIdentity = null;
    super.sessionEnded();
  }

  /** The gateway's description of the org (region, usage endpoint, default models). */
  async describe(): Promise<OrgGatewayDocument> {
    return (await this.#discover()).gateway;
  }

  #discover(): Promise<{ gateway: OrgGatewayDocument; oidc: OidcConfiguration }> {
    this.#document ??= (async () => {
      const base = this.#settings.url.replace(/\/+$/, '');
      const response = await this.#fetch(`${base}${ORG_GATEWAY_WELL_KNOWN_PATH}`, { headers: { accept: 'application/json' } });
      if (!response.ok) throw new CredentialConfigurationError(`The org gateway answered ${response.status} at ${base}${ORG_GATEWAY_WELL_KNOWN_PATH}`);
      const gateway = (await response.json()) as OrgGatewayDocument;
      if (!gateway.issuer || !gateway.client_id || !gateway.credentials_endpoint) {
        throw new CredentialConfigurationError('The org gateway document lacks issuer, client_id or credentials_endpoint');
      }
      assertSecureUrl(gateway.issuer, 'The IdP issuer');
      assertSecureUrl(gateway.credentials_endpoint, 'The credentials endpoint');
      const discovery = await this.#fetch(`${gateway.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
      if (!discovery.ok) throw new CredentialConfigurationError(`OIDC discovery failed at ${gateway.issuer} (${discovery.status})`);
      const oidc = (await discovery.json()) as OidcConfiguration;
      if (!oidc.device_authorization_endpoint || !oidc.token_endpoint) {
        throw new CredentialConfigurationError(`The IdP ${gateway.issuer} does not offer the device authorization grant (RFC 8628)`);
      }
      return { gateway, oidc };
    })().catch((error: unknown) => {
      this.#document = null;
      throw error;
    });
    return this.#document;
  }

  async #form(url: string, fields: Record<string, string>): Promise<{ status: number; body: TokenResponse }> {
    const response = await this.#fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
    });
    let body: TokenResponse = {};
    try {
      body = (await response.json()) as TokenResponse;
    } catch {
      // non-JSON error page
    }
    return { status: response.status, body };
  }

  async signIn(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.restore();
    const { gateway, oidc } = await this.#discover();
    const start = await this.#form(oidc.device_authorization_endpoint, { client_id: gateway.client_id, scope: gateway.scopes.join(' ') });
    const auth = start.body as TokenResponse & {
      device_code?: string;
      user_code?: string;
      verification_uri?: string;
      verification_uri_complete?: string;
      interval?: number;
    };
    if (start.status !== 200 || !auth.device_code || !auth.user_code || !auth.verification_uri) {
      throw new SignInFailedError('error', `The IdP refused the sign-in request: ${auth.error_description ?? auth.error ?? start.status}`);
    }
    const expiresAt = this.now() + (auth.expires_in ?? 600) * 1000;
    const verificationUrl = auth.verification_uri_complete ?? auth.verification_uri;
    this.#ui?.prompt({
      userCode: auth.user_code,
      verificationUri: auth.verification_uri,
      verificationUriComplete: auth.verification_uri_complete ?? null,
      expiresAt: new Date(expiresAt),
    });
    // Only ever open the configured IdP's own pages.
    if (new URL(verificationUrl).origin === new URL(gateway.issuer).origin) {
      try {
        await this.#ui?.openUrl?.(verificationUrl);
      } catch {
        // the code is on screen
      }
    }

    const deviceCode = auth.device_code;
    await this.pollForGrant({
      intervalSeconds: auth.interval,
      expiresAt,
      signal: options.signal,
      poll: async () => {
        const { status, body } = await this.#form(oidc.token_endpoint, {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: deviceCode,
          client_id: gateway.client_id,
        });
        if (status === 200 && body.access_token) return { grant: grantOf(body) };
        const outcome = DEVICE_POLL_ERRORS.find((error) => error === body.error);
        if (outcome) return outcome;
        throw new SignInFailedError('error', `Sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${status}`}`);
      },
    });
    await this.#checkEntitlement();
  }

  /**
   * The IdP says who the user is; only the gateway says whether the org lets them use Bedrock. Asking
   * it right after sign-in keeps a session that can never serve a request out of the vault: on 403 the
   * tokens are revoked and wiped, and the sign-in fails with the "not entitled" message. Any other
   * failure (gateway briefly down) leaves the sign-in in place; the first request retries.
   */
  async #checkEntitlement(): Promise<void> {
    try {
      await this.credentials();
    } catch (error) {
      if (error instanceof NotEntitledError) {
        await this.#discardSignIn();
        throw error;
      }
      if (error instanceof SignInRequiredError) {
        // The session already ended itself (tokens wiped): the gateway rejects tokens fresh from its own IdP.
        throw new SignInFailedError('error', 'The org gateway did not accept the sign-in (HTTP 401 for a new token). Ask your administrator to check its OIDC settings.');
      }
    }
  }

  /** The OIDC access token for the audit endpoint; pass forceRefresh after a 401. */
  bearerToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    return this.session.accessToken(options.forceRefresh ?? false);
  }

  /** Trades the refresh token for a new access token; a 400/401 from the IdP means the session is over. */
  protected async renewAccessToken(refreshToken: string): Promise<TokenGrant> {
    const { gateway, oidc } = await this.#discover();
    const { status, body } = await this.#form(oidc.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: gateway.client_id,
    });
    if (status === 200 && body.access_token) return grantOf(body);
    if (status === 400 || status === 401) return await this.session.end();
    throw new Error(`The IdP failed to renew the session (HTTP ${status})`);
  }

  /** The gateway's credentials endpoint, authenticated with the access token. */
  protected async fetchCredentials(): Promise<AwsCredentialIdentity> {
    const { gateway } = await this.#discover();
    const call = async (token: string) =>
      this.#fetch(gateway.credentials_endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    let response = await call(await this.bearerToken());
    if (response.status === 401) {
      await response.body?.cancel();
      response = await call(await this.bearerToken({ forceRefresh: true }));
      if (response.status === 401) {
        await response.body?.cancel();
        return this.session.end();
      }
    }
    if (response.status === 403) throw new NotEntitledError(await errorBodyReason(response));
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`The org gateway's credentials endpoint answered HTTP ${response.status}`);
    }
    let body: {
      Version?: number;
      AccessKeyId?: string;
      SecretAccessKey?: string;
      SessionToken?: string;
      Expiration?: string;
    };
    try {
      body = parseJsonText(await response.text()) as typeof body;
    } catch {
      // The parser's own message would quote the answer, secret key and all.
      throw new Error('The org gateway returned credentials that are not valid JSON');
    }
    if (body.Version !== 1 || !body.AccessKeyId || !body.SecretAccessKey) {
      throw new Error('The org gateway returned credentials in an unknown shape');
    }
    if (!body.SessionToken || !body.Expiration) {
      throw new Error('The org gateway returned long-lived credentials; Bedrock Bridge only accepts short-lived ones');
    }
    return {
      accessKeyId: body.AccessKeyId,
      secretAccessKey: body.SecretAccessKey,
      sessionToken: body.SessionToken,
      expiration: new Date(body.Expiration),
    };
  }

  async identity(): Promise<SignedInIdentity | null> {
    if (this.cachedIdentity) return this.cachedIdentity;
    await this.restore();
    if (!this.signedIn) return null;
    // A JWT access token names its user itself. IdPs issuing them for an API (the gateway's audience)
    // refuse them at userinfo, which would cost a token refresh on every lookup. The claims are read for
    // display and the records' user field only: the gateway verifies the token and files records itself.
    const fromToken = userOfJwt(await this.bearerToken());
    if (fromToken) {
      this.cachedIdentity = { user: fromToken, source: this.kind };
      return this.cachedIdentity;
    }
    const { oidc } = await this.#discover();
    if (!oidc.userinfo_endpoint) return null;
    const get = async (token: string) => this.#fetch(oidc.userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } });
    let response = await get(await this.bearerToken());
    if (response.status === 401) {
      await response.body?.cancel();
      response = await get(await this.bearerToken({ forceRefresh: true }));
    }
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    const claims = (await response.json()) as { sub?: string; preferred_username?: string; email?: string };
    const user = claims.preferred_username ?? claims.email ?? claims.sub;
    if (!user) return null;
    this.cachedIdentity = { user, source: this.kind };
    return this.cachedIdentity;
  }

  /** Revokes the refresh and access tokens at the IdP (RFC 7009, when it has an endpoint) and wipes the vault. */
  async signOut(): Promise<void> {
    await this.#revokeTokens();
    await this.wipe();
  }

  /**
   * A sign-in the org does not entitle: revoked, and its own tokens deleted. Not a sign-out: another
   * source's session in the vault (the Identity Center one this login was meant to replace) stays.
   */
  async #discardSignIn(): Promise<void> {
    await this.#revokeTokens();
    this.session.forget();
    this.forgetCredentials();
    await Promise.allSettled(Object.values(ORG_KEYS).map((key) => this.vault.delete(key)));
  }

  /** Revokes the refresh and access tokens at the IdP where it can; offline, there is nothing to do. */
  async #revokeTokens(): Promise<void> {
    await this.restore();
    try {
      const { gateway, oidc } = await this.#discover();
      if (oidc.revocation_endpoint) {
        const revoke = async (token: string, hint: string) => {
          try {
            await this.#form(oidc.revocation_endpoint!, { token, token_type_hint: hint, client_id: gateway.client_id });
          } catch {
            // offline: local wipe still happens
          }
        };
        const { refreshToken, access } = this.session;
        if (refreshToken) await revoke(refreshToken, 'refresh_token');
        if (access) await revoke(access.token, 'access_token');
      }
    } catch {
      // gateway unreachable: the local wipe still happens
    }
  }
}

/** preferred_username, email or sub of a JWT (not verified here), or null for an opaque token. */
function userOfJwt(token: string): string | null {
  try {
    const claims = decodeJwt(token) as { sub?: unknown; preferred_username?: unknown; email?: unknown };
    const user = [claims.preferred_username, claims.email, claims.sub].find((value): value is string => typeof value === 'string' && value.length > 0);
    return user ?? null;
  } catch {
    return null;
  }
}
