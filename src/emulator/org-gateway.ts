import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CredentialRegistry } from './credential-registry.ts';
import { ORG_GATEWAY_WELL_KNOWN_PATH } from '../credentials/org-gateway-contract.ts';
import type { OrgGatewayDocument } from '../credentials/org-gateway-contract.ts';

/**
 * A small org gateway following BRIEF section 6: `GET /.well-known/bedrock-bridge` describes the org
 * (OIDC issuer, client id, scopes, credentials and usage endpoints, region, default models), and
 * `POST /credentials` exchanges an OIDC access token (validated at the issuer's userinfo endpoint)
 * for `credential_process`-shaped short-lived credentials, issued into the shared registry so the
 * Bedrock emulator accepts them. 401 for a bad token, 403 for a user who is not entitled.
 */
export interface OrgGatewayEmulatorOptions {
  /** The OIDC issuer (its /.well-known/openid-configuration is read for the userinfo endpoint). */
  issuer: string;
  clientId: string;
  scopes?: string[];
  region?: string;
  /** Absolute URL; default `<gateway origin>/usage`. */
  usageEndpoint?: string;
  models?: Record<string, string>;
  defaultModel?: string;
  /** Who may have credentials (by user name); default everyone the IdP knows. */
  entitled?: (user: string) => boolean;
  accountId?: string;
  roleName?: string;
  credentialTtlMs?: number;
  fetch?: typeof fetch;
}

export interface OrgGatewayStats {
  credentialsIssued: number;
  unauthorized: number;
  forbidden: number;
}

export interface OrgGatewayControl {
  setCredentialTtl(ms: number): void;
  setEntitled(entitled: (user: string) => boolean): void;
  readonly stats: OrgGatewayStats;
}

export function createOrgGatewayEmulator(
  registry: CredentialRegistry,
  options: OrgGatewayEmulatorOptions,
): { routes: Hono; control: OrgGatewayControl } {
  const doFetch = options.fetch ?? fetch;
  let credentialTtl = options.credentialTtlMs ?? 3600_000;
  let entitled = options.entitled ?? (() => true);
  const accountId = options.accountId ?? '111122223333';
  const roleName = options.roleName ?? 'BedrockBridgeUser';
  const stats: OrgGatewayStats = { credentialsIssued: 0, unauthorized: 0, forbidden: 0 };
  let userinfoEndpoint: Promise<string> | null = null;

  const discoverUserinfo = (): Promise<string> => {
    userinfoEndpoint ??= (async () => {
      const response = await doFetch(`${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      if (!response.ok) throw new Error(`OIDC discovery failed: ${response.status}`);
      const document = (await response.json()) as { userinfo_endpoint?: string };
      if (!document.userinfo_endpoint) throw new Error('the issuer has no userinfo endpoint');
      return document.userinfo_endpoint;
    })().catch((error: unknown) => {
      userinfoEndpoint = null;
      throw error;
    });
    return userinfoEndpoint;
  };

  const unauthorized = (c: Context, description: string): Response => {
    stats.unauthorized += 1;
    return c.json({ error: 'invalid_token', error_description: description }, 401, {
      'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    });
  };

  const routes = new Hono();

  routes.get(ORG_GATEWAY_WELL_KNOWN_PATH, (c) => {
    const origin = new URL(c.req.url).origin;
    const document: OrgGatewayDocument = {
      issuer: options.issuer,
      client_id: options.clientId,
      scopes: options.scopes ?? ['openid', 'profile', 'email', 'offline_access'],
      credentials_endpoint: `${origin}/credentials`,
      usage_endpoint: options.usageEndpoint ?? `${origin}/usage`,
      region: options.region ?? 'us-east-1',
      ...(options.models ? { models: options.models } : {}),
      ...(options.defaultModel ? { default_model: options.defaultModel } : {}),
    };
    return c.json(document, 200, { 'cache-control': 'max-age=300' });
  });

  routes.post('/credentials', async (c) => {
    const authorization = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) return unauthorized(c, 'missing bearer token');
    let userinfo: Response;
    try {
      userinfo = await doFetch(await discoverUserinfo(), { headers: { authorization: `Bearer ${match[1]}` } });
    } catch {
      return c.json({ error: 'temporarily_unavailable', error_description: 'the identity provider is unreachable' }, 503, { 'retry-after': '5' });
    }
    if (userinfo.status === 401 || userinfo.status === 403) return unauthorized(c, 'the access token is not valid');
    if (!userinfo.ok) return c.json({ error: 'temporarily_unavailable', error_description: 'the identity provider failed' }, 503);
    const claims = (await userinfo.json()) as { sub?: string; preferred_username?: string; email?: string };
    const user = claims.preferred_username ?? claims.email ?? claims.sub;
    if (!user) return unauthorized(c, 'the access token names no user');
    if (!entitled(user)) {
      stats.forbidden += 1;
      return c.json({ error: 'access_denied', error_description: `${user} is not entitled to Amazon Bedrock` }, 403);
    }
    const issued = registry.issue(user, `arn:aws:sts::${accountId}:assumed-role/${roleName}`, credentialTtl);
    stats.credentialsIssued += 1;
    return c.json(
      {
        Version: 1,
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
        Expiration: issued.expiration.toISOString(),
      },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  const control: OrgGatewayControl = {
    setCredentialTtl(ms) {
      credentialTtl = ms;
    },
    setEntitled(fn) {
      entitled = fn;
    },
    stats,
  };
  return { routes, control };
}
