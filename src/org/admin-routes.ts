import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { monthStart, type AuditStore, type ReportRow } from './audit-store.ts';
import type { OrgConfig } from './config.ts';
import { decideEntitlement } from './entitlement.ts';
import type { TokenVerifier, VerifiedToken } from './token-verifier.ts';

/**
 * The admin page: OIDC sign-in (authorization code + PKCE, a public client), admins by group or name,
 * and a JSON API the page draws from (month totals, per-user drill-down, budget status). The session
 * is the IdP's access token in an HttpOnly cookie, verified on every request like any other token, so
 * any replica serves any admin and the session ends when the token does.
 */
const SESSION_COOKIE = 'bb_admin';
const FLOW_COOKIE = 'bb_admin_flow';
const require = createRequire(import.meta.url);
/**
 * The page's own files, found from the package root: this module runs from src/org/ (sources) or from a
 * chunk in dist/cli/ (the esbuild bundle), both two levels below it.
 */
const PAGE_DIR = new URL('../../src/org/admin-page/', import.meta.url);

const ASSETS: Record<string, { file: string; type: string }> = {
  'admin.js': { file: new URL('admin.js', PAGE_DIR).pathname, type: 'text/javascript; charset=utf-8' },
  'admin.css': { file: new URL('admin.css', PAGE_DIR).pathname, type: 'text/css; charset=utf-8' },
  'uplot.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const MONTH = /^\d{4}-\d{2}$/;

function monthRange(month: string | undefined, now: Date): { month: string; since: Date; until: Date } {
  const start = month && MONTH.test(month) ? new Date(`${month}-01T00:00:00Z`) : monthStart(now);
  const until = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return { month: start.toISOString().slice(0, 7), since: start, until };
}

const totals = (row: ReportRow) => ({ requests: row.requests, errors: row.errors, inputTokens: row.inputTokens, outputTokens: row.outputTokens, costUsd: row.costUsd, unpricedRequests: row.unpricedRequests });

export function createAdminRoutes(deps: { config: OrgConfig; store: AuditStore; verifier: TokenVerifier; base: (c: Context) => string; now?: () => Date }): Hono<{ Variables: { admin: string } }> {
  const { config, store, verifier } = deps;
  const admin = config.admin!;
  const now = deps.now ?? (() => new Date());
  const page = readFileSync(new URL('index.html', PAGE_DIR), 'utf8');
  const secure = (c: Context) => deps.base(c).startsWith('https:');

  const isAdmin = (identity: VerifiedToken) => admin.users.includes(identity.user) || identity.groups.some((group) => admin.groups.includes(group));

  /** The signed-in admin, or null (no cookie, a token no longer valid, or not an admin). */
  async function session(c: Context): Promise<VerifiedToken | null> {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return null;
    const checked = await verifier.verify(token);
    return checked.ok && isAdmin(checked.identity) ? checked.identity : null;
  }

  const app = new Hono<{ Variables: { admin: string } }>();
  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  app.get('/admin/login', async (c) => {
    const metadata = await verifier.discover().catch(() => null);
    if (!metadata?.authorization_endpoint) return c.text('The identity provider could not be reached; try again.', 503);
    const state = base64url(randomBytes(24));
    const verifierCode = base64url(randomBytes(32));
    setCookie(c, FLOW_COOKIE, `${state}.${verifierCode}`, { httpOnly: true, sameSite: 'Lax', secure: secure(c), path: '/admin', maxAge: 600 });
    const url = new URL(metadata.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: admin.clientId ?? config.oidc.clientId,
      redirect_uri: `${deps.base(c)}/admin/callback`,
      scope: admin.scopes.join(' '),
      state,
      code_challenge: base64url(createHash('sha256').update(verifierCode).digest()),
      code_challenge_method: 'S256',
    }).toString();
    return c.redirect(url.toString(), 302);
  });

  app.get('/admin/callback', async (c) => {
    const [state, verifierCode] = (getCookie(c, FLOW_COOKIE) ?? '').split('.');
    deleteCookie(c, FLOW_COOKIE, { path: '/admin' });
    const returned = c.req.query('state') ?? '';
    const code = c.req.query('code');
    if (!state || !verifierCode || !code || returned.length !== state.length || !timingSafeEqual(Buffer.from(returned), Buffer.from(state))) {
      return c.text('This sign-in link is not valid any more: start again at /admin.', 400);
    }
    const metadata = await verifier.discover().catch(() => null);
    if (!metadata?.token_endpoint) return c.text('The identity provider could not be reached; try again.', 503);
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${deps.base(c)}/admin/callback`, client_id: admin.clientId ?? config.oidc.clientId, code_verifier: verifierCode }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    const grant = response?.ok ? ((await response.json()) as { access_token?: string; expires_in?: number }) : null;
    if (!grant?.access_token) return c.text('The identity provider did not complete the sign-in.', 502);
    const checked = await verifier.verify(grant.access_token);
    if (!checked.ok) return c.text(`Sign-in refused: ${checked.reason}.`, 403);
    if (!isAdmin(checked.identity)) return c.text(`${checked.identity.user} is not an admin of this gateway.`, 403);
    setCookie(c, SESSION_COOKIE, grant.access_token, { httpOnly: true, sameSite: 'Lax', secure: secure(c), path: '/admin', maxAge: Math.max(60, Math.min(grant.expires_in ?? 3600, 12 * 3600)) });
    return c.redirect('/admin', 302);
  });

  app.post('/admin/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/admin' });
    return c.redirect('/admin/login', 303);
  });

  app.get('/admin/assets/:name', (c) => {
    const asset = ASSETS[c.req.param('name')];
    if (!asset) return c.notFound();
    return c.body(readFileSync(asset.file), 200, { 'content-type': asset.type });
  });

  app.get('/admin', async (c) => {
    if (!(await session(c))) return c.redirect('/admin/login', 302);
    return c.html(page);
  });

  app.use('/admin/api/*', async (c, next) => {
    const identity = await session(c);
    if (!identity) return c.json({ error: 'unauthorized', error_description: 'sign in at /admin' }, 401);
    c.set('admin', identity.user);
    await next();
  });

  app.get('/admin/api/summary', async (c) => {
    const { month, since, until } = monthRange(c.req.query('month'), now());
    const [byUser, byModel, byDay, byClient] = await Promise.all([
      store.report({ by: ['user'], since, until }),
      store.report({ by: ['model'], since, until }),
      store.report({ by: ['day'], since, until }),
      store.report({ by: ['client'], since, until }),
    ]);
    const users = byUser.map((row) => row.keys.user!);
    const groupsOf = await store.latestGroups(users);
    const groupSpend = new Map((await store.report({ by: ['group'], since, until })).map((row) => [row.keys.group!, row.costUsd]));
    const groupNames = Object.keys(config.entitlement.groupBudgetsUsd);
    return c.json({
      month,
      signedInAs: c.get('admin'),
      total: byUser.reduce((sum, row) => ({ requests: sum.requests + row.requests, costUsd: sum.costUsd + row.costUsd }), { requests: 0, costUsd: 0 }),
      users: byUser.map((row) => {
        const groups = groupsOf.get(row.keys.user!) ?? [];
        const entitlement = decideEntitlement(config, { user: row.keys.user!, groups, claims: {} });
        return { user: row.keys.user, groups, ...totals(row), budgetUsd: entitlement.allowed ? entitlement.monthlyBudgetUsd : null };
      }),
      groups: groupNames.map((group) => ({ group, costUsd: groupSpend.get(group) ?? 0, budgetUsd: config.entitlement.groupBudgetsUsd[group] })),
      models: byModel.map((row) => ({ model: row.keys.model, ...totals(row) })),
      clients: byClient.map((row) => ({ client: row.keys.client, ...totals(row) })),
      days: byDay.map((row) => ({ day: row.keys.day, ...totals(row) })).sort((a, b) => String(a.day).localeCompare(String(b.day))),
    });
  });

  app.get('/admin/api/user', async (c) => {
    const user = c.req.query('user') ?? '';
    const { month, since, until } = monthRange(c.req.query('month'), now());
    const [byDay, byModel, byClient] = await Promise.all([
      store.report({ by: ['day'], since, until, user }),
      store.report({ by: ['model'], since, until, user }),
      store.report({ by: ['client'], since, until, user }),
    ]);
    return c.json({
      user,
      month,
      days: byDay.map((row) => ({ day: row.keys.day, ...totals(row) })).sort((a, b) => String(a.day).localeCompare(String(b.day))),
      models: byModel.map((row) => ({ model: row.keys.model, ...totals(row) })),
      clients: byClient.map((row) => ({ client: row.keys.client, ...totals(row) })),
    });
  });
  return app;
}
