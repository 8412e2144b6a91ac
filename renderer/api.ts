import type { AppState, EditableSettings, PendingSignIn, SettingsPatch, SettingsUpdate, TryModelResult } from '../src/app/types.ts';
import type { UsageGrouping, UsageRow, UsageTotals } from '../src/usage/aggregates.ts';
import type { RequestProgressEvent, RequestStartedEvent } from '../src/core/request-events.ts';
import type { FinishedWithCost } from './live-log-store.ts';

/**
 * The window's client of the control API (docs/control-api.md). The UI cookie rides along on its own
 * (same origin, HttpOnly: page script never sees it); state-changing calls add the CSRF header.
 */

const BASE = '/control/v1';
const CSRF_HEADER = { 'x-bedrock-bridge': '1' };

export class ControlApiError extends Error {
  override readonly name = 'ControlApiError';
  readonly status: number;
  readonly code: string;
  /** The settings or request field at fault, when the server names one. */
  readonly field: string | null;

  constructor(status: number, code: string, message: string, field: string | null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export interface ModelsView {
  defaultModel: string | null;
  defaultModelId: string | null;
  aliases: Record<string, string>;
  userAliases: Record<string, string>;
  catalogue: Array<{ id: string; owned_by: string; bedrock_model_id?: string }>;
  degraded: string | null;
}

export interface UsageView {
  group: UsageGrouping;
  rows: UsageRow[];
  totals: UsageTotals;
}

export interface RejectedRecordView {
  id: string;
  reason: string;
  rejectedAt: number;
  startedAt: number;
  modelId: string | null;
}

export type SyncView =
  | {
      enabled: true;
      endpoint: string;
      state: string;
      lastSuccessAt: number | null;
      lastAttemptAt: number | null;
      pending: number;
      rejected: number;
      rejectedRecords: RejectedRecordView[];
      lastError: string | null;
      consecutiveFailures: number;
      nextAttemptAt: number | null;
      delivered: number;
    }
  | { enabled: false; reason: string; pending: number; rejected: number; rejectedRecords: RejectedRecordView[] };

export interface RequestBatch {
  started: RequestStartedEvent[];
  progress: RequestProgressEvent[];
  finished: FinishedWithCost[];
  dropped: number;
}

export interface UsageQueryParams {
  group: UsageGrouping;
  from?: number;
  to?: number;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const changesState = method !== 'GET';
  const headers: Record<string, string> = changesState ? { ...CSRF_HEADER } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; field?: string | null } } | null)?.error;
    throw new ControlApiError(response.status, error?.code ?? 'http_error', error?.message ?? `The server answered ${response.status}.`, error?.field ?? null);
  }
  return json as T;
}

export function usageQuery(params: UsageQueryParams): string {
  const query = new URLSearchParams({ group: params.group, tz: 'local' });
  if (params.from !== undefined) query.set('from', String(params.from));
  if (params.to !== undefined) query.set('to', String(params.to));
  return query.toString();
}

export const api = {
  state: () => call<AppState>('GET', '/state'),
  connection: () => call<{ baseUrl: string; apiKey: string }>('GET', '/connection'),
  settings: () => call<SettingsUpdate>('GET', '/settings'),
  updateSettings: (patch: SettingsPatch) => call<SettingsUpdate>('PATCH', '/settings', patch),
  restart: () => call<{ state: AppState }>('POST', '/restart'),
  uiLink: () => call<{ url: string }>('GET', '/ui-link'),
  models: () => call<ModelsView>('GET', '/models'),
  setModels: (aliases: Record<string, string>, defaultModel?: string | null) => call<ModelsView>('PUT', '/models', defaultModel === undefined ? { aliases } : { aliases, defaultModel }),
  setDefaultModel: (model: string) => call<ModelsView>('POST', '/models/default', { model }),
  tryModel: (model?: string) => call<TryModelResult>('POST', '/models/try', model ? { model } : {}),
  signIn: () => call<{ signIn: PendingSignIn }>('POST', '/sign-in'),
  cancelSignIn: () => call<void>('DELETE', '/sign-in'),
  openSignInPage: () => call<{ opened: boolean }>('POST', '/sign-in/open'),
  signOut: () => call<{ state: AppState }>('POST', '/sign-out'),
  usage: (params: UsageQueryParams) => call<UsageView>('GET', `/usage?${usageQuery(params)}`),
  usageCsvUrl: (params: UsageQueryParams) => `${BASE}/usage.csv?${usageQuery(params)}`,
  sync: () => call<SyncView>('GET', '/usage/sync'),
};

export type Api = typeof api;
export type { EditableSettings };

export interface EventHandlers {
  state: (state: AppState) => void;
  requests: (batch: RequestBatch) => void;
  /**
   * The stream is down. `retrying`: EventSource tries again by itself (server restarting); otherwise it
   * gave up, as it does when the server refuses the session (a new server process has new sessions).
   */
  disconnected: (retrying: boolean) => void;
}

/** The live event stream; EventSource sends the cookie and reconnects by itself. */
export function connectEvents(handlers: EventHandlers): EventSource {
  const source = new EventSource(`${BASE}/events`);
  source.addEventListener('state', (event) => handlers.state(JSON.parse((event as MessageEvent<string>).data) as AppState));
  source.addEventListener('requests', (event) => handlers.requests(JSON.parse((event as MessageEvent<string>).data) as RequestBatch));
  source.addEventListener('error', () => handlers.disconnected(source.readyState !== EventSource.CLOSED));
  return source;
}
