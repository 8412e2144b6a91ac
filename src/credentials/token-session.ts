import { SignInRequiredError } from './sign-in-required-error.ts';
import type { CredentialSourceKind, CredentialStatus } from './credential-source.ts';
import type { TokenVault } from './vault.ts';

/** An OIDC access token as kept in memory and (JSON) in the vault. */
export interface AccessToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** What a token endpoint handed out (device-code grant or refresh). */
export interface TokenGrant {
  accessToken: string;
  /** Seconds; default one hour. */
  expiresIn?: number | undefined;
  /** Only when the IdP rotates or first issues it. */
  refreshToken?: string | undefined;
}

export interface TokenSessionOptions {
  vault: TokenVault;
  /** Vault keys for the two tokens. */
  keys: { readonly accessToken: string; readonly refreshToken: string };
  now: () => number;
  /**
   * Trades the refresh token for a new grant. When the IdP says the session is over, call
   * `session.end()` (which throws SignInRequiredError).
   */
  renew: (refreshToken: string) => Promise<TokenGrant>;
  /** Runs once the session has ended and the tokens are wiped, before SignInRequiredError is thrown. */
  onEnded: () => void;
  /** Runs when reload() found a session another process stored (e.g. `bedrock-bridge login`). */
  onReloaded?: () => void;
}

/** An access token this close to expiry is renewed before use. */
const RENEW_AHEAD_MS = 60_000;
/** While signed out, the vault is read again at most this often (a keychain read per request would be wasteful). */
const RELOAD_EVERY_MS = 1_000;

/**
 * The OIDC access token + refresh token of a device-flow sign-in: loaded from the vault once,
 * stored back on every grant, renewed one refresh at a time, wiped when the session ends.
 * Shared by the Identity Center and org gateway sources.
 */
export class TokenSession {
  readonly #vault: TokenVault;
  readonly #keys: TokenSessionOptions['keys'];
  readonly #now: () => number;
  readonly #renew: TokenSessionOptions['renew'];
  readonly #onEnded: () => void;
  readonly #onReloaded: () => void;
  #reloading: Promise<boolean> | null = null;
  #lastReloadAt = Number.NEGATIVE_INFINITY;
  #loaded: Promise<void> | null = null;
  #access: AccessToken | null = null;
  #refreshToken: string | null = null;
  #renewal: Promise<string> | null = null;

  constructor(options: TokenSessionOptions) {
    this.#vault = options.vault;
    this.#keys = options.keys;
    this.#now = options.now;
    this.#renew = options.renew;
    this.#onEnded = options.onEnded;
    this.#onReloaded = options.onReloaded ?? (() => {});
  }

  /** Loads tokens from the vault (once). */
  restore(): Promise<void> {
    this.#loaded ??= this.#read();
    return this.#loaded;
  }

  async #read(): Promise<void> {
    const [access, refresh] = await Promise.all([this.#vault.get(this.#keys.accessToken), this.#vault.get(this.#keys.refreshToken)]);
    let parsed: AccessToken | null = null;
    if (access) {
      try {
        parsed = JSON.parse(access) as AccessToken;
      } catch {
        parsed = null;
      }
    }
    this.#access = parsed;
    this.#refreshToken = refresh;
  }

  /**
   * With no session in hand, reads the vault again: a sign-in made since by another process sharing
   * the vault (`bedrock-bridge login` next to a running `serve`) is taken up without a restart. At most
   * one read per RELOAD_EVERY_MS; true when a session is in hand afterwards.
   */
  async reload(): Promise<boolean> {
    await this.restore();
    if (this.signedIn) return true;
    if (this.#now() - this.#lastReloadAt < RELOAD_EVERY_MS) return false;
    this.#reloading ??= (async () => {
      try {
        this.#lastReloadAt = this.#now();
        await this.#read();
        if (this.signedIn) this.#onReloaded();
        return this.signedIn;
      } finally {
        this.#reloading = null;
      }
    })();
    return this.#reloading;
  }

  get access(): Readonly<AccessToken> | null {
    return this.#access;
  }

  get refreshToken(): string | null {
    return this.#refreshToken;
  }

  /** True when a token is in hand (the session may still have ended server-side). */
  get signedIn(): boolean {
    return Boolean(this.#refreshToken || (this.#access && this.#access.expiresAt > this.#now()));
  }

  /** The access token while it is still accepted, else null. */
  get unexpiredAccessToken(): string | null {
    return this.#access && this.#access.expiresAt > this.#now() ? this.#access.token : null;
  }

  status(fields: { source: CredentialSourceKind; user: string | null; credentialsExpireAt: Date | null }): CredentialStatus {
    return {
      ...fields,
      signedIn: this.signedIn,
      // With a refresh token the session lasts until the org ends it (not announced); without one, until the access token expires.
      sessionEndsAt: this.#refreshToken ? null : this.#access ? new Date(this.#access.expiresAt) : null,
      warning: this.#vault.warning,
      tokenStorage: this.#vault.protection,
    };
  }

  async store(grant: TokenGrant): Promise<void> {
    this.#access = { token: grant.accessToken, expiresAt: this.#now() + (grant.expiresIn ?? 3600) * 1000 };
    await this.#vault.set(this.#keys.accessToken, JSON.stringify(this.#access));
    if (grant.refreshToken) {
      this.#refreshToken = grant.refreshToken;
      await this.#vault.set(this.#keys.refreshToken, grant.refreshToken);
    }
  }

  /** A valid access token; renewed with the refresh token when near expiry or when forced (after a 401). */
  async accessToken(force = false): Promise<string> {
    await this.restore();
    if (!this.signedIn) await this.reload();
    if (!force && this.#access && this.#access.expiresAt - this.#now() > RENEW_AHEAD_MS) return this.#access.token;
    this.#renewal ??= (async () => {
      try {
        if (!this.#refreshToken) return await this.end();
        await this.store(await this.#renew(this.#refreshToken));
        return this.#access!.token;
      } finally {
        this.#renewal = null;
      }
    })();
    return this.#renewal;
  }

  /** The org ended the session: wipes both tokens, tells the source, throws SignInRequiredError. */
  async end(): Promise<never> {
    this.forget();
    await Promise.allSettled([this.#vault.delete(this.#keys.accessToken), this.#vault.delete(this.#keys.refreshToken)]);
    this.#onEnded();
    throw new SignInRequiredError();
  }

  /** Drops the tokens from memory (sign-out; the source clears the vault). */
  forget(): void {
    this.#access = null;
    this.#refreshToken = null;
  }
}
