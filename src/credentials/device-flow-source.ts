import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { SignInRequiredSignal } from './credential-source.ts';
import type { CredentialSource, CredentialStatus, SignedInIdentity } from './credential-source.ts';
import { createRefreshingProvider } from './refreshing-provider.ts';
import type { RefreshingProvider } from './refreshing-provider.ts';
import { TokenSession } from './token-session.ts';
import type { TokenGrant, TokenSessionOptions } from './token-session.ts';
import type { TokenVault } from './vault.ts';
import { SignInFailedError } from './errors.ts';
import { sleep as defaultSleep } from './util.ts';

/** What one poll of the token endpoint said (RFC 8628 section 3.5): a grant, or why there is none yet. */
export type DevicePoll = { grant: TokenGrant } | 'authorization_pending' | 'slow_down' | 'expired_token' | 'access_denied';

const CODE_EXPIRED = 'The sign-in code expired before it was approved. Start the sign-in again.';

export interface DeviceFlowSourceOptions {
  vault: TokenVault;
  /** Vault keys of the OIDC access and refresh tokens. */
  keys: TokenSessionOptions['keys'];
  refreshAheadMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * What the two device-flow sources (Identity Center, org gateway) share: the OIDC token session,
 * the refreshing AWS credentials built on it, the sign-in-required signal, and the CredentialSource
 * surface over them (restore, signedIn, status, refreshCount, onSignInRequired). A subclass says how
 * to renew the access token and how to trade it for AWS credentials.
 */
export abstract class DeviceFlowSource implements CredentialSource {
  abstract readonly kind: 'identity-center' | 'org-gateway';
  readonly credentials: AwsCredentialIdentityProvider;
  protected readonly vault: TokenVault;
  protected readonly now: () => number;
  protected readonly session: TokenSession;
  /** The signed-in user, once looked up; cleared whenever the credentials may be someone else's. */
  protected cachedIdentity: SignedInIdentity | null = null;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #signal = new SignInRequiredSignal();
  readonly #provider: RefreshingProvider;

  constructor(options: DeviceFlowSourceOptions) {
    this.vault = options.vault;
    this.now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#provider = createRefreshingProvider({
      fetch: () => this.fetchCredentials(),
      ...(options.refreshAheadMs !== undefined ? { refreshAheadMs: options.refreshAheadMs } : {}),
      now: this.now,
    });
    this.credentials = this.#provider.provider;
    this.session = new TokenSession({
      vault: this.vault,
      keys: options.keys,
      now: this.now,
      renew: (refreshToken) => this.renewAccessToken(refreshToken),
      onEnded: () => this.sessionEnded(),
      onReloaded: () => {
        this.forgetCredentials();
        this.#signal.reset();
      },
    });
  }

  /** Short-lived AWS credentials for the signed-in user (called by the refreshing provider). */
  protected abstract fetchCredentials(): Promise<AwsCredentialIdentity>;
  /** Trades the refresh token for a new grant; calls `this.session.end()` when the org ended the session. */
  protected abstract renewAccessToken(refreshToken: string): Promise<TokenGrant>;
  abstract identity(): Promise<SignedInIdentity | null>;

  /** The org ended the session; the tokens are already wiped. */
  protected sessionEnded(): void {
    this.#signal.raise();
  }

  /**
   * The device flow's polling half: every `interval` seconds (5 more after each slow_down) until the
   * user approves, denies, or the code expires; then stores the grant and starts the new session.
   * Throws SignInFailedError on denial, expiry or cancellation.
   */
  protected async pollForGrant(options: {
    intervalSeconds: number | undefined;
    /** Epoch ms when the device code expires. */
    expiresAt: number;
    signal: AbortSignal | undefined;
    poll: () => Promise<DevicePoll>;
  }): Promise<void> {
    let intervalMs = Math.max(1, options.intervalSeconds ?? 5) * 1000;
    for (;;) {
      if (options.signal?.aborted) throw new SignInFailedError('cancelled', 'Sign-in was cancelled.');
      await this.#sleep(intervalMs, options.signal);
      if (this.now() >= options.expiresAt) throw new SignInFailedError('expired', CODE_EXPIRED);
      const outcome = await options.poll();
      if (outcome === 'authorization_pending') continue;
      if (outcome === 'slow_down') {
        intervalMs += 5000;
        continue;
      }
      if (outcome === 'expired_token') throw new SignInFailedError('expired', CODE_EXPIRED);
      if (outcome === 'access_denied') throw new SignInFailedError('denied', 'The sign-in request was denied.');
      await this.session.store(outcome.grant);
      break;
    }
    this.forgetCredentials();
    this.#signal.reset();
  }

  /** Drops the cached identity and AWS credentials (role switch, new sign-in). */
  protected forgetCredentials(): void {
    this.cachedIdentity = null;
    this.#provider.invalidate();
  }

  /** Sign-out's local half: forgets everything and wipes the vault. */
  protected async wipe(): Promise<void> {
    this.session.forget();
    this.forgetCredentials();
    await this.vault.clear();
  }

  /** Successful AWS credential fetches so far (tests, diagnostics). */
  get refreshCount(): number {
    return this.#provider.refreshCount;
  }

  onSignInRequired(listener: () => void): () => void {
    return this.#signal.on(listener);
  }

  /** Loads tokens from the vault (once). */
  restore(): Promise<void> {
    return this.session.restore();
  }

  /** True when a token is in hand (the session may still have ended server-side). */
  get signedIn(): boolean {
    return this.session.signedIn;
  }

  /** Signed out: looks in the vault for a session another process stored since (see TokenSession.reload). */
  reload(): Promise<boolean> {
    return this.session.reload();
  }

  status(): CredentialStatus {
    return this.session.status({
      source: this.kind,
      user: this.cachedIdentity?.user ?? null,
      credentialsExpireAt: this.#provider.current()?.expiration ?? null,
    });
  }
}
