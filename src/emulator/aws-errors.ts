import { randomUUID } from 'node:crypto';

/** Bedrock (runtime and control plane) exceptions with their HTTP status codes. */
export const BEDROCK_ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  XAmzContentSHA256Mismatch: 400,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ConflictException: 409,
  ModelErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  ModelStreamErrorException: 424,
};

/** Authentication failures come from the Coral front end, not the Bedrock service model. */
const CORAL_AUTH_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
]);

export interface AwsErrorSpec {
  type: string;
  message: string;
  status?: number;
  /** Extra response headers, e.g. retry-after. */
  headers?: Record<string, string>;
}

export interface AwsErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The wire shape of an AWS JSON/REST-JSON error: x-amzn-errortype header, `{"message"}` body, request id. */
export function awsError(spec: AwsErrorSpec, requestId: string = randomUUID()): AwsErrorResponse {
  const status = spec.status ?? BEDROCK_ERROR_STATUS[spec.type] ?? 400;
  const namespace = CORAL_AUTH_ERRORS.has(spec.type) ? 'com.amazon.coral.service' : 'com.amazon.bedrock';
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': `${spec.type}:http://internal.amazon.com/coral/${namespace}/`,
      ...spec.headers,
    },
    body: JSON.stringify({ message: spec.message }),
  };
}

/** Thrown inside handlers to answer with an AWS error. */
export class EmulatedAwsError extends Error {
  readonly type: string;
  readonly status: number | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(type: string, message: string, status?: number, headers?: Record<string, string>) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.headers = headers;
  }
  toSpec(): AwsErrorSpec {
    const spec: AwsErrorSpec = { type: this.type, message: this.message };
    if (this.status !== undefined) spec.status = this.status;
    if (this.headers !== undefined) spec.headers = this.headers;
    return spec;
  }
}

export function validationError(message: string): EmulatedAwsError {
  return new EmulatedAwsError('ValidationException', message);
}
