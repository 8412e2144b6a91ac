import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import { AppInputError } from '../../app/errors.ts';
import type { BridgeApp, SettingsPatch } from '../../app/types.ts';
import type { DisabledSyncStatus } from '../../usage/index.ts';
import { usageCsv, type UsageGrouping, type UsageQuery, type UsageRow, type UsageTotals } from '../../usage/aggregates.ts';
import type { SyncStatus } from '../../usage/audit-sync.ts';
import { messageOf } from '../../core/error-message.ts';
import type { RequestBatcher } from './live-events.ts';
import { readUiFile, UI_SECURITY_HEADERS } from './ui-files.ts';
import { UI_COOKIE_NAME, type UiSessions } from './ui-session.ts';

export const CONTROL_PREFIX = '/control/v1';
/** The custom header every state-changing control call carries: a cross-site form or simple request cannot send it. */
export const CSRF_HEADER = 'x-bedrock-bridge';
const CONTROL_BODY_LIMIT_BYTES = 64 * 1024;
const SSE_PING_MS = 15_000;

/** The usage the window shows, from the running pipeline (null before start). */
export interface UsageReader {
  rows(grouping: UsageGrouping, query: UsageQuery): UsageRow[];
  totals(query: UsageQuery): UsageTotals;
  sync(): SyncStatus | DisabledSyncStatus;
}

export interface ControlAppOptions {
  app: BridgeApp;
  usage: () => UsageReader | null;
  sessions: UiSessions;
  batcher: RequestBatcher;
  /** The Host allow-list of the server (own origins are `http://<allowed host>`). */
  allowedHosts: ReadonlySet<string>;
  /** The built renderer (dist/renderer). */
  uiDirectory: string;
  version: string;
}

export interface ControlApp {
  fetch(request: Request): Response | Promise<Response>;
  /** Ends every open event stream (before the server drains, so a restart is not held up by the window). */
  close(): void;
}

type ErrorCode = 'internal_error' | 'ui_session_required' | 'foreign_origin' | 'csrf_rejected' | 'host_not_allowed' | 'invalid_request' | 'conflict' | 'not_found' | 'not_serving';

function controlError(status: number, code: ErrorCode, message: string, field: string | null = null): Response {
  return new Response(JSON.stringify({ error: { code, message, field } }), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

const usageQuerySchema = z.object({
  group: z.enum(['day', 'week', 'month', 'model', 'client']).default('day'),
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  tz: z.enum(['local', 'utc']).default('local'),
});

const modelsBodySchema = z.strictObject({
  aliases: z.record(z.string().min(1), z.string().min(1)),
  defaultModel: z.string().min(1).nullable().optional(),
});
const defaultModelBodySchema = z.strictObject({ model: z.string().min(1) });
const tryBodySchema = z.strictObject({ model: z.string().min(1).optional() });
/** Checked field by field by the app (BridgeApp.updateSettings); here only its shape. */
const settingsBodySchema = z.record(z.string(), z.unknown());

function inputErrorResponse(error: unknown): Response {
  if (error instanceof AppInputError) {
    return error.kind === 'conflict' ? controlError(409, 'conflict', error.message, error.field) : controlError(400, 'invalid_request', error.message, error.field);
  }
  throw error;
}

function zodErrorResponse(error: z.ZodError): Response {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : null;
  return controlError(400, 'invalid_request', issue ? `${field ?? 'body'}: ${issue.message}` : 'Invalid request body.', field);
}

/** A route taking a JSON body checked by `schema`; the app's input errors become 400/409 answers. */
function bodyRoute<T>(schema: z.ZodType<T>, handle: (body: T) => Promise<Response>): (c: Context) => Promise<Response> {
  return async (c) => {
    const parsed = await jsonBody(c);
    if (!parsed.ok) return parsed.response;
    const body = schema.safeParse(parsed.body);
    if (!body.success) return zodErrorResponse(body.error);
    try {
      return await handle(body.data);
    } catch (error) {
      return inputErrorResponse(error);
    }
  };
}

async function jsonBody(c: Context): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (text.trim() === '') return { ok: true, body: {} };
  if (!/^application\/json\b/i.test(type)) return { ok: false, response: controlError(400, 'invalid_request', 'Send JSON (content-type: application/json).') };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, response: controlError(400, 'invalid_request', 'The body is not valid JSON.') };
  }
}

/**
 * The window's side of the local server: the control API under /control/v1 and the UI files under /ui.
 * Guards, in order: Host allow-list, own Origin only, the UI cookie (not the API key), and for every
 * state-changing call the CSRF header plus Origin / Sec-Fetch-Site. See docs/control-api.md.
 */
export function createControlApp(options: ControlAppOptions): ControlApp {
  const { app: bridge, sessions, allowedHosts } = options;
  const ownOrigins = new Set([...allowedHosts].map((host) => `http://${host}`));
  const streams = new Set<() => void>();

  const hostAndOrigin: MiddlewareHandler = async (c, next) => {
    const host = c.req.header('host');
    if (host === undefined || !(allowedHosts.has(host) || allowedHosts.has(host.toLowerCase()))) {
      return controlError(403, 'host_not_allowed', 'This Host is not allowed: open the window at 127.0.0.1, localhost or [::1] on the server\'s port.');
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !ownOrigins.has(origin.toLowerCase())) {
      return controlError(403, 'foreign_origin', 'Only the window itself may call the control API.');
    }
    return next();
  };

  const cookieGuard: MiddlewareHandler = async (c, next) => {
    if (!sessions.accepts(getCookie(c, UI_COOKIE_NAME))) {
      return controlError(401, 'ui_session_required', 'Open the window from the app, or the one-time link `bedrock-bridge serve` printed. The API key does not open the control API.');
    }
    return next();
  };

  const csrfGuard: MiddlewareHandler = async (c, next) => {
    const site = c.req.header('sec-fetch-site');
    if (SAFE_METHODS.has(c.req.method)) {
      // Reads from another page on this machine (same-site: cookies ignore ports) are refused too.
      if (site !== undefined && site !== 'same-origin' && site !== 'none') return controlError(403, 'csrf_rejected', 'Cross-site reads of the control API are refused.');
      return next();
    }
    if (c.req.header(CSRF_HEADER) !== '1' || (site !== undefined && site !== 'same-origin')) {
      return controlError(403, 'csrf_rejected', `State-changing control calls must come from the window (with the ${CSRF_HEADER} header, same origin).`);
    }
    return next();
  };

  const hono = new Hono();
  hono.use(hostAndOrigin);

  // ---- UI files -----------------------------------------------------------------------------------
  const ui = new Hono();
  ui.get('/*', async (c) => {
    const token = c.req.query('token');
    const hasSession = sessions.accepts(getCookie(c, UI_COOKIE_NAME));
    if (token !== undefined) {
      const redeemed = sessions.redeem(token);
      if (!redeemed && !hasSession) {
        return new Response('This link was already used or is not valid. In the app, open the window from the tray; headless, restart `bedrock-bridge serve`: it prints a new link.\n', {
          status: 401,
          headers: { 'content-type': 'text/plain; charset=utf-8', ...UI_SECURITY_HEADERS },
        });
      }
      // The token leaves the address bar (and history) at once: the cookie carries the session from here.
      // (A used link opened again where the session is already held just loses its token.)
      const headers: Record<string, string> = { location: '/ui/', ...UI_SECURITY_HEADERS };
      if (redeemed) headers['set-cookie'] = `${UI_COOKIE_NAME}=${sessions.sessionValue}; Path=/; HttpOnly; SameSite=Strict`;
      return new Response(null, { status: 303, headers });
    }
    if (!hasSession) {
      return new Response('Open this window from the Bedrock Bridge app, or with the one-time link `bedrock-bridge serve` printed.\n', {
        status: 401,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...UI_SECURITY_HEADERS },
      });
    }
    const path = c.req.path;
    if (path === '/ui') return new Response(null, { status: 308, headers: { location: '/ui/', ...UI_SECURITY_HEADERS } });
    const relative = path.slice('/ui/'.length);
    const file = await readUiFile(options.uiDirectory, relative);
    if (!file && relative === '') {
      // A checkout where the window was never built (npm start builds only the CLI).
      return new Response(`The window's files are not built (no index.html in ${options.uiDirectory}): run \`npm run build\`.\n`, {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...UI_SECURITY_HEADERS },
      });
    }
    if (!file) {
      return new Response('Not found.\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...UI_SECURITY_HEADERS } });
    }
    return new Response(new Uint8Array(file.body), { status: 200, headers: { 'content-type': file.contentType, ...UI_SECURITY_HEADERS } });
  });
  hono.route('/ui', ui);

  // ---- Control API --------------------------------------------------------------------------------
  const control = new Hono();
  control.get('/hello', () => json({ service: 'bedrock-bridge', version: options.version }));
  control.use(cookieGuard, csrfGuard, bodyLimit({ maxSize: CONTROL_BODY_LIMIT_BYTES, onError: () => controlError(413, 'invalid_request', 'The body is too large.') }));

  control.get('/state', () => json(bridge.state));
  control.get('/connection', () => {
    const connection = bridge.connection();
    return connection ? json(connection) : controlError(503, 'not_serving', 'The server is not listening right now.');
  });
  control.get('/ui-link', () => {
    const url = bridge.uiLink();
    return url ? json({ url }) : controlError(503, 'not_serving', 'The server is not listening right now.');
  });

  control.get('/settings', async () => json({ settings: await bridge.settings(), restartRequired: bridge.state.restartRequired, pinned: bridge.state.pinned }));
  control.patch('/settings', bodyRoute(settingsBodySchema, async (patch) => json(await bridge.updateSettings(patch as SettingsPatch))));
  control.post('/restart', () => {
    // Answered first: the restart closes this very server.
    setImmediate(() => {
      bridge.restart().catch((error: unknown) => console.error(`bedrock-bridge: restart failed: ${messageOf(error)}`));
    });
    return json({ state: bridge.state }, 202);
  });

  const modelsView = async () => {
    const catalogue = await bridge.modelCatalogue();
    const settings = await bridge.settings();
    return json({ ...bridge.state.models, userAliases: settings.models, catalogue: catalogue.data, degraded: catalogue.degraded });
  };
  control.get('/models', modelsView);
  control.put(
    '/models',
    bodyRoute(modelsBodySchema, async ({ aliases, defaultModel }) => {
      await bridge.setModelMapping(defaultModel === undefined ? { aliases } : { aliases, defaultModel });
      return modelsView();
    }),
  );
  control.post(
    '/models/default',
    bodyRoute(defaultModelBodySchema, async ({ model }) => {
      await bridge.setDefaultModel(model);
      return modelsView();
    }),
  );
  control.post('/models/try', bodyRoute(tryBodySchema, async ({ model }) => json(await bridge.tryModel(model))));

  control.post('/sign-in', async () => {
    try {
      return json({ signIn: await bridge.signIn() });
    } catch (error) {
      if (error instanceof AppInputError) return inputErrorResponse(error);
      return controlError(409, 'conflict', `Sign-in could not start: ${messageOf(error)}`);
    }
  });
  control.get('/sign-in', () => json({ status: bridge.state.status, signIn: bridge.state.signIn, signInError: bridge.state.signInError }));
  control.delete('/sign-in', () => {
    bridge.cancelSignIn();
    return new Response(null, { status: 204 });
  });
  control.post('/sign-in/open', async () => {
    if (!bridge.state.signIn) return controlError(409, 'conflict', 'No sign-in is waiting for you.');
    // Headless without a browser (BROWSER=none, no desktop) nothing opens: the window shows the link instead.
    return json({ opened: await bridge.openSignInPage() });
  });
  control.post('/sign-out', async () => {
    try {
      return json({ state: await bridge.signOut() });
    } catch (error) {
      return inputErrorResponse(error);
    }
  });

  const usageQuery = (c: Context): { ok: true; group: UsageGrouping; query: UsageQuery; reader: UsageReader } | { ok: false; response: Response } => {
    const parsed = usageQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return { ok: false, response: zodErrorResponse(parsed.error) };
    const reader = options.usage();
    if (!reader) return { ok: false, response: controlError(503, 'not_serving', 'Usage is not available until the server has started.') };
    const { group, from, to, tz } = parsed.data;
    return { ok: true, group, reader, query: { timeZone: tz, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } };
  };
  control.get('/usage', (c) => {
    const asked = usageQuery(c);
    if (!asked.ok) return asked.response;
    return json({ group: asked.group, rows: asked.reader.rows(asked.group, asked.query), totals: asked.reader.totals(asked.query) });
  });
  control.get('/usage.csv', (c) => {
    const asked = usageQuery(c);
    if (!asked.ok) return asked.response;
    return new Response(usageCsv({ [asked.group]: asked.reader.rows(asked.group, asked.query) }), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="bedrock-bridge-usage-${asked.group}.csv"`,
        'cache-control': 'no-store',
      },
    });
  });
  control.get('/usage/sync', () => {
    const reader = options.usage();
    return reader ? json(reader.sync()) : controlError(503, 'not_serving', 'Usage is not available until the server has started.');
  });

  control.get('/events', (c) => {
    const encoder = new TextEncoder();
    let cleanup = (): void => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (event: string, data: unknown): void => {
          try {
            controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
          } catch {
            cleanup();
          }
        };
        send('state', bridge.state);
        const offState = bridge.onStateChange((state) => send('state', state));
        const offRequests = options.batcher.subscribe((batch) => send('requests', batch));
        const ping = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(': ping\n\n'));
          } catch {
            cleanup();
          }
        }, SSE_PING_MS);
        ping.unref();
        let done = false;
        cleanup = () => {
          if (done) return;
          done = true;
          clearInterval(ping);
          offState();
          offRequests();
          streams.delete(close);
          c.req.raw.signal.removeEventListener('abort', cleanup);
        };
        const close = (): void => {
          cleanup();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        };
        streams.add(close);
        c.req.raw.signal.addEventListener('abort', cleanup);
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
  });

  control.notFound((c) => controlError(404, 'not_found', `Unknown control route ${c.req.method} ${c.req.path}.`));
  hono.route(CONTROL_PREFIX, control);
  hono.notFound((c) => controlError(404, 'not_found', `Unknown route ${c.req.method} ${c.req.path}.`));
  hono.onError((error) => {
    console.error(`bedrock-bridge: control API error: ${messageOf(error)}`);
    return controlError(500, 'internal_error', 'Internal error in the control API.');
  });

  return {
    fetch: (request) => hono.fetch(request),
    close() {
      for (const close of [...streams]) close();
    },
  };
}
