import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBedrockError, OpenAIError, unknownModelError, redactSecrets } from '../../src/core/openai-errors.ts';
import { longLivedKeysRefused } from '../../src/credentials/long-lived-keys.ts';

function sdkError(name: string, message: string, status: number, headers: Record<string, string> = {}) {
  const error = new Error(message) as Error & { $metadata: object; $response: object; $fault: string };
  error.name = name;
  error.$metadata = { httpStatusCode: status, requestId: 'r' };
  error.$response = { statusCode: status, headers };
  error.$fault = 'client';
  return error;
}

test('OpenAIError serialises to the OpenAI error shape', () => {
  const error = new OpenAIError(400, 'bad', { param: 'messages', code: 'x' });
  assert.deepEqual(error.toJSON(), { error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: 'x' } });
  assert.deepEqual(JSON.parse(JSON.stringify(error)), error.toJSON());
  assert.deepEqual(new OpenAIError(500, 'x').toJSON().error, { message: 'x', type: 'api_error', param: null, code: null });
  assert.deepEqual(new OpenAIError(429, 'x').headers, {});
  assert.ok(error instanceof Error);
});

test('Bedrock exceptions map to OpenAI statuses and types, keeping the message', () => {
  const cases: [string, number, number, string, string | null][] = [
    ['ValidationException', 400, 400, 'invalid_request_error', 'invalid_request'],
    ['AccessDeniedException', 403, 403, 'permission_error', 'access_denied'],
    ['ResourceNotFoundException', 404, 404, 'invalid_request_error', 'model_not_found'],
    ['ModelTimeoutException', 408, 504, 'api_error', 'model_timeout'],
    ['ModelErrorException', 424, 424, 'api_error', 'model_error'],
    ['ModelNotReadyException', 429, 429, 'rate_limit_error', 'model_not_ready'],
    ['ServiceQuotaExceededException', 400, 429, 'rate_limit_error', 'quota_exceeded'],
    ['InternalServerException', 500, 500, 'api_error', 'internal_error'],
    ['ServiceUnavailableException', 503, 503, 'api_error', 'service_unavailable'],
    ['ModelStreamErrorException', 424, 424, 'api_error', 'model_stream_error'],
  ];
  for (const [name, wire, status, type, code] of cases) {
    const mapped = fromBedrockError(sdkError(name, `msg of ${name}`, wire));
    assert.equal(mapped.status, status, name);
    assert.equal(mapped.type, type, name);
    assert.equal(mapped.code, code, name);
    assert.equal(mapped.message, `msg of ${name}`, name);
  }
});

test('throttling is 429 with retry-after passed on (any header case)', () => {
  const mapped = fromBedrockError(sdkError('ThrottlingException', 'Too many requests, please wait before trying again.', 429, { 'Retry-After': '2' }));
  assert.equal(mapped.status, 429);
  assert.equal(mapped.type, 'rate_limit_error');
  assert.equal(mapped.code, 'rate_limit_exceeded');
  assert.deepEqual(mapped.headers, { 'retry-after': '2' });
  assert.deepEqual(fromBedrockError(sdkError('ThrottlingException', 'x', 429)).headers, {});
});

test('a too-long prompt is context_length_exceeded', () => {
  assert.equal(fromBedrockError(sdkError('ValidationException', 'Input is too long for requested model.', 400)).code, 'context_length_exceeded');
});

test('credential problems are 401 telling the user to sign in again', () => {
  for (const name of ['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidSignatureException']) {
    const mapped = fromBedrockError(sdkError(name, 'The security token included in the request is expired', 403));
    assert.equal(mapped.status, 401, name);
    assert.equal(mapped.type, 'authentication_error');
    assert.match(mapped.message, /sign in again/);
  }
  const signIn = Object.assign(new Error('Sign in to Bedrock Bridge first (tray > Sign in).'), { name: 'SignInRequiredError' });
  assert.deepEqual(fromBedrockError(signIn).toJSON(), {
    error: { message: 'Sign in to Bedrock Bridge first (tray > Sign in).', type: 'authentication_error', param: null, code: 'sign_in_required' },
  });
  assert.equal(fromBedrockError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })).status, 401);
  // Refused by settings (long-lived keys): 401, the message kept whole since it names the setting.
  const refused = longLivedKeysRefused('aws-profile "default"');
  assert.deepEqual(fromBedrockError(refused).toJSON(), {
    error: { message: refused.message, type: 'authentication_error', param: null, code: 'aws_credentials_refused' },
  });
});

test('credentials never reach a message', () => {
  const mapped = fromBedrockError(sdkError('UnrecognizedClientException', 'Bad key AKIAIOSFODNN7EXAMPLE with Bearer abc.def-ghi', 403));
  assert.doesNotMatch(mapped.message, /AKIAIOSFODNN7EXAMPLE|abc\.def/);
  assert.equal(redactSecrets('token ' + 'A'.repeat(200)), 'token [redacted]');
});

test('network failures, unknown SDK errors and plain values', () => {
  assert.equal(fromBedrockError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })).status, 502);
  assert.equal(fromBedrockError(Object.assign(new Error('timed out'), { name: 'TimeoutError' })).status, 504);
  const unknown = fromBedrockError(sdkError('SomeNewException', 'new', 409));
  assert.equal(unknown.status, 409);
  assert.equal(unknown.code, 'SomeNewException');
  assert.equal(fromBedrockError('boom').status, 500);
  const existing = new OpenAIError(418, 'teapot');
  assert.equal(fromBedrockError(existing), existing);
});

test('NotEntitledError (matched by name) is 403 permission_error not_entitled, keeping its message', () => {
  const message = 'Your organisation has not granted you access to Amazon Bedrock through Bedrock Bridge (not in group). Ask your administrator to add you.';
  const notEntitled = Object.assign(new Error(message), { name: 'NotEntitledError' });
  assert.deepEqual(fromBedrockError(notEntitled).toJSON(), {
    error: { message, type: 'permission_error', param: null, code: 'not_entitled' },
  });
  assert.equal(fromBedrockError(notEntitled).status, 403);
});

/** A Node system error as net/dns raise it. */
function systemError(code: string, fields: Record<string, unknown>, message = `${String(fields.syscall ?? 'connect')} ${code}`) {
  return Object.assign(new Error(message), { code, errno: -1, ...fields });
}

test('Bedrock unreachable is 502 upstream_unreachable, wherever the SDK put the system error', () => {
  const cases: [string, unknown, RegExp][] = [
    ['code on the error', systemError('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 1 }), /at 127\.0\.0\.1:1: the connection was refused \(ECONNREFUSED\)/],
    [
      'code on the cause',
      Object.assign(new Error('request failed'), { $metadata: { attempts: 1 }, cause: systemError('ENOTFOUND', { syscall: 'getaddrinfo', hostname: 'bedrock-runtime.nowhere.invalid' }) }),
      /at bedrock-runtime\.nowhere\.invalid: the host name did not resolve \(ENOTFOUND\)/,
    ],
    [
      'happy eyeballs AggregateError',
      Object.assign(new AggregateError([systemError('ECONNREFUSED', { syscall: 'connect', address: '::1', port: 443 }), systemError('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 443 })], ''), { code: 'ECONNREFUSED' }),
      /at ::1:443: the connection was refused/,
    ],
    ['connect timed out (smithy names it TimeoutError)', Object.assign(systemError('ETIMEDOUT', { syscall: 'connect', address: '10.0.0.1', port: 443 }), { name: 'TimeoutError' }), /the connection timed out \(ETIMEDOUT\)/],
    ['no route', systemError('EHOSTUNREACH', { syscall: 'connect', address: '10.0.0.1', port: 443 }), /no route to the host/],
  ];
  for (const [what, error, message] of cases) {
    const mapped = fromBedrockError(error);
    assert.equal(mapped.status, 502, what);
    assert.equal(mapped.type, 'api_error', what);
    assert.equal(mapped.code, 'upstream_unreachable', what);
    assert.match(mapped.message, /^Could not reach Bedrock/, what);
    assert.match(mapped.message, message, what);
    assert.match(mapped.message, /configured Bedrock endpoint/, what);
  }
});

test('an unreachable Bedrock never quotes credentials from the SDK message', () => {
  const error = Object.assign(new Error('connect ECONNREFUSED for AKIAIOSFODNN7EXAMPLE with Bearer abc.def-ghi secret=wJalrXUtnFEMI'), {
    cause: systemError('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 1 }),
  });
  const mapped = fromBedrockError(error);
  assert.equal(mapped.status, 502);
  assert.doesNotMatch(mapped.message, /AKIA|abc\.def|wJalr|Bearer/);
});

test("the SDK's own request timeout (ETIMEDOUT without a connect) stays 504", () => {
  const requestTimeout = Object.assign(new Error('a request has exceeded the configured 1000 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  const mapped = fromBedrockError(requestTimeout);
  assert.equal(mapped.status, 504);
  assert.equal(mapped.code, 'upstream_timeout');
});

test('unknownModelError is a 404 model_not_found naming GET /v1/models', () => {
  const error = unknownModelError('gpt-9');
  assert.equal(error.status, 404);
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.code, 'model_not_found');
  assert.equal(error.param, 'model');
  assert.match(error.message, /'gpt-9'/);
  assert.match(error.message, /GET \/v1\/models/);
});
