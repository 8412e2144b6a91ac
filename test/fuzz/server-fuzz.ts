/**
 * Fuzz properties of the local server, shared by test/fuzz/server.test.ts (fixed seed, few runs) and
 * test/bench/fuzz.bench.ts (many runs). The server runs in-process against the wire-level emulator;
 * image URLs resolve to a refusal so no fuzzed input can make it fetch anything.
 */
import fc from 'fast-check';
import { DEFAULT_EMULATOR_CREDENTIALS } from '../../src/emulator/index.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';
import { dialectOf, type Dialect } from '../../src/server/dialect.ts';
import { startTestBridge, TEST_API_KEY, type TestBridge } from '../support/bridge.ts';
import { answerProblems } from './answers.ts';
import { bodyArbitrary, framing, headerChoices, idSegment, method, pathTwist, randomPath, type HeaderChoices } from './arbitraries.ts';
import { encodeRequest, exchange, parseResponse, type BodyFraming } from './raw-http.ts';
import { KNOWN_IDS, ROUTES, type FuzzRoute } from './routes.ts';

/** How long one exchange may take before it counts as a hang. */
const EXCHANGE_TIMEOUT_MS = 10_000;

export interface FuzzBridge {
  bridge: TestBridge;
  secrets: string[];
  /** Answers seen, by status (0: the connection closed without one): shows what the inputs reached. */
  statuses: Map<number, number>;
  close(): Promise<void>;
}

export async function startFuzzBridge(): Promise<FuzzBridge> {
  const bridge = await startTestBridge({
    gateway: {
      resolveImage: async () => {
        throw new OpenAIError(400, 'image URLs are not fetched in this test', { code: 'invalid_image_url' });
      },
    },
  });
  return {
    bridge,
    secrets: [TEST_API_KEY, DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey],
    statuses: new Map(),
    close: () => bridge.close(),
  };
}

interface FuzzInput {
  method: string;
  target: string;
  headers: HeaderChoices;
  body: Buffer;
  framing: BodyFraming;
}

function headerList(choices: HeaderChoices, port: number, apiKey: string): [string, string][] {
  const headers: [string, string][] = [];
  switch (choices.host) {
    case 'ok':
      headers.push(['Host', `127.0.0.1:${port}`]);
      break;
    case 'localhost':
      headers.push(['Host', `localhost:${port}`]);
      break;
    case 'upper':
      headers.push(['Host', `LOCALHOST:${port}`]);
      break;
    case 'foreign':
      headers.push(['Host', `evil.example:${port}`]);
      break;
    case 'missing-port':
      headers.push(['Host', '127.0.0.1']);
      break;
    case 'duplicate':
      headers.push(['Host', `127.0.0.1:${port}`], ['Host', `evil.example:${port}`]);
      break;
  }
  switch (choices.auth) {
    case 'bearer':
      headers.push(['Authorization', `Bearer ${apiKey}`]);
      break;
    case 'x-api-key':
      headers.push(['x-api-key', apiKey]);
      break;
    case 'wrong':
      headers.push(['Authorization', 'Bearer bb-wrong-key']);
      break;
    case 'empty-bearer':
      headers.push(['Authorization', 'Bearer ']);
      break;
    case 'basic':
      headers.push(['Authorization', 'Basic dXNlcjpwYXNz']);
      break;
    case 'both-wrong-first':
      headers.push(['Authorization', 'Bearer bb-wrong-key'], ['x-api-key', apiKey]);
      break;
    case 'none':
      break;
  }
  if (choices.contentType !== null) headers.push(['Content-Type', choices.contentType]);
  if (choices.contentEncoding !== null) headers.push(['Content-Encoding', choices.contentEncoding]);
  if (choices.origin !== null) headers.push(['Origin', choices.origin]);
  headers.push(...choices.extra);
  return headers;
}

/**
 * The dialect the server must answer in: the one of the path as the server sees it (appended to its
 * origin, as @hono/node-server does, so `//x/...` stays a path and dot segments resolve; decoded as
 * hono's c.req.path is).
 */
function dialectOfTarget(target: string): Dialect {
  try {
    const pathname = new URL(target.startsWith('/') ? `http://127.0.0.1${target}` : target).pathname;
    let decoded = pathname;
    try {
      decoded = decodeURI(pathname);
    } catch {
      // hono keeps a path it cannot decode as it is
    }
    return dialectOf(decoded);
  } catch {
    return 'openai';
  }
}

/** Sends one fuzzed request; throws (for fast-check) naming every problem with the answer. */
async function sendAndCheck(fuzz: FuzzBridge, input: FuzzInput): Promise<void> {
  const { bridge } = fuzz;
  const bytes = encodeRequest({ method: input.method, target: input.target, headers: headerList(input.headers, bridge.port, bridge.apiKey), body: input.body, framing: input.framing }, `127.0.0.1:${bridge.port}`);
  const complete = input.framing === 'exact' || input.framing === 'chunked';
  const { raw, timedOut } = await exchange(bridge.port, bytes, EXCHANGE_TIMEOUT_MS, input.framing === 'long');
  const problems: string[] = [];
  if (timedOut) problems.push(`no answer within ${EXCHANGE_TIMEOUT_MS} ms`);
  const response = parseResponse(raw);
  if (!response && complete && !timedOut) problems.push('the connection closed without an answer');
  fuzz.statuses.set(response?.status ?? 0, (fuzz.statuses.get(response?.status ?? 0) ?? 0) + 1);
  problems.push(...answerProblems(response, raw.toString('latin1'), { dialect: dialectOfTarget(input.target), method: input.method, secrets: fuzz.secrets }));
  if (problems.length > 0) {
    const head = raw.subarray(0, 600).toString('latin1');
    throw new Error(`${problems.join('; ')}\n--- answer ---\n${head}`);
  }
}

function routeTarget(route: FuzzRoute): fc.Arbitrary<string> {
  const base = route.path.includes('{id}') ? idSegment(KNOWN_IDS).map((id) => route.path.replace('{id}', id)) : fc.constant(route.path);
  return fc.tuple(base, pathTwist).map(([path, twist]) => twist(path));
}

/** Requests to one route of the table: its method mostly, mutated bodies, odd headers and framings. */
export function routeProperty(fuzz: FuzzBridge, route: FuzzRoute): fc.IAsyncProperty<[FuzzInput]> {
  const input = fc.record({
    method: fc.oneof({ weight: 8, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: method }),
    target: routeTarget(route),
    headers: headerChoices,
    body: route.samples.length > 0 ? bodyArbitrary(route.samples) : fc.oneof(fc.constant(Buffer.alloc(0)), bodyArbitrary([{}])),
    framing,
  });
  return fc.asyncProperty(input, (value) => sendAndCheck(fuzz, value));
}

/** Any method on any path: unknown ones must be 404s in the dialect their path belongs to. */
export function unknownPathProperty(fuzz: FuzzBridge): fc.IAsyncProperty<[FuzzInput]> {
  const input = fc.record({
    method,
    target: randomPath,
    headers: headerChoices,
    body: bodyArbitrary(ROUTES.flatMap((route) => route.samples)),
    framing,
  });
  return fc.asyncProperty(input, (value) => sendAndCheck(fuzz, value));
}

/**
 * Bytes that are barely HTTP, or not at all. (Not HTTP/2's preface: it opens an HTTP/2 session that
 * stays open as HTTP/2 wants; the AWS SDK tests drive that side.)
 */
export function rawBytesProperty(fuzz: FuzzBridge): fc.IAsyncProperty<[Buffer]> {
  const port = () => fuzz.bridge.port;
  const request = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((text) => Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\n${text}\r\n\r\n`, 'latin1')),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((text) => Buffer.from(`${text} HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nAuthorization: Bearer ${fuzz.bridge.apiKey}\r\n\r\n`, 'latin1')),
    fc.constantFrom('GET / HTTP/0.9\r\n\r\n', 'GET /v1/models HTTP/9.9\r\n\r\n', 'GET /v1/models\r\n\r\n', '\r\n\r\n').map((text) => Buffer.from(text, 'latin1')),
  );
  return fc.asyncProperty(request, async (bytes) => {
    const { raw, timedOut } = await exchange(port(), bytes, EXCHANGE_TIMEOUT_MS, true);
    const problems = timedOut ? [`no answer within ${EXCHANGE_TIMEOUT_MS} ms`] : [];
    const [requestMethod = 'GET', target = '/'] = bytes.subarray(0, Math.max(0, bytes.indexOf('\r\n'))).toString('latin1').split(' ');
    problems.push(...answerProblems(parseResponse(raw), raw.toString('latin1'), { dialect: dialectOfTarget(target), method: requestMethod, secrets: fuzz.secrets }));
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n--- answer ---\n${raw.subarray(0, 600).toString('latin1')}`);
  });
}

/** Every server property by name, for the test and the bench. */
export function serverProperties(fuzz: FuzzBridge): { name: string; property: fc.IAsyncProperty<any> }[] {
  return [
    ...ROUTES.map((route) => ({ name: `${route.method} ${route.path}`, property: routeProperty(fuzz, route) })),
    { name: 'unknown paths and methods', property: unknownPathProperty(fuzz) },
    { name: 'raw bytes', property: rawBytesProperty(fuzz) },
  ];
}
