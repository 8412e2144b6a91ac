/**
 * What every answer to fuzzed input must satisfy: no 5xx beyond the documented upstream mappings, an
 * error in the caller's dialect, no stack trace, no secret. Returns the problems found (empty: fine).
 */
import type { Dialect } from '../../src/server/dialect.ts';
import type { RawHttpResponse } from './raw-http.ts';

/** The gateway's documented upstream mappings (src/core/openai-errors.ts fromBedrockError): 502, 503, 504. */
export const UPSTREAM_5XX: ReadonlySet<number> = new Set([502, 503, 504]);

/** Text that only a leaked stack trace or internal path would put in an answer. */
const STACK_TRACE = [/\n\s+at [^\n]+:\d+:\d+/, /\bat (async )?[\w.<>]+ \((file|node):/, /node:internal/, /file:\/\/\//, /\/work\/|\/src\/[\w/-]+\.ts/, /\b(TypeError|RangeError|ReferenceError|SyntaxError): /];

/**
 * Node's own http server answers a request it cannot parse (or whose headers are too large) before
 * any of our code runs (417 answers an `Expect` it does not know): a bare status line, no body. That is the transport
 * refusing bytes, not a route answering, so it has no dialect.
 */
function isTransportRefusal(response: RawHttpResponse): boolean {
  return [400, 413, 414, 417, 431, 501, 505].includes(response.status) && response.body.length === 0 && response.headers['content-type'] === undefined;
}

function json(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Problems with the error's shape in `dialect`; null when it is right. */
export function dialectProblem(dialect: Dialect, response: RawHttpResponse): string | null {
  const body = json(response.body);
  if (!/application\/json/.test(response.headers['content-type'] ?? '')) return `content-type ${response.headers['content-type']} for an error`;
  switch (dialect) {
    case 'openai': {
      const error = body?.error;
      if (typeof error?.message !== 'string' || typeof error?.type !== 'string' || !('param' in error) || !('code' in error)) return 'not an OpenAI error object';
      return null;
    }
    case 'anthropic':
      if (body?.type !== 'error' || typeof body?.error?.type !== 'string' || typeof body?.error?.message !== 'string') return 'not an Anthropic error object';
      return null;
    case 'bedrock':
      if (!response.headers['x-amzn-errortype'] || typeof (body?.message ?? body?.Message) !== 'string') return 'not an AWS error (x-amzn-errortype + message)';
      return null;
  }
}

export interface AnswerCheck {
  dialect: Dialect;
  method: string;
  secrets: readonly string[];
}

export function answerProblems(response: RawHttpResponse | null, rawText: string, check: AnswerCheck): string[] {
  const problems: string[] = [];
  for (const secret of check.secrets) if (rawText.includes(secret)) problems.push(`a secret (${secret.slice(0, 6)}…) is in the answer`);
  for (const pattern of STACK_TRACE) if (pattern.test(rawText)) problems.push(`stack trace or internal path in the answer (${pattern})`);
  if (!response) return problems;
  if (response.status >= 500 && !UPSTREAM_5XX.has(response.status) && !isTransportRefusal(response)) problems.push(`status ${response.status}`);
  if (response.status >= 400 && check.method.toUpperCase() !== 'HEAD' && !isTransportRefusal(response)) {
    const shape = dialectProblem(check.dialect, response);
    if (shape) problems.push(`${shape} (status ${response.status})`);
  }
  return problems;
}
