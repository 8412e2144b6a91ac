import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { GetRoleCredentialsCommand, ListAccountRolesCommand, ListAccountsCommand, LogoutCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { CredentialConfigurationError, SignInFailedError } from './errors.ts';
import type { SignInUi, SignedInIdentity } from './credential-source.ts';
import { DeviceFlowSource } from './device-flow-source.ts';
import type { DevicePoll } from './device-flow-source.ts';
import type { TokenGrant } from './token-session.ts';
import type { TokenVault } from './vault.ts';
import type { IdentityCenterSettings } from './settings.ts';
import { sessionNameFromArn } from './util.ts';

export const IDC_KEYS = {
  registration: 'identity-center/client-secret',
  accessToken: 'identity-center/access-token',
  refreshToken: 'identity-center/refresh-token',
} as const;

export interface IdentityCenterSourceOptions {
  settings: IdentityCenterSettings;
  vault: TokenVault;
  ui?: SignInUi;
  clientName?: string;
  refreshAheadMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Registration {
  clientId: string;
  clientSecret: string;
  /** Epoch ms. */
  expiresAt: number;
  /** The OIDC endpoint/region it was made for. */
  scope: string;
}

export interface AccountChoice {
  accountId: string;
  accountName: string | null;
  emailAddress: string | null;
}

export interface RoleChoice {
  accountId: string;
  roleName: string;
}

/**
 * A new sign-in registers the client again when its secret expires within this margin: the session's
 * refresh token works only as long as the client that obtained it, so a session begun on a secret about
 * to expire would be cut short. A day costs little: a registration lives 90 days.
 */
const REGISTRATION_RENEW_MARGIN_MS = 86_400_000;

/** Errors after which only a new device-flow sign-in helps. */
const SESSION_OVER = new Set([
  'InvalidGrantException',
  'ExpiredTokenException',
  'InvalidClientException',
  'UnauthorizedClientException',
  'AccessDeniedException',
]);

/** The SSO OIDC exceptions for the RFC 8628 poll outcomes. */
const DEVICE_POLL_EXCEPTIONS = new Map<string, Exclude<DevicePoll, { grant: TokenGrant }>>([
  ['AuthorizationPendingException', 'authorization_pending'],
  ['SlowDownException', 'slow_down'],
  ['ExpiredTokenException', 'expired_token'],
  ['AccessDeniedException', 'access_denied'],
]);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function grantOf(token: { accessToken?: string; expiresIn?: number; refreshToken?: string }): TokenGrant {
  if (!token.accessToken) throw new Error('Identity Center did not return an access token');
  return { accessToken: token.accessToken, expiresIn: token.expiresIn, refreshToken: token.refreshToken };
}

/**
 * AWS IAM Identity Center: device-flow sign-in through @aws-sdk/client-sso-oidc, role credentials
 * through @aws-sdk/client-sso GetRoleCredentials, the user's name through STS GetCallerIdentity.
 * The access token is renewed silently with the refresh token until the org's session ends.
 * Tokens and the client secret live only in the TokenVault and in memory.
 */
export class IdentityCenterSource extends DeviceFlowSource {
  readonly kind = 'identity-center' as const;
  readonly #settings: IdentityCenterSettings;
  readonly #ui: SignInUi | undefined;
  readonly #clientName: string;
  readonly #oidc: SSOOIDCClient;
  readonly #portal: SSOClient;

  constructor(options: IdentityCenterSourceOptions) {
    super({ vault: options.vault, keys: IDC_KEYS, refreshAheadMs: options.refreshAheadMs, now: options.now, sleep: options.sleep });
    this.#settings = { ...options.settings };
    this.#ui = options.ui;
    this.#clientName = options.clientName ?? 'bedrock-bridge';
    const region = this.#settings.region;
    this.#oidc = new SSOOIDCClient({ region, ...(this.#settings.oidcEndpoint ? { endpoint: this.#settings.oidcEndpoint } : {}) });
    this.#portal = new SSOClient({ region, ...(this.#settings.portalEndpoint ? { endpoint: this.#settings.portalEndpoint } : {}) });
  }

  get settings(): Readonly<IdentityCenterSettings> {
    return this.#settings;
  }

  /** Which OIDC service a stored registration belongs to (another region or endpoint means another client). */
  get #registrationScope(): string {
    return `${this.#settings.region}|${this.#settings.oidcEndpoint ?? ''}`;
  }

  async #storedRegistration(): Promise<Registration | null> {
    const stored = await this.vault.get(IDC_KEYS.registration);
    if (!stored) return null;
    try {
      const registration = JSON.parse(stored) as Registration;
      return registration.scope === this.#registrationScope ? registration : null;
    } catch {
      return null;
    }
  }

  /**
   * The client a new sign-in runs as: the stored registration while its secret has more than
   * REGISTRATION_RENEW_MARGIN_MS to live, else a new one. A new one is only stored once the sign-in
   * succeeds (#keepRegistration): until then the current session's refresh token still needs the old one.
   */
  async #registrationForSignIn(forceNew = false): Promise<Registration> {
    const stored = forceNew ? null : await this.#storedRegistration();
    if (stored && stored.expiresAt - this.now() > REGISTRATION_RENEW_MARGIN_MS) return stored;
    const out = await this.#oidc.send(
      new RegisterClientCommand({ clientName: this.#clientName, clientType: 'public', scopes: ['sso:account:access'] }),
    );
    if (!out.clientId || !out.clientSecret) throw new Error('Identity Center did not return a client registration');
    return {
      clientId: out.clientId,
      clientSecret: out.clientSecret,
      expiresAt: (out.clientSecretExpiresAt ?? 0) * 1000,
      scope: this.#registrationScope,
    };
  }

  async #keepRegistration(registration: Registration): Promise<void> {
    await this.vault.set(IDC_KEYS.registration, JSON.stringify(registration));
  }

  /**
   * Runs the device flow: shows the code, opens the verification URL, polls until the user
   * approves (or denies, or the code expires). Throws SignInFailedError on denial/expiry.
   */
  async signIn(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.restore();
    let registration = await this.#registrationForSignIn();
    let authorization;
    try {
      authorization = await this.#oidc.send(
        new StartDeviceAuthorizationCommand({ clientId: registration.clientId, clientSecret: registration.clientSecret, startUrl: this.#settings.startUrl }),
      );
    } catch (error) {
      if (errorName(error) !== 'InvalidClientException') throw error;
      registration = await this.#registrationForSignIn(true);
      authorization = await this.#oidc.send(
        new StartDeviceAuthorizationCommand({ clientId: registration.clientId, clientSecret: registration.clientSecret, startUrl: this.#settings.startUrl }),
      );
    }
    const { deviceCode, userCode, verificationUri, verificationUriComplete } = authorization;
    if (!deviceCode || !userCode || !verificationUri) throw new Error('Identity Center did not return a device code');
    const expiresAt = this.now() + (authorization.expiresIn ?? 600) * 1000;
    this.#ui?.prompt({ userCode, verificationUri, verificationUriComplete: verificationUriComplete ?? null, expiresAt: new Date(expiresAt) });
    try {
      await this.#ui?.openUrl?.(verificationUriComplete ?? verificationUri);
    } catch {
      // the code is on screen; the user can open the URL themselves
    }

    await this.pollForGrant({
      intervalSeconds: authorization.interval,
      expiresAt,
      signal: options.signal,
      poll: async () => {
        try {
          const token = await this.#oidc.send(
            new CreateTokenCommand({
              clientId: registration.clientId,
              clientSecret: registration.clientSecret,
              grantType: 'urn:ietf:params:oauth:grant-type:device_code',
              deviceCode,
            }),
          );
          return { grant: grantOf(token) };
        } catch (error) {
          const outcome = DEVICE_POLL_EXCEPTIONS.get(errorName(error));
          if (outcome) return outcome;
          throw error;
        }
      },
    });
    await this.#keepRegistration(registration);
  }

  /**
   * Trades the refresh token for a new access token; the org ending the session ends it here too.
   * Always as the client the session signed in with (a refresh token is bound to it), even when its
   * secret is near expiry: registering anew here would end a session that could still be renewed.
   */
  protected async renewAccessToken(refreshToken: string): Promise<TokenGrant> {
    const registration = await this.#storedRegistration();
    if (!registration) return await this.session.end();
    try {
      return grantOf(
        await this.#oidc.send(
          new CreateTokenCommand({ clientId: registration.clientId, clientSecret: registration.clientSecret, grantType: 'refresh_token', refreshToken }),
        ),
      );
    } catch (error) {
      if (SESSION_OVER.has(errorName(error))) return await this.session.end();
      throw error;
    }
  }

  async #resolveRole(accessToken: string): Promise<RoleChoice> {
    if (this.#settings.accountId && this.#settings.roleName) {
      return { accountId: this.#settings.accountId, roleName: this.#settings.roleName };
    }
    const accounts = await this.#listAccountsWith(accessToken);
    if (accounts.length === 1) {
      const roles = await this.#listRolesWith(accessToken, accounts[0]!.accountId);
      if (roles.length === 1) {
        this.#settings.accountId = roles[0]!.accountId;
        this.#settings.roleName = roles[0]!.roleName;
        return roles[0]!;
      }
    }
    throw new CredentialConfigurationError('Choose an AWS account and role for Bedrock Bridge (settings, or `bedrock-bridge login --account ID --role NAME`).');
  }

  /** Role credentials through GetRoleCredentials. */
  protected async fetchCredentials(): Promise<AwsCredentialIdentity> {
    const { role, out } = await this.#withToken(async (token) => {
      const role = await this.#resolveRole(token);
      const out = await this.#portal.send(new GetRoleCredentialsCommand({ accessToken: token, accountId: role.accountId, roleName: role.roleName }));
      return { role, out };
    });
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = out.roleCredentials ?? {};
    if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration) throw new Error('Identity Center returned incomplete role credentials');
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration), accountId: role.accountId };
  }

  /** Runs a portal call; on 401 renews the access token once and retries; a second 401 means the session is over. */
  async #withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.session.accessToken());
    } catch (error) {
      if (errorName(error) !== 'UnauthorizedException') throw error;
    }
    try {
      return await call(await this.session.accessToken(true));
    } catch (error) {
      if (errorName(error) === 'UnauthorizedException') return this.session.end();
      throw error;
    }
  }

  async #listAccountsWith(accessToken: string): Promise<AccountChoice[]> {
    const accounts: AccountChoice[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.#portal.send(new ListAccountsCommand({ accessToken, ...(nextToken ? { nextToken } : {}) }));
      for (const a of out.accountList ?? []) {
        if (a.accountId) accounts.push({ accountId: a.accountId, accountName: a.accountName ?? null, emailAddress: a.emailAddress ?? null });
      }
      nextToken = out.nextToken;
    } while (nextToken);
    return accounts;
  }

  async #listRolesWith(accessToken: string, accountId: string): Promise<RoleChoice[]> {
    const roles: RoleChoice[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.#portal.send(new ListAccountRolesCommand({ accessToken, accountId, ...(nextToken ? { nextToken } : {}) }));
      for (const r of out.roleList ?? []) if (r.roleName) roles.push({ accountId, roleName: r.roleName });
      nextToken = out.nextToken;
    } while (nextToken);
    return roles;
  }

  /** The signed-in user's accounts (for the picker). */
  listAccounts(): Promise<AccountChoice[]> {
    return this.#withToken((token) => this.#listAccountsWith(token));
  }

  listRoles(accountId: string): Promise<RoleChoice[]> {
    return this.#withToken((token) => this.#listRolesWith(token, accountId));
  }

  /** Switches account/role; the next request fetches credentials for it. */
  selectRole(accountId: string, roleName: string): void {
    this.#settings.accountId = accountId;
    this.#settings.roleName = roleName;
    this.forgetCredentials();
  }

  async identity(): Promise<SignedInIdentity | null> {
    if (this.cachedIdentity) return this.cachedIdentity;
    if (!this.signedIn) return null;
    const credentials = await this.credentials();
    const sts = new STSClient({
      region: this.#settings.region,
      credentials,
      ...(this.#settings.stsEndpoint ? { endpoint: this.#settings.stsEndpoint } : {}),
    });
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      const arn = out.Arn ?? '';
      this.cachedIdentity = {
        user: sessionNameFromArn(arn),
        source: this.kind,
        ...(out.Account ? { accountId: out.Account } : {}),
        ...(this.#settings.roleName ? { roleName: this.#settings.roleName } : {}),
        arn,
      };
      return this.cachedIdentity;
    } finally {
      sts.destroy();
    }
  }

  /** Ends the portal session (Logout revokes it server-side) and wipes the vault. */
  async signOut(): Promise<void> {
    await this.restore();
    const logout = async (token: string): Promise<boolean> => {
      try {
        await this.#portal.send(new LogoutCommand({ accessToken: token }));
        return true;
      } catch {
        return false;
      }
    };
    const current = this.session.unexpiredAccessToken;
    const refreshToken = this.session.refreshToken;
    if (!(current && (await logout(current))) && refreshToken) {
      // The access token is no longer accepted: renew it once so the session really ends server-side.
      try {
        const registration = await this.#storedRegistration();
        if (!registration) throw new Error('no client registration: the session cannot be renewed');
        const renewed = await this.#oidc.send(
          new CreateTokenCommand({ clientId: registration.clientId, clientSecret: registration.clientSecret, grantType: 'refresh_token', refreshToken }),
        );
        if (renewed.accessToken) await logout(renewed.accessToken);
      } catch {
        // the session is already over, or we are offline: the local wipe below still happens
      }
    }
    await this.wipe();
  }

  destroy(): void {
    this.#oidc.destroy();
    this.#portal.destroy();
  }
}
