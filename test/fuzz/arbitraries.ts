/**
 * fast-check generators of hostile input: JSON values mutated from valid samples (wrong types, huge
 * numbers, deep nesting, control characters, invalid UTF-8, prototype keys), odd headers, paths and
 * body framings.
 */
import fc from 'fast-check';
import type { BodyFraming } from './raw-http.ts';

/** Values a mutation puts somewhere in a document. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3, maxKeys: 4, withNullPrototype: true, withObjectString: true }),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 5e-324, 2 ** 64, -1, 0, 1.5, 4_294_967_296),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', 'gpt-4o\n2026-01-01T00:00:00Z 200 FAKE', '\u202egnp', '__proto__', 'constructor', 'toString', 'default', '%s%n', '../../etc/passwd'),
  fc.string({ maxLength: 8 }).map((text) => text.repeat(2_000)),
  fc.constantFrom(null, true, false, [], {}),
);

type Path = (string | number)[];

/** Every path in a JSON document, containers included (the root is []). */
function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...at, index], out));
  else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) pathsOf((value as Record<string, unknown>)[key], [...at, key], out);
  return out;
}

function parentOf(root: unknown, path: Path): { parent: Record<string | number, unknown>; key: string | number } | null {
  if (path.length === 0) return null;
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  return { parent: node, key: path[path.length - 1]! };
}

export type Mutation =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  /** Puts a value nested `depth` levels deep there (written into the text after serialising). */
  | { op: 'nest'; at: number; depth: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'n', 'logprobs', 'stream', 'model')), value: hostileValue }),
  fc.record({ op: fc.constant('nest' as const), at: fc.nat(), depth: fc.oneof(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 1_000, max: 100_000 })) }),
);

const DEEP_MARKER = '@@fuzz-deep:';
const DEEP_PATTERN = new RegExp(`"${DEEP_MARKER}(\\d+)"`, 'g');

/** Alternating objects and arrays, `depth` levels deep, as JSON text. */
function deepText(depth: number): string {
  const open = Array.from({ length: depth }, (_, i) => (i % 2 === 0 ? '{"a":' : '[')).join('');
  const close = Array.from({ length: depth }, (_, i) => (i % 2 === 0 ? '}' : ']')).reverse().join('');
  return `${open}1${close}`;
}

/** Applies the mutations to a copy of `sample`. */
export function mutate(sample: unknown, mutations: readonly Mutation[]): unknown {
  const wrapper = { root: structuredClone(sample) as unknown };
  for (const change of mutations) {
    const paths = pathsOf(wrapper.root).map((path) => ['root', ...path]);
    const path = paths[change.at % paths.length]!;
    const place = parentOf(wrapper, path)!;
    const current = place.parent[place.key];
    switch (change.op) {
      case 'set':
        place.parent[place.key] = structuredClone(change.value);
        break;
      case 'delete':
        if (Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
        else if (place.key !== 'root') delete place.parent[place.key];
        break;
      case 'add':
        // Copies: generated values (the constants above) are shared between runs and must stay as generated.
        if (Array.isArray(current)) current.push(structuredClone(change.value));
        else if (current !== null && typeof current === 'object') Object.defineProperty(current, change.key, { value: structuredClone(change.value), enumerable: true, configurable: true, writable: true });
        break;
      case 'nest':
        place.parent[place.key] = `${DEEP_MARKER}${change.depth}`;
        break;
    }
  }
  return wrapper.root;
}

export type TextTrick = 'none' | 'huge-number' | 'duplicate-key' | 'bom' | 'trailing-garbage' | 'truncate' | 'invalid-utf8' | 'lone-surrogate' | 'corrupt-byte' | 'single-quotes' | 'unquoted';

/** Serialises, then breaks the text in ways JSON.stringify never would. */
export function serialize(value: unknown, trick: TextTrick, noise: Uint8Array): Buffer {
  const text = (JSON.stringify(value) ?? 'undefined').replace(DEEP_PATTERN, (_, depth: string) => deepText(Number(depth)));
  switch (trick) {
    case 'none':
      return Buffer.from(text);
    case 'huge-number':
      return Buffer.from(text.replace(/-?\d+(\.\d+)?/, '1e99999').replace(/\{/, '{"max_tokens":123456789012345678901234567890,'));
    case 'duplicate-key':
      return Buffer.from(text.replace(/\}$/, ',"model":"second","messages":7}'));
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 'trailing-garbage':
      return Buffer.from(`${text} {"x":1}`);
    case 'truncate':
      return Buffer.from(text.slice(0, Math.floor(text.length / 2)));
    case 'invalid-utf8': {
      // Bytes that are not UTF-8 inside the first string value.
      const bytes = Buffer.from(text);
      const quote = bytes.indexOf('"', bytes.indexOf(':'));
      const at = quote >= 0 ? quote + 1 : 0;
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xc0, 0xae, 0xed, 0xa0, 0x80, ...noise.subarray(0, 8)]), bytes.subarray(at)]);
    }
    case 'corrupt-byte': {
      // One character replaced somewhere: the typo a hand-edited file has.
      const bytes = Buffer.from(text);
      if (bytes.length > 0) bytes[((noise[0]! << 8) | noise[1]!) % bytes.length] = noise[2]! % 2 === 0 ? 0x7d : noise[3]!;
      return bytes;
    }
    case 'single-quotes':
      // Hand-edited files: the first string value in single quotes, or in none.
      return Buffer.from(text.replace(/:"([^"]*)"/, ":'$1'"));
    case 'unquoted':
      return Buffer.from(text.replace(/:"([^"]*)"/, ':$1'));
    case 'lone-surrogate':
      return Buffer.from(text.replace(/"([^"]*)"/, '"\\ud800$1"'));
  }
}

/** A request body: a mutated sample most of the time, else random JSON, random bytes, deep nesting or nothing. */
export function bodyArbitrary(samples: readonly unknown[]): fc.Arbitrary<Buffer> {
  const mutated =
    samples.length === 0
      ? fc.constant(Buffer.alloc(0))
      : fc
          .record({
            sample: fc.constantFrom(...samples),
            mutations: fc.array(mutation, { maxLength: 4 }),
            trick: fc.constantFrom<TextTrick>('none', 'none', 'none', 'none', 'huge-number', 'duplicate-key', 'bom', 'trailing-garbage', 'truncate', 'invalid-utf8', 'lone-surrogate', 'corrupt-byte', 'single-quotes', 'unquoted'),
            noise: fc.uint8Array({ minLength: 8, maxLength: 8 }),
          })
          .map(({ sample, mutations, trick, noise }) => serialize(mutate(sample, mutations), trick, noise));
  return fc.oneof(
    { weight: 12, arbitrary: mutated },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((depth) => Buffer.from(`{"model":"gpt-4o","messages":[{"role":"user","content":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  );
}

export type AuthChoice = 'bearer' | 'x-api-key' | 'none' | 'wrong' | 'empty-bearer' | 'basic' | 'both-wrong-first';

/** Header values a client could send: printable most of the time, sometimes obs-text or controls. */
const headerValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }).map((text) => text.replace(/[\r\n]/g, '')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((text) => text.replace(/[\r\n]/g, '')) },
  { weight: 1, arbitrary: fc.constantFrom('\u00ff\u00fe', 'a\u0000b', 'x'.repeat(9_000), '100-continue', 'gzip', 'chunked') },
);

const headerName = fc.oneof(
  fc.constantFrom('accept', 'accept-encoding', 'user-agent', 'expect', 'x-request-id', 'x-forwarded-for', 'anthropic-version', 'openai-beta', 'x-amz-date', 'cookie', 'content-language', 'te', 'trailer', 'upgrade', 'range'),
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/),
);

export interface HeaderChoices {
  auth: AuthChoice;
  contentType: string | null;
  contentEncoding: string | null;
  origin: string | null;
  host: 'ok' | 'localhost' | 'upper' | 'foreign' | 'missing-port' | 'duplicate';
  extra: [string, string][];
}

/** What a well-behaved client sends, so most inputs reach the routes; only `extra` varies. */
const wellFormedHeaders: fc.Arbitrary<HeaderChoices> = fc.record({
  auth: fc.constantFrom<AuthChoice>('bearer', 'x-api-key'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  contentEncoding: fc.constant(null),
  origin: fc.constant(null),
  host: fc.constantFrom<HeaderChoices['host']>('ok', 'localhost'),
  extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 }),
});

const anyHeaders: fc.Arbitrary<HeaderChoices> = fc.record({
  auth: fc.constantFrom<AuthChoice>('bearer', 'bearer', 'bearer', 'bearer', 'x-api-key', 'none', 'wrong', 'empty-bearer', 'basic', 'both-wrong-first'),
  contentType: fc.constantFrom(
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'Application/JSON',
    'application/vnd.api+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '',
    'application/json;;;=',
    null,
  ),
  contentEncoding: fc.constantFrom(null, null, null, null, 'gzip', 'br', 'deflate', 'identity', 'x-unknown', 'gzip, gzip'),
  origin: fc.constantFrom(null, null, null, null, 'null', 'http://evil.example', 'http://127.0.0.1:1'),
  host: fc.constantFrom<HeaderChoices['host']>('ok', 'ok', 'ok', 'ok', 'localhost', 'upper', 'foreign', 'missing-port', 'duplicate'),
  extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
});

/** Mostly well-formed, sometimes anything. */
export const headerChoices: fc.Arbitrary<HeaderChoices> = fc.oneof({ weight: 3, arbitrary: wellFormedHeaders }, { weight: 2, arbitrary: anyHeaders });

export const framing = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<BodyFraming>('exact', 'chunked') },
  { weight: 1, arbitrary: fc.constantFrom<BodyFraming>('short', 'long', 'none', 'non-numeric', 'conflicting', 'chunked-and-length') },
);

/** A path segment in the `{id}` place: a known id, an encoded string, or raw garbage. */
export const idSegment = (known: readonly string[]) =>
  fc.oneof(
    fc.constantFrom(...known).map(encodeURIComponent),
    fc.constantFrom(...known),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
    fc.constantFrom('%', '%ZZ', '%00', '%C0%AE%C0%AE', '..%2F..%2F', '%E2%80%AE', 'a%0Ab', '%FF%FE', 'x'.repeat(10_000), ''),
  );

/** Ways to bend a path that routes care about: query strings, slashes, case, dot segments. */
export const pathTwist = fc.constantFrom<(path: string) => string>(
  (path) => path,
  (path) => path,
  (path) => path,
  (path) => `${path}?x=%ZZ&model=${'%00'.repeat(3)}`,
  (path) => `${path}/`,
  (path) => path.replace('/v1/', '//v1//'),
  (path) => path.toUpperCase(),
  (path) => `${path}/../models`,
  (path) => `${path}#frag`,
  (path) => path.replace('/v1', '/v1/%2e%2e/v1'),
);

/** Any path: for the unknown-path property. */
export const randomPath = fc.oneof(
  fc.webPath().map((path) => path || '/'),
  fc.array(fc.oneof(fc.constantFrom('v1', 'model', 'messages', 'responses', 'control', 'foundation-models', 'inference-profiles', 'converse', 'invoke', '..', ''), fc.string({ maxLength: 10 }).map(encodeURIComponent)), { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.constantFrom('*', '/%', '/%ZZ', '/v1/%00', 'http://127.0.0.1/v1/models', '/v1/models?', `/${'a'.repeat(20_000)}`),
);

export const method = fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'get');
