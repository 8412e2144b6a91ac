import type { EmulatedUsage } from './scripted-model.ts';

export type EmulatorOperation =
  | 'Converse'
  | 'ConverseStream'
  | 'InvokeModel'
  | 'InvokeModelWithResponseStream'
  | 'CountTokens'
  | 'ListFoundationModels'
  | 'GetFoundationModel'
  | 'ListInferenceProfiles'
  | 'GetInferenceProfile';

/** One request the emulated Bedrock received, as tests see it. */
export interface RecordedRequest {
  /** 1, 2, 3 ... over the emulator's lifetime (not reset by clear()). */
  seq: number;
  /** Epoch ms when the request arrived. */
  at: number;
  operation: EmulatorOperation;
  /** '2.0' for HTTP/2, '1.1' for HTTP/1.1. */
  httpVersion: string;
  method: string;
  /** The raw request target (path and query), undecoded. */
  rawUrl: string;
  /** The decoded model id from the path (runtime operations). */
  modelId?: string;
  /** The parsed JSON body (undefined for GET or an unparsable body). */
  body?: unknown;
  /** Request headers, lowercase; the Authorization signature and session token are redacted. */
  headers: Record<string, string>;
  /** 'sigv4', 'bearer', or 'none' when authentication failed or was absent. */
  auth: 'sigv4' | 'bearer' | 'none';
  accessKeyId?: string;
  /** The region of the SigV4 credential scope: the region the client signed for (sigv4 only). */
  signingRegion?: string;
  /** Attempt number from the SDK's amz-sdk-request header (1 when absent). */
  attempt: number;
  /** HTTP status answered (200 for a stream even if an exception frame followed). */
  status: number;
  /** Bedrock error type answered, or the in-stream exception event sent. */
  errorType?: string;
  stopReason?: string;
  /** Token usage reported to the client. */
  usage?: EmulatedUsage;
  /** Resolves when the response (or stream) has fully ended. */
  done: Promise<void>;
}

/** A bounded in-memory log of requests; oldest entries fall off past `limit`. */
export class RequestRecorder {
  readonly limit: number;
  #entries: RecordedRequest[] = [];
  #seq = 0;
  #inFlight = 0;
  #maxInFlight = 0;

  constructor(limit = 1000) {
    this.limit = limit;
  }

  /** @internal Called by the emulator for each request. */
  start(entry: Omit<RecordedRequest, 'seq' | 'done'>): { entry: RecordedRequest; finish: () => void } {
    let resolve!: () => void;
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    this.#inFlight += 1;
    if (this.#inFlight > this.#maxInFlight) this.#maxInFlight = this.#inFlight;
    let open = true;
    const finish = () => {
      if (open) {
        open = false;
        this.#inFlight -= 1;
      }
      resolve();
    };
    const full = entry as RecordedRequest;
    full.seq = ++this.#seq;
    full.done = done;
    this.#entries.push(full);
    if (this.#entries.length > this.limit) this.#entries.splice(0, this.#entries.length - this.limit);
    return { entry: full, finish };
  }

  /** Every recorded request, oldest first (a copy). */
  all(): RecordedRequest[] {
    return this.#entries.slice();
  }

  /** Requests of one operation (or all), oldest first. */
  filter(operation?: EmulatorOperation | ((entry: RecordedRequest) => boolean)): RecordedRequest[] {
    if (operation === undefined) return this.all();
    if (typeof operation === 'function') return this.#entries.filter(operation);
    return this.#entries.filter((e) => e.operation === operation);
  }

  /** The most recent request (of an operation). */
  last(operation?: EmulatorOperation): RecordedRequest | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (operation === undefined || e.operation === operation) return e;
    }
    return undefined;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Requests recorded whose response (or stream) has not ended yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests in flight at once since the start or the last clear(): how a test sees a client's concurrency. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Forgets the entries and restarts maxInFlight from the requests in flight now. */
  clear(): void {
    this.#entries = [];
    this.#maxInFlight = this.#inFlight;
  }
}

/** Copies headers for the record, redacting secrets (the signature, session token, bearer token). */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const raw = headers[name];
    if (raw === undefined) continue;
    let value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (name === 'authorization') {
      if (value.startsWith('Bearer ')) value = 'Bearer [redacted]';
      else value = value.replace(/Signature=[0-9a-f]+/, 'Signature=[redacted]');
    } else if (name === 'x-amz-security-token' || name === 'x-amz-sso_bearer_token') {
      value = '[redacted]';
    }
    out[name] = value;
  }
  return out;
}
