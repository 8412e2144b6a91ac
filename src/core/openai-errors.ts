/**
 * OpenAI-shaped errors, and the mapping from Bedrock / AWS SDK failures to them.
 *
 * Clients (the openai SDK, LangChain, the Vercel AI SDK, editors) read `status`, `error.type` and
 * `error.code`, and retry on 408/409/429/5xx honouring `retry-after`. So the status matters as much
 * as the message: throttling must be 429 with Bedrock's retry hint, a missing model 404, and so on.
 */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAIErrorOptions {
  type?: string;
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
}

/** The error type OpenAI uses for a status when none is given. */
export function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export class OpenAIError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, options: OpenAIErrorOptions = {}) {
    super(message);
    this.name = 'OpenAIError';
    this.status = status;
    this.type = options.type ?? defaultErrorType(status);
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 invalid_request_error naming the offending field. */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): OpenAIError {
  return new OpenAIError(400, message, { type: 'invalid_request_error', param, code });
}

export function unknownModelError(model: string): OpenAIError {
  return new OpenAIError(
    404,
    `The model '${model}' does not exist or is not mapped to a Bedrock model. ` +
      'List the available models with GET /v1/models, or pass a Bedrock model id, inference profile id or ARN.',
    { type: 'invalid_request_error', code: 'model_not_found', param: 'model' },
  );
}

// AWS access key ids, "Bearer <token>" and long opaque tokens must never reach a client or a log.
const ACCESS_KEY_PATTERN = /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,}\b/g;
const BEARER_PATTERN = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;
const LONG_TOKEN_PATTERN = /[A-Za-z0-9+/=_-]{120,}/g;
const CONTEXT_LENGTH_PATTERN = /too long|context (?:length|window)|maximum context|prompt is too long|too many (?:input )?tokens/i;
const MAX_MESSAGE_LENGTH = 2000;

/** Removes anything that looks like a credential from a message meant for a client or a log. */
export function redactSecrets(message: string): string {
  let text = message;
  if (text.length > MAX_MESSAGE_LENGTH) text = `${text.slice(0, MAX_MESSAGE_LENGTH)}…`;
  return text
    .replace(ACCESS_KEY_PATTERN, '[redacted]')
    .replace(BEARER_PATTERN, 'Bearer [redacted]')
    .replace(LONG_TOKEN_PATTERN, '[redacted]');
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { statusCode?: unknown; headers?: Record<string, unknown> };
}

function retryAfterOf(error: ErrorLike): Record<string, string> {
  const headers = error.$response?.headers;
  if (!headers || typeof headers !== 'object') return {};
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === 'retry-after') {
      const value = headers[key];
      if (typeof value === 'string' && value.length > 0) return { 'retry-after': value };
      if (typeof value === 'number') return { 'retry-after': String(value) };
    }
  }
  return {};
}

/** A connection to Bedrock that broke after it was made. */
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_HTTP2_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION']);

/** A connection to Bedrock that could not be made, and how to say so. */
const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ENOTFOUND: 'the host name did not resolve',
  EAI_AGAIN: 'the host name could not be resolved right now',
  EHOSTUNREACH: 'there is no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ENETDOWN: 'the network is down',
  EHOSTDOWN: 'the host is down',
  ETIMEDOUT: 'the connection timed out',
};

interface SystemErrorLike {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * The Node system error under a failed connect, if any: on the error itself, in its `cause` chain, or
 * among an AggregateError's `errors` (happy eyeballs tries every address). ETIMEDOUT counts only from a
 * connect or DNS call: the SDK's own request timeout carries that code too, and that one is a 504.
 */
function connectFailureOf(error: unknown, depth = 0): SystemErrorLike | null {
  if (typeof error !== 'object' || error === null || depth > 4) return null;
  const e = error as SystemErrorLike;
  // An AggregateError carries the code too, but only its members say which address failed.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = connectFailureOf(inner, depth + 1);
      if (found) return found;
    }
  }
  if (typeof e.code === 'string' && Object.hasOwn(UNREACHABLE_CODES, e.code)) {
    if (e.code !== 'ETIMEDOUT' || e.syscall === 'connect' || e.syscall === 'getaddrinfo') return e;
  }
  return connectFailureOf(e.cause, depth + 1);
}

/** Built from the error's code and target only: the SDK's own message may quote a request. */
function unreachableError(failure: SystemErrorLike): OpenAIError {
  const code = String(failure.code);
  const host = typeof failure.hostname === 'string' ? failure.hostname : typeof failure.address === 'string' ? failure.address : null;
  const target = host ? ` at ${host}${typeof failure.port === 'number' ? `:${failure.port}` : ''}` : '';
  return new OpenAIError(
    502,
    `Could not reach Bedrock${target}: ${UNREACHABLE_CODES[code]} (${code}). Check the network connection and the configured Bedrock endpoint or region.`,
    { type: 'api_error', code: 'upstream_unreachable' },
  );
}

/**
 * Maps an AWS SDK exception (or anything thrown while calling Bedrock) to an OpenAIError.
 * Bedrock's own message is kept (redacted of credentials), the status follows what an OpenAI
 * client should do about it:
 *
 * - ValidationException 400 (code `context_length_exceeded` when the prompt is too long)
 * - AccessDeniedException 403 permission_error
 * - ResourceNotFoundException 404 model_not_found
 * - ModelTimeoutException 504: the gateway's upstream timed out (Bedrock says 408, but 408 means the
 *   *client* was slow to send its request; both are retried by the openai SDK)
 * - ModelErrorException / ModelStreamErrorException 424 (the model itself failed; not retried)
 * - ThrottlingException, ServiceQuotaExceededException, ModelNotReadyException 429 rate_limit_error,
 *   with `retry-after` passed on when Bedrock sent one
 * - ServiceUnavailableException 503, InternalServerException 500
 * - Expired / unrecognised / badly signed AWS credentials 401 authentication_error: the fix is to sign
 *   in again, not to ask an administrator for a permission (that is what 403 says)
 * - SignInRequiredError (ours) 401 `sign_in_required`
 * - NotEntitledError (ours: the org gateway refused credentials) 403 permission_error `not_entitled`
 * - CredentialConfigurationError (ours: e.g. long-lived keys refused by settings) 401
 *   `aws_credentials_refused`: no credentials this server may use; its message names the setting
 * - Bedrock (or the configured endpoint) unreachable 502 `upstream_unreachable`: refused, unresolvable,
 *   no route, connect timed out; a connection that broke mid-request 502; SDK timeouts 504
 */
export function fromBedrockError(error: unknown): OpenAIError {
  if (error instanceof OpenAIError) return error;
  const e: ErrorLike = typeof error === 'object' && error !== null ? (error as ErrorLike) : { message: String(error) };
  const name = typeof e.name === 'string' ? e.name : '';
  const rawMessage = typeof e.message === 'string' && e.message.length > 0 ? e.message : name || 'Unknown error';
  const message = redactSecrets(rawMessage);
  const metadataStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const connectFailure = connectFailureOf(error);
  if (connectFailure) return unreachableError(connectFailure);

  switch (name) {
    case 'SignInRequiredError':
      return new OpenAIError(401, message, { type: 'authentication_error', code: 'sign_in_required' });
    case 'NotEntitledError':
      return new OpenAIError(403, message, { type: 'permission_error', code: 'not_entitled' });
    case 'CredentialConfigurationError':
      return new OpenAIError(401, message, { type: 'authentication_error', code: 'aws_credentials_refused' });
    case 'ValidationException':
      return new OpenAIError(400, message, {
        type: 'invalid_request_error',
        code: CONTEXT_LENGTH_PATTERN.test(rawMessage) ? 'context_length_exceeded' : 'invalid_request',
      });
    case 'AccessDeniedException':
      return new OpenAIError(403, message, { type: 'permission_error', code: 'access_denied' });
    case 'ResourceNotFoundException':
      return new OpenAIError(404, message, { type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
    case 'ConflictException':
      return new OpenAIError(409, message, { type: 'invalid_request_error', code: 'conflict' });
    case 'ModelTimeoutException':
      return new OpenAIError(504, message, { type: 'api_error', code: 'model_timeout' });
    case 'ModelErrorException':
      return new OpenAIError(424, message, { type: 'api_error', code: 'model_error' });
    case 'ModelStreamErrorException':
      return new OpenAIError(424, message, { type: 'api_error', code: 'model_stream_error' });
    case 'ThrottlingException':
      return new OpenAIError(429, message, { type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: retryAfterOf(e) });
    case 'ServiceQuotaExceededException':
      return new OpenAIError(429, message, { type: 'rate_limit_error', code: 'quota_exceeded', headers: retryAfterOf(e) });
    case 'ModelNotReadyException':
      return new OpenAIError(429, message, { type: 'rate_limit_error', code: 'model_not_ready', headers: retryAfterOf(e) });
    case 'ServiceUnavailableException':
      return new OpenAIError(503, message, { type: 'api_error', code: 'service_unavailable', headers: retryAfterOf(e) });
    case 'InternalServerException':
      return new OpenAIError(500, message, { type: 'api_error', code: 'internal_error' });
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      return new OpenAIError(401, `AWS credentials have expired; sign in again. (${message})`, { type: 'authentication_error', code: 'aws_credentials_expired' });
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignatureException':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
      return new OpenAIError(401, `AWS rejected the credentials; sign in again or check them. (${message})`, { type: 'authentication_error', code: 'aws_credentials_invalid' });
    case 'CredentialsProviderError':
    case 'TokenProviderError':
      return new OpenAIError(401, `No usable AWS credentials: ${message}`, { type: 'authentication_error', code: 'aws_credentials_missing' });
    case 'TimeoutError':
      return new OpenAIError(504, `Bedrock did not answer in time: ${message}`, { type: 'api_error', code: 'upstream_timeout' });
    case 'AbortError':
      return new OpenAIError(499, 'The request was cancelled', { type: 'api_error', code: 'request_cancelled' });
    default:
      break;
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new OpenAIError(502, `The connection to Bedrock failed: ${message}`, { type: 'api_error', code: 'upstream_unreachable' });
  }
  if (typeof e.code === 'string' && e.code === 'ETIMEDOUT') {
    return new OpenAIError(504, `Bedrock did not answer in time: ${message}`, { type: 'api_error', code: 'upstream_timeout' });
  }
  if (metadataStatus !== undefined && metadataStatus >= 400) {
    const headers = metadataStatus === 429 || metadataStatus === 503 ? retryAfterOf(e) : {};
    return new OpenAIError(metadataStatus, message, { headers, code: name || null });
  }
  return new OpenAIError(500, `Bedrock request failed: ${message}`, { type: 'api_error', code: null });
}
