import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ORG_GATEWAY_WELL_KNOWN_PATH, type OrgGatewayDocument } from '../credentials/org-gateway-contract.ts';
import { IDENTITY_HEADER, resolveStsEndpoint, stsProofUrl } from '../usage/identity-proof.ts';
import { verifyIdentityProof } from '../usage/identity-proof-verifier.ts';
import { nestsDeeperThan } from '../core/json-text.ts';
import { auditPostSchema, MAX_BODY_DEPTH, recordIssue, wireRecordSchema, type CollectedWireRecord } from '../usage/wire-record-schema.ts';
import { createAdminRoutes } from './admin-routes.ts';
import { isDataError, unstorableReason, type AuditStore, type AuthenticatedCaller, type IngestResult } from './audit-store.ts';
import type { OrgConfig } from './config.ts';
import type { CredentialBroker } from './credential-broker.ts';
import { budgetRefusal, decideEntitlement } from './entitlement.ts';
import type { OrgLogger } from './log.ts';
import { RateLimiter } from './rate-limit.ts';
import type { TokenVerifier } from './token-verifier.ts';

/**
 * The org gateway's HTTP surface (BRIEF section 6, docs/org-gateway.md): discovery, the credentials
 * broker, the audit endpoint, health and readiness, and the admin page when configured. Stateless
 * apart from the rate limiter's counts: any number of replicas can share one database.
 */
export interface OrgGatewayDeps {
  config: OrgConfig;
  store: AuditStore;
  verifier: TokenVerifier;
  broker: CredentialBroker;
  log: OrgLogger;
  now?: () => Date;
}

/** Laptops keep their records and retry after this many seconds when the database is down. */
const DATABASE_RETRY_AFTER_SECONDS = '5';

interface Caller extends AuthenticatedCaller {
  claims: Record<string, unknown>;
  /** Every name the caller is known by (the claims that can name a user); a record may carry any. */
  names: Set<string>;
}

type Authenticated = { ok: true; caller: Caller } | { ok: false; status: 401 | 503; reason: string };

/** The record ready to store under `caller`, or why it is rejected. */
function checkRecord(raw: unknown, caller: Caller): { record: CollectedWireRecord } | { reason: string } {
  const parsed = wireRecordSchema.safeParse(raw);
  if (!parsed.success) return { reason: recordIssue(parsed.error) };
  const unstorable = unstorableReason(parsed.data);
  if (unstorable) return { reason: unstorable };
  const named = parsed.data.user;
  if (named !== null && !caller.names.has(named)) {
    return { reason: `the record names user ${JSON.stringify(named)}, but you are signed in as ${JSON.stringify(caller.user)}` };
  }
  return { record: parsed.data };
}

function oauthError(c: Context, status: 400 | 401 | 403 | 404 | 413 | 415 | 429 | 502 | 503, error: string, description: string, headers: Record<string, string> = {}) {
  return c.json({ error, error_description: description }, status, headers);
}

export function createOrgGatewayApp(deps: OrgGatewayDeps): Hono<{ Variables: { user?: string; reason?: string } }> {
  const { config, store, verifier, broker, log } = deps;
  const now = deps.now ?? (() => new Date());
  const limiter = new RateLimiter(config.limits.requestsPerMinute);
  const base = (c: Context) => (config.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');
  const stsUrl = config.identityCenter
    ? stsProofUrl(config.identityCenter.stsEndpoint ?? resolveStsEndpoint(config.identityCenter.region))
    : null;

  async function authenticate(c: Context, allowIdentityProof: boolean): Promise<Authenticated> {
    const proof = c.req.header(IDENTITY_HEADER);
    if (proof !== undefined) {
      if (!allowIdentityProof || !stsUrl) return { ok: false, status: 401, reason: 'identity proofs are not accepted here' };
      const verified = await verifyIdentityProof(proof, { stsUrl, audiences: [`${base(c)}/usage`], timeoutMs: 10_000 });
      if ('error' in verified) return { ok: false, status: verified.unreachable ? 503 : 401, reason: verified.error };
      return { ok: true, caller: { user: verified.user, groups: [], method: 'identity-center', claims: { arn: verified.arn }, names: new Set([verified.user]) } };
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!token) return { ok: false, status: 401, reason: 'missing bearer token' };
    const checked = await verifier.verify(token);
    if (!checked.ok) return checked;
    const { user, groups, claims } = checked.identity;
    const names = new Set([user, ...['sub', 'preferred_username', 'email', ...config.oidc.userClaims].map((name) => claims[name]).filter((v): v is string => typeof v === 'string')]);
    return { ok: true, caller: { user, groups, method: 'oidc', claims, names } };
  }

  /** 401/503 for a failed authentication, 429 over the rate limit; null to go on. */
  function refuse(c: Context, auth: Authenticated): Response | null {
    if (!auth.ok) {
      c.set('reason', auth.reason);
      if (auth.status === 503) return oauthError(c, 503, 'temporarily_unavailable', auth.reason, { 'retry-after': '5' });
      return oauthError(c, 401, 'invalid_token', auth.reason, { 'www-authenticate': `Bearer error="invalid_token", error_description="${auth.reason.replace(/["\\]/g, "'")}"` });
    }
    c.set('user', auth.caller.user);
    const retryAfter = limiter.take(auth.caller.user);
    if (retryAfter !== null) {
      c.set('reason', 'rate limited');
      return oauthError(c, 429, 'rate_limited', `too many requests: at most ${config.limits.requestsPerMinute} a minute`, { 'retry-after': String(retryAfter) });
    }
    return null;
  }

  const databaseDown = (c: Context, error: unknown) => {
    log('error', 'database unavailable', { path: c.req.path, error: error instanceof Error ? error.message : String(error) });
    c.set('reason', 'database unavailable');
    return oauthError(c, 503, 'temporarily_unavailable', 'the audit database is unavailable: try again later', { 'retry-after': DATABASE_RETRY_AFTER_SECONDS });
  };

  const app = new Hono<{ Variables: { user?: string; reason?: string } }>();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    if (path === '/healthz' || path === '/readyz') return;
    log(c.res.status >= 500 ? 'error' : 'info', 'request', {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      ...(c.get('user') ? { user: c.get('user') } : {}),
      ...(c.get('reason') ? { reason: c.get('reason') } : {}),
    });
  });
  const limitBody = bodyLimit({
    maxSize: config.limits.maxBodyBytes,
    onError: (c) => oauthError(c, 413, 'payload_too_large', `the body is over ${config.limits.maxBodyBytes} bytes`),
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    try {
      await store.ping();
      return c.json({ ready: true, database: store.kind });
    } catch {
      return c.json({ ready: false, database: store.kind, reason: 'the database does not answer' }, 503, { 'retry-after': DATABASE_RETRY_AFTER_SECONDS });
    }
  });

  app.get(ORG_GATEWAY_WELL_KNOWN_PATH, (c) => {
    const document: OrgGatewayDocument = {
      issuer: config.oidc.issuer,
      client_id: config.oidc.clientId,
      scopes: config.oidc.scopes,
      credentials_endpoint: `${base(c)}/credentials`,
      usage_endpoint: `${base(c)}/usage`,
      region: config.aws.region,
      ...(config.models ? { models: config.models } : {}),
      ...(config.defaultModel ? { default_model: config.defaultModel } : {}),
    };
    return c.json(document, 200, { 'cache-control': 'max-age=300' });
  });

  app.post('/credentials', limitBody, async (c) => {
    const auth = await authenticate(c, false);
    const refused = refuse(c, auth);
    if (refused || !auth.ok) return refused!;
    const { caller } = auth;
    const entitlement = decideEntitlement(config, caller);
    if (!entitlement.allowed) {
      c.set('reason', entitlement.reason);
      return oauthError(c, 403, 'access_denied', entitlement.reason);
    }
    let budgetReason: string | null;
    try {
      const at = now();
      const [user, groups] = await Promise.all([
        entitlement.monthlyBudgetUsd !== null ? store.userMonthSpend(caller.user, at) : Promise.resolve(0),
        store.groupMonthSpend([...entitlement.groupBudgets.keys()], at),
      ]);
      budgetReason = budgetRefusal(entitlement, { user, groups });
    } catch (error) {
      return databaseDown(c, error);
    }
    if (budgetReason) {
      c.set('reason', budgetReason);
      return oauthError(c, 403, 'access_denied', budgetReason);
    }
    try {
      const credentials = await broker.issue(caller, entitlement.models);
      return c.json(credentials, 200, { 'cache-control': 'no-store' });
    } catch (error) {
      // STS's and the chain's messages name roles and reasons, never secrets.
      log('error', 'AssumeRole failed', { user: caller.user, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      c.set('reason', 'AssumeRole failed');
      return oauthError(c, 502, 'server_error', 'the gateway could not get AWS credentials: ask your administrator to look at its logs');
    }
  });

  app.post('/usage', limitBody, async (c) => {
    const auth = await authenticate(c, true);
    const refused = refuse(c, auth);
    if (refused || !auth.ok) return refused!;
    const { caller } = auth;
    if (!(c.req.header('content-type') ?? '').toLowerCase().includes('application/json')) {
      return oauthError(c, 415, 'invalid_request', 'expected application/json');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return oauthError(c, 400, 'invalid_request', 'the body is not JSON');
    }
    // Deeper nesting would overflow the stack of whatever recursive code handles it next (JSON.stringify).
    if (nestsDeeperThan(body, MAX_BODY_DEPTH)) return oauthError(c, 400, 'invalid_request', `invalid body: nested more than ${MAX_BODY_DEPTH} levels deep`);
    const parsed = auditPostSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return oauthError(c, 400, 'invalid_request', `invalid body: ${issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid'}`);
    }
    const valid: CollectedWireRecord[] = [];
    const rejected: IngestResult['rejected'] = [];
    for (const raw of parsed.data.records) {
      const checked = checkRecord(raw, caller);
      if ('reason' in checked) rejected.push({ id: raw.id, reason: checked.reason });
      else valid.push(checked.record);
    }
    let stored: IngestResult;
    try {
      stored = await store.ingest(caller, parsed.data.client, valid);
    } catch (error) {
      // Data the database refuses is a bad request, not an outage: 400 lets the laptop's sync bisect
      // the batch to the record at fault instead of retrying it forever.
      if (!isDataError(error)) return databaseDown(c, error);
      c.set('reason', 'data refused by the database');
      return oauthError(c, 400, 'invalid_request', `the batch could not be stored: ${error instanceof Error ? error.message : 'invalid data'}`);
    }
    if (rejected.length + stored.rejected.length > 0) c.set('reason', `${rejected.length + stored.rejected.length} records rejected`);
    return c.json({ accepted: stored.accepted, rejected: [...rejected, ...stored.rejected] });
  });

  if (config.admin) app.route('/', createAdminRoutes({ config, store, verifier, base, ...(deps.now ? { now: deps.now } : {}) }));

  app.notFound((c) => oauthError(c, 404, 'invalid_request', `no such endpoint: ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    log('error', 'unhandled error', { path: c.req.path, error: error instanceof Error ? error.message : String(error) });
    return c.json({ error: 'server_error', error_description: 'internal error' }, 500);
  });
  return app;
}
