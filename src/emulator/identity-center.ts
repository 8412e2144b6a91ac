import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CredentialRegistry } from './credential-registry.ts';

/**
 * IAM Identity Center as @aws-sdk/client-sso-oidc and @aws-sdk/client-sso see it (restJson1):
 * OIDC (POST /client/register, /device_authorization, /token) and the access portal
 * (GET /assignment/accounts, /assignment/roles, /federation/credentials, POST /logout, with the
 * `x-amz-sso_bearer_token` header). Role credentials go into the shared CredentialRegistry, so
 * the Bedrock and STS emulators accept them. Tests drive approval through `control`.
 */
export interface EmulatedAccount {
  accountId: string;
  accountName: string;
  emailAddress: string;
  roles: string[];
}

export interface IdentityCenterEmulatorOptions {
  accounts?: EmulatedAccount[];
  /** Role credential lifetime; default 1 hour. */
  credentialTtlMs?: number;
  /** Access token lifetime; default 8 hours. */
  accessTokenTtlMs?: number;
  /** Device code lifetime; default 10 minutes. */
  deviceCodeTtlMs?: number;
  /** Polling interval in whole seconds; default 1 (the real service says 1 too). */
  intervalSeconds?: number;
  /** Client registration lifetime; default 90 days. */
  clientSecretTtlMs?: number;
  /** Approve every new user code at once as this user (demos, `bedrock-bridge emulator`). */
  autoApproveAs?: string;
  now?: () => number;
}

export interface IdentityCenterStats {
  registerClient: number;
  startDeviceAuthorization: number;
  createTokenDeviceCode: number;
  createTokenRefresh: number;
  slowDown: number;
  roleCredentials: number;
  logout: number;
}

export interface IdentityCenterControl {
  /** Approves a pending user code for `user` (the Identity Center username; the STS session name). */
  approve(userCode: string, user: string): void;
  deny(userCode: string): void;
  /** Makes a device code expire now. */
  expireDeviceCode(userCode: string): void;
  /** The next `count` polls of this code answer SlowDownException. */
  slowDown(userCode: string, count?: number): void;
  /** Every access token issued so far stops working (portal answers 401); refresh tokens still work. */
  expireAccessTokens(): void;
  /** Ends the user's session: refresh and access tokens die, and so do their role credentials. */
  revokeSession(user: string): void;
  setCredentialTtl(ms: number): void;
  setAccessTokenTtl(ms: number): void;
  /** Resolves with the next user code a client asks for. */
  nextUserCode(): Promise<string>;
  pendingUserCodes(): string[];
  readonly stats: IdentityCenterStats;
}

interface Registration {
  clientId: string;
  clientSecret: string;
  expiresAt: number;
  scopes: string[];
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  intervalMs: number;
  lastPollAt: number;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  user: string | null;
  forcedSlowDowns: number;
}

interface Session {
  user: string;
  clientId: string;
  refreshToken: string | null;
  revoked: boolean;
}

interface AccessToken {
  session: Session;
  expiresAt: number;
}

const DEFAULT_ACCOUNTS: EmulatedAccount[] = [
  { accountId: '111122223333', accountName: 'Dev', emailAddress: 'dev@example.com', roles: ['BedrockUser'] },
];

function token(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

function userCode(): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  let code = '';
  for (let i = 0; i < 8; i += 1) {
    code += alphabet[(bytes[i] ?? 0) % alphabet.length];
    if (i === 3) code += '-';
  }
  return code;
}

function oidcError(c: Context, status: number, type: string, error: string, description: string): Response {
  return c.json({ error, error_description: description }, status as 400, {
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/`,
  });
}

function portalError(c: Context, status: number, type: string, message: string): Response {
  return c.json({ message }, status as 400, { 'x-amzn-errortype': type });
}

export function createIdentityCenterEmulator(
  registry: CredentialRegistry,
  options: IdentityCenterEmulatorOptions = {},
): { routes: Hono; control: IdentityCenterControl } {
  const now = options.now ?? Date.now;
  const accounts = options.accounts ?? DEFAULT_ACCOUNTS;
  let credentialTtl = options.credentialTtlMs ?? 3600_000;
  let accessTokenTtl = options.accessTokenTtlMs ?? 8 * 3600_000;
  const deviceCodeTtl = options.deviceCodeTtlMs ?? 600_000;
  const intervalSeconds = options.intervalSeconds ?? 1;
  const clientSecretTtl = options.clientSecretTtlMs ?? 90 * 86400_000;

  const registrations = new Map<string, Registration>();
  const byDeviceCode = new Map<string, DeviceAuthorization>();
  const byUserCode = new Map<string, DeviceAuthorization>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, Session>();
  const sessions = new Set<Session>();
  const codeWaiters: Array<(code: string) => void> = [];
  const stats: IdentityCenterStats = {
    registerClient: 0,
    startDeviceAuthorization: 0,
    createTokenDeviceCode: 0,
    createTokenRefresh: 0,
    slowDown: 0,
    roleCredentials: 0,
    logout: 0,
  };

  const authenticate = (c: Context, clientId: unknown, clientSecret: unknown): Registration | Response => {
    const registration = typeof clientId === 'string' ? registrations.get(clientId) : undefined;
    if (!registration || registration.clientSecret !== clientSecret) {
      return oidcError(c, 401, 'InvalidClientException', 'invalid_client', 'Invalid client credentials');
    }
    if (registration.expiresAt <= now()) {
      return oidcError(c, 401, 'InvalidClientException', 'invalid_client', 'Client registration has expired');
    }
    return registration;
  };

  const issueTokens = (session: Session, withRefresh: boolean) => {
    const accessToken = token('aoa');
    accessTokens.set(accessToken, { session, expiresAt: now() + accessTokenTtl });
    let refreshToken: string | undefined;
    if (withRefresh) {
      if (session.refreshToken) refreshTokens.delete(session.refreshToken);
      refreshToken = token('aor');
      session.refreshToken = refreshToken;
      refreshTokens.set(refreshToken, session);
    }
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: Math.max(1, Math.round(accessTokenTtl / 1000)),
      ...(refreshToken ? { refreshToken } : {}),
    };
  };

  const routes = new Hono();

  routes.post('/client/register', async (c) => {
    stats.registerClient += 1;
    const body = (await c.req.json().catch(() => null)) as { clientName?: string; clientType?: string; scopes?: string[] } | null;
    if (!body?.clientName || !body.clientType) {
      return oidcError(c, 400, 'InvalidRequestException', 'invalid_request', 'clientName and clientType are required');
    }
    if (body.clientType !== 'public') {
      return oidcError(c, 400, 'InvalidClientMetadataException', 'invalid_client_metadata', 'clientType must be public');
    }
    const issuedAt = now();
    const registration: Registration = {
      clientId: token('cid'),
      clientSecret: token('csec'),
      expiresAt: issuedAt + clientSecretTtl,
      scopes: body.scopes ?? [],
    };
    registrations.set(registration.clientId, registration);
    return c.json({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      clientIdIssuedAt: Math.floor(issuedAt / 1000),
      clientSecretExpiresAt: Math.floor(registration.expiresAt / 1000),
    });
  });

  routes.post('/device_authorization', async (c) => {
    stats.startDeviceAuthorization += 1;
    const body = (await c.req.json().catch(() => null)) as { clientId?: string; clientSecret?: string; startUrl?: string } | null;
    const registration = authenticate(c, body?.clientId, body?.clientSecret);
    if (registration instanceof Response) return registration;
    if (!body?.startUrl) return oidcError(c, 400, 'InvalidRequestException', 'invalid_request', 'startUrl is required');
    const authorization: DeviceAuthorization = {
      deviceCode: token('dc'),
      userCode: userCode(),
      clientId: registration.clientId,
      expiresAt: now() + deviceCodeTtl,
      intervalMs: intervalSeconds * 1000,
      lastPollAt: 0,
      status: 'pending',
      user: null,
      forcedSlowDowns: 0,
    };
    byDeviceCode.set(authorization.deviceCode, authorization);
    byUserCode.set(authorization.userCode, authorization);
    const origin = new URL(c.req.url).origin;
    if (options.autoApproveAs) {
      authorization.status = 'approved';
      authorization.user = options.autoApproveAs;
    }
    for (const waiter of codeWaiters.splice(0)) waiter(authorization.userCode);
    return c.json({
      deviceCode: authorization.deviceCode,
      userCode: authorization.userCode,
      verificationUri: `${origin}/device`,
      verificationUriComplete: `${origin}/device?user_code=${authorization.userCode}`,
      expiresIn: Math.round(deviceCodeTtl / 1000),
      interval: intervalSeconds,
    });
  });

  routes.post('/token', async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      clientId?: string;
      clientSecret?: string;
      grantType?: string;
      deviceCode?: string;
      refreshToken?: string;
    } | null;
    const registration = authenticate(c, body?.clientId, body?.clientSecret);
    if (registration instanceof Response) return registration;
    if (body?.grantType === 'urn:ietf:params:oauth:grant-type:device_code') {
      stats.createTokenDeviceCode += 1;
      const authorization = body.deviceCode ? byDeviceCode.get(body.deviceCode) : undefined;
      if (!authorization || authorization.clientId !== registration.clientId || authorization.status === 'consumed') {
        return oidcError(c, 400, 'InvalidGrantException', 'invalid_grant', 'Invalid device code provided');
      }
      const t = now();
      if (authorization.expiresAt <= t) {
        return oidcError(c, 400, 'ExpiredTokenException', 'expired_token', 'Device code has expired');
      }
      if (authorization.forcedSlowDowns > 0 || (authorization.lastPollAt && t - authorization.lastPollAt < authorization.intervalMs * 0.8)) {
        if (authorization.forcedSlowDowns > 0) authorization.forcedSlowDowns -= 1;
        authorization.intervalMs += 5000;
        authorization.lastPollAt = t;
        stats.slowDown += 1;
        return oidcError(c, 400, 'SlowDownException', 'slow_down', 'Client is polling too quickly');
      }
      authorization.lastPollAt = t;
      if (authorization.status === 'denied') {
        return oidcError(c, 400, 'AccessDeniedException', 'access_denied', 'The user denied the authorization request');
      }
      if (authorization.status === 'pending' || !authorization.user) {
        return oidcError(c, 400, 'AuthorizationPendingException', 'authorization_pending', 'Authorization is still pending');
      }
      authorization.status = 'consumed';
      const session: Session = { user: authorization.user, clientId: registration.clientId, refreshToken: null, revoked: false };
      sessions.add(session);
      return c.json(issueTokens(session, registration.scopes.includes('sso:account:access')));
    }
    if (body?.grantType === 'refresh_token') {
      stats.createTokenRefresh += 1;
      const session = body.refreshToken ? refreshTokens.get(body.refreshToken) : undefined;
      if (!session || session.revoked || session.clientId !== registration.clientId) {
        return oidcError(c, 400, 'InvalidGrantException', 'invalid_grant', 'Invalid refresh token provided');
      }
      return c.json(issueTokens(session, true));
    }
    return oidcError(c, 400, 'UnsupportedGrantTypeException', 'unsupported_grant_type', 'Unsupported grant type');
  });

  // The verification page a person opens: enter (or confirm) the code and a user name, approve or deny.
  routes.get('/device', (c) => {
    const code = (c.req.query('user_code') ?? '').replace(/[^A-Z-]/gi, '').toUpperCase();
    return c.html(
      `<!doctype html><meta charset="utf-8"><title>Identity Center emulator</title><h1>Authorize request</h1>` +
        `<form method="post" action="/device"><label>Code <input name="user_code" value="${code}"></label> ` +
        `<label>User name <input name="user" value="emulated-user"></label> ` +
        `<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button></form>`,
    );
  });
  routes.post('/device', async (c) => {
    const form = await c.req.parseBody();
    const code = String(form.user_code ?? '').toUpperCase();
    const authorization = byUserCode.get(code);
    if (!authorization || authorization.status !== 'pending') return c.html('<p>Unknown or used code.</p>', 400);
    const user = String(form.user ?? '').trim() || 'emulated-user';
    if (form.decision === 'deny') authorization.status = 'denied';
    else {
      authorization.status = 'approved';
      authorization.user = user;
    }
    return c.html(`<p>Request ${authorization.status}. You can close this window.</p>`);
  });

  const portalSession = (c: Context): AccessToken | Response => {
    const bearer = c.req.header('x-amz-sso_bearer_token');
    const entry = bearer ? accessTokens.get(bearer) : undefined;
    if (!entry || entry.session.revoked || entry.expiresAt <= now()) {
      return portalError(c, 401, 'UnauthorizedException', 'Session token not found or invalid');
    }
    return entry;
  };

  routes.get('/assignment/accounts', (c) => {
    const entry = portalSession(c);
    if (entry instanceof Response) return entry;
    return c.json({
      accountList: accounts.map(({ accountId, accountName, emailAddress }) => ({ accountId, accountName, emailAddress })),
    });
  });

  routes.get('/assignment/roles', (c) => {
    const entry = portalSession(c);
    if (entry instanceof Response) return entry;
    const account = accounts.find((a) => a.accountId === c.req.query('account_id'));
    if (!account) return portalError(c, 404, 'ResourceNotFoundException', 'Account not found');
    return c.json({ roleList: account.roles.map((roleName) => ({ roleName, accountId: account.accountId })) });
  });

  routes.get('/federation/credentials', (c) => {
    const entry = portalSession(c);
    if (entry instanceof Response) return entry;
    const accountId = c.req.query('account_id');
    const roleName = c.req.query('role_name');
    const account = accounts.find((a) => a.accountId === accountId);
    if (!account || !roleName || !account.roles.includes(roleName)) {
      return portalError(c, 403, 'ForbiddenException', 'No access');
    }
    stats.roleCredentials += 1;
    const issued = registry.issue(entry.session.user, `arn:aws:sts::${account.accountId}:assumed-role/${roleName}`, credentialTtl);
    return c.json({
      roleCredentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: issued.expiration.getTime(),
      },
    });
  });

  routes.post('/logout', (c) => {
    stats.logout += 1;
    const entry = portalSession(c);
    if (entry instanceof Response) return entry;
    entry.session.revoked = true;
    if (entry.session.refreshToken) refreshTokens.delete(entry.session.refreshToken);
    return c.body(null, 200);
  });

  const find = (code: string): DeviceAuthorization => {
    const authorization = byUserCode.get(code);
    if (!authorization) throw new Error(`no pending user code ${code}`);
    return authorization;
  };

  const control: IdentityCenterControl = {
    approve(code, user) {
      const authorization = find(code);
      authorization.status = 'approved';
      authorization.user = user;
    },
    deny(code) {
      find(code).status = 'denied';
    },
    expireDeviceCode(code) {
      find(code).expiresAt = now() - 1;
    },
    slowDown(code, count = 1) {
      find(code).forcedSlowDowns += count;
    },
    expireAccessTokens() {
      const t = now();
      for (const entry of accessTokens.values()) entry.expiresAt = Math.min(entry.expiresAt, t - 1);
    },
    revokeSession(user) {
      for (const session of sessions) {
        if (session.user !== user) continue;
        session.revoked = true;
        if (session.refreshToken) refreshTokens.delete(session.refreshToken);
      }
      registry.revokeUser(user);
    },
    setCredentialTtl(ms) {
      credentialTtl = ms;
    },
    setAccessTokenTtl(ms) {
      accessTokenTtl = ms;
    },
    nextUserCode() {
      return new Promise((resolve) => codeWaiters.push(resolve));
    },
    pendingUserCodes() {
      return [...byUserCode.values()].filter((a) => a.status === 'pending').map((a) => a.userCode);
    },
    stats,
  };

  return { routes, control };
}
