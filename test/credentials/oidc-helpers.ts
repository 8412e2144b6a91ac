import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** A real OIDC IdP (oidc-provider) with the device flow, on 127.0.0.1:0. */
export interface TestIdp {
  issuer: string;
  clientId: string;
  /** Completes the browser part of the device flow for `login` (BRIEF section 5), or aborts it. */
  approve(userCode: string, login: string): Promise<void>;
  deny(userCode: string): Promise<void>;
  /** The next `count` polls of a pending device code answer `slow_down` (an IdP under load asking clients to back off). */
  slowDown(count?: number): void;
  /**
   * The IdP stops accepting this one access token (as after it expired early), while its refresh token
   * keeps working. Revocation (RFC 7009) cannot do that here: oidc-provider revokes the whole grant.
   */
  dropAccessToken(token: string): Promise<void>;
  /** An access token for `login`, got through the device flow without a CLI (approved before the first poll). */
  accessToken(login: string, options?: { resource?: string }): Promise<string>;
  /** Access tokens issued from now on live this long. */
  setAccessTokenTtl(seconds: number): void;
  /** What each device-code poll of the token endpoint got: `granted` or the RFC 8628 error code. */
  readonly polls: string[];
  close(): Promise<void>;
}

export interface TestIdpOptions {
  accessTokenTtlSeconds?: number;
  /** Device code lifetime; default 600 s. */
  deviceCodeTtlSeconds?: number;
  /**
   * The `interval` the device authorization response announces. oidc-provider announces none, so
   * clients wait the RFC 8628 default of 5 s between polls; tests that sign in often want less.
   */
  pollIntervalSeconds?: number;
  /**
   * Issue access tokens as JWTs (RFC 9068) for this audience (a resource indicator, the default for
   * every grant), as IdPs do for an API; they carry `preferred_username` and `groups`. Such tokens are
   * not accepted at userinfo (oidc-provider: "token audience prevents accessing the userinfo endpoint").
   */
  jwtAudience?: string;
  /** Groups per login, in JWT access tokens' `groups` claim. */
  groups?: Record<string, string[]>;
  /** A confidential client allowed to introspect tokens (RFC 7662), as a resource server has. */
  introspectionClient?: { clientId: string; clientSecret: string };
  /** A second client for a web sign-in (authorization code + PKCE, public) returning to this URI. */
  webClient?: { clientId: string; redirectUri: string };
  /** The signing keys (private JWKs); default generated. Two IdPs given the same keys sign alike. */
  jwks?: { keys: object[] };
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The slice of oidc-provider's Koa context the post-processing middleware reads and rewrites. */
interface ProviderContext {
  status: number;
  body: unknown;
  oidc?: { route?: string; params?: { grant_type?: string } };
}

class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a.trim()) || /^max-age=0$/i.test(a.trim()));
      const key = `${name};${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { value, path });
    }
  }
  header(url: URL): string {
    const out: string[] = [];
    for (const [key, { value, path }] of this.#cookies) {
      if (url.pathname.startsWith(path)) out.push(`${key.split(';')[0]}=${value}`);
    }
    return out.join('; ');
  }
}

interface Page {
  url: URL;
  status: number;
  html: string;
}

async function browse(jar: CookieJar, url: URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
  let current = url;
  let method = init.method ?? 'GET';
  let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
  for (let hop = 0; hop < 15; hop += 1) {
    const headers: Record<string, string> = { cookie: jar.header(current) };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(current, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current);
      method = 'GET';
      body = undefined;
      continue;
    }
    return { url: current, status: response.status, html: await response.text() };
  }
  throw new Error('too many redirects');
}

function forms(html: string): Array<{ action: string | null; fields: Record<string, string> }> {
  const out: Array<{ action: string | null; fields: Record<string, string> }> = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = /action="([^"]*)"/i.exec(match[1]!)?.[1] ?? null;
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[0])?.[1];
      const value = /value="([^"]*)"/i.exec(input[0])?.[1] ?? '';
      if (name && /type="hidden"/i.test(input[0])) fields[name] = value.replace(/&amp;/g, '&');
    }
    out.push({ action: action?.replace(/&amp;/g, '&') ?? null, fields });
  }
  return out;
}

export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  const clientId = 'bedrock-bridge';
  let accessTokenTtl = options.accessTokenTtlSeconds ?? 3600;
  let handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_name: 'Bedrock Bridge',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      ...(options.introspectionClient
        ? [{
            client_id: options.introspectionClient.clientId,
            client_secret: options.introspectionClient.clientSecret,
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: [],
            response_types: [],
            redirect_uris: [],
          }]
        : []),
      ...(options.webClient
        ? [{
            client_id: options.webClient.clientId,
            client_name: 'Bedrock Bridge admin',
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            response_types: ['code'],
            redirect_uris: [options.webClient.redirectUri],
          }]
        : []),
    ],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: options.introspectionClient !== undefined },
      userinfo: { enabled: true },
      ...(options.jwtAudience !== undefined
        ? {
            resourceIndicators: {
              enabled: true,
              defaultResource: (_ctx: unknown, _client: unknown, requested?: string | string[]) => requested ?? options.jwtAudience,
              useGrantedResource: () => true,
              getResourceServerInfo: (_ctx: unknown, resource: string) => ({
                audience: resource,
                scope: 'openid profile email offline_access',
                accessTokenFormat: 'jwt',
                accessTokenTTL: accessTokenTtl,
              }),
            },
          }
        : {}),
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, preferred_username: id, email: `${id}@example.com` }),
    }),
    ...(options.jwks ? { jwks: options.jwks } : {}),
    ...(options.jwtAudience !== undefined
      ? {
          extraTokenClaims: (_ctx: unknown, token: { accountId?: string; kind?: string }) =>
            token.kind === 'AccessToken' && token.accountId ? { preferred_username: token.accountId, groups: options.groups?.[token.accountId] ?? [] } : undefined,
        }
      : {}),
    ttl: { AccessToken: () => accessTokenTtl, DeviceCode: options.deviceCodeTtlSeconds ?? 600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600 },
    cookies: { keys: ['test-cookie-key-not-secret'] },
    // Keep the test output quiet.
    renderError: async (ctx: { type: string; body: unknown }, out: unknown) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  } as never);
  // Post-processing of oidc-provider's own answers: the announced interval, forced slow_down, the poll log.
  const polls: string[] = [];
  let slowDowns = 0;
  provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'device_authorization' && ctx.status === 200 && options.pollIntervalSeconds !== undefined) {
      ctx.body = { ...(ctx.body as object), interval: options.pollIntervalSeconds };
    } else if (route === 'token' && ctx.oidc?.params?.grant_type === DEVICE_CODE_GRANT) {
      let outcome = ctx.status === 200 ? 'granted' : String((ctx.body as { error?: unknown } | null)?.error);
      if (outcome === 'authorization_pending' && slowDowns > 0) {
        slowDowns -= 1;
        outcome = 'slow_down';
        ctx.body = { error: outcome, error_description: 'you are polling too quickly and should back off at a reasonable rate' };
      }
      polls.push(outcome);
    }
  });
  // oidc-provider warns on stdout about dev interactions; that is expected in tests.
  handler = provider.callback() as typeof handler;

  const device = async (userCode: string, login: string | null): Promise<void> => {
    const jar = new CookieJar();
    const start = await browse(jar, new URL('/device', issuer));
    const input = forms(start.html)[0];
    if (!input?.fields.xsrf) throw new Error('no device form');
    const confirmPage = await browse(jar, new URL(input.action ?? '/device', issuer), {
      method: 'POST',
      form: { ...input.fields, user_code: userCode },
    });
    const confirm = forms(confirmPage.html)[0];
    if (!confirm) throw new Error(`no confirm form: ${confirmPage.html.slice(0, 300)}`);
    if (login === null) {
      await browse(jar, new URL(confirm.action ?? '/device', issuer), { method: 'POST', form: { ...confirm.fields, abort: 'yes' } });
      return;
    }
    let page = await browse(jar, new URL(confirm.action ?? '/device', issuer), { method: 'POST', form: { ...confirm.fields, confirm: 'yes' } });
    for (let step = 0; step < 4; step += 1) {
      const form = forms(page.html)[0];
      if (!form || !form.fields.prompt) break;
      const fields = form.fields.prompt === 'login' ? { ...form.fields, login, password: 'any' } : form.fields;
      page = await browse(jar, new URL(form.action ?? page.url.pathname, page.url), { method: 'POST', form: fields });
    }
    if (!/Sign-in Success/.test(page.html)) throw new Error(`device approval did not finish: ${page.status} ${page.html.slice(0, 300)}`);
  };

  const accessToken = async (login: string, tokenOptions: { resource?: string } = {}): Promise<string> => {
    const form = (path: string, fields: Record<string, string>) =>
      fetch(new URL(path, issuer), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    const started = (await (await form('/device/auth', { client_id: clientId, scope: 'openid profile email offline_access', ...(tokenOptions.resource ? { resource: tokenOptions.resource } : {}) })).json()) as { device_code: string; user_code: string };
    await device(started.user_code, login);
    const granted = (await (await form('/token', { grant_type: DEVICE_CODE_GRANT, device_code: started.device_code, client_id: clientId })).json()) as { access_token?: string; error?: string };
    if (!granted.access_token) throw new Error(`no access token: ${granted.error}`);
    return granted.access_token;
  };

  return {
    issuer,
    clientId,
    accessToken,
    setAccessTokenTtl: (seconds) => {
      accessTokenTtl = seconds;
    },
    approve: (userCode, login) => device(userCode, login),
    deny: (userCode) => device(userCode, null),
    slowDown: (count = 1) => {
      slowDowns += count;
    },
    polls,
    dropAccessToken: async (token) => {
      const found = await provider.AccessToken.find(token);
      if (!found) throw new Error('no such access token');
      await found.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
