import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile we read. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Buckets of the bridge's hot path. A sample's self time goes to the bucket of its own frame;
 * inclusive time counts a sample once for every bucket that appears anywhere in its stack.
 */
const BUCKETS: { name: string; match: (frame: ProfileNode['callFrame']) => boolean }[] = [
  { name: 'SigV4 signing', match: (f) => /signature-v4|sha256-js|@aws-crypto/.test(f.url) },
  { name: 'event-stream decode', match: (f) => /eventstream|event-streams/.test(f.url) },
  { name: 'AWS SDK other (middleware, serde, retry)', match: (f) => /@aws-sdk|@smithy/.test(f.url) },
  { name: 'zod', match: (f) => /node_modules\/zod\//.test(f.url) },
  { name: 'hono', match: (f) => /node_modules\/hono\//.test(f.url) },
  { name: '@hono/node-server adapter', match: (f) => /@hono\/node-server/.test(f.url) },
  { name: 'bridge src/server', match: (f) => /\/src\/server\//.test(f.url) },
  { name: 'bridge src/core', match: (f) => /\/src\/core\//.test(f.url) },
  { name: 'bridge other src', match: (f) => /\/src\//.test(f.url) && !/node_modules/.test(f.url) },
  { name: 'socket syscalls (write, close)', match: (f) => f.url === '' && /^(writeUtf8String|writev|writeBuffer|writeLatin1String|writeAsciiString|shutdown|close)$/.test(f.functionName) },
  { name: 'TCP connect (a new connection per request)', match: (f) => /^node:net$/.test(f.url) && /connect/i.test(f.functionName) },
  { name: 'node http2 (to Bedrock)', match: (f) => /node:internal\/http2|node:http2/.test(f.url) },
  { name: 'URL parsing', match: (f) => f.url === 'node:internal/url' },
  { name: 'node crypto (HMAC, SHA-256, random)', match: (f) => /node:internal\/crypto/.test(f.url) },
  { name: 'node http/1.1 (from client)', match: (f) => /node:_http|node:http$/.test(f.url) },
  { name: 'node streams', match: (f) => /node:internal\/(streams|webstreams)/.test(f.url) },
  { name: 'node net / timers / other internals', match: (f) => /^node:/.test(f.url) },
  { name: 'undici / web fetch (Request, Response, Headers)', match: (f) => /undici|internal\/deps\/undici/.test(f.url) },
  { name: 'other node_modules', match: (f) => /node_modules/.test(f.url) },
  { name: 'garbage collector', match: (f) => f.functionName === '(garbage collector)' },
  { name: 'program (native, unattributed)', match: (f) => f.functionName === '(program)' },
  { name: 'idle', match: (f) => f.functionName === '(idle)' },
];

function bucketOf(frame: ProfileNode['callFrame']): string | null {
  for (const bucket of BUCKETS) if (bucket.match(frame)) return bucket.name;
  // Native code (utf8Slice, writev, RegExp, ...) has no url: it counts for its JS caller.
  return frame.url ? 'other' : null;
}

/** Inclusive time is only telling for libraries and our own code, not for the event loop's frames. */
const INCLUSIVE = new Set([
  'SigV4 signing',
  'event-stream decode',
  'AWS SDK other (middleware, serde, retry)',
  'zod',
  'hono',
  '@hono/node-server adapter',
  'bridge src/server',
  'bridge src/core',
  'JSON.parse / JSON.stringify',
  'TCP connect (a new connection per request)',
  'node crypto (HMAC, SHA-256, random)',
  'URL parsing',
  'node http2 (to Bedrock)',
  'node http/1.1 (from client)',
]);

function pct(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1).padStart(5)}%`;
}

/** Self and inclusive time by bucket, and the top self-time functions, as text. */
export function summarizeProfile(file: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) byId.set(node.id, node);
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    let bucket: string | null = null;
    const leaf = node.callFrame;
    if (leaf.url === '' && /^(parse|stringify)$/.test(leaf.functionName)) {
      // V8 names JSON.parse and the URL parser alike; the caller tells them apart.
      const caller = parent.has(node.id) ? byId.get(parent.get(node.id)!)!.callFrame : undefined;
      bucket = caller?.url === 'node:internal/url' ? 'URL parsing' : 'JSON.parse / JSON.stringify';
    }
    for (let id: number | undefined = node.id; id !== undefined && bucket === null; id = parent.get(id)) {
      bucket = bucketOf(byId.get(id)!.callFrame);
    }
    bucket ??= 'other';
    self.set(bucket, (self.get(bucket) ?? 0) + dt);
    if (bucket === 'idle') continue;
    busy += dt;
    const f = node.callFrame;
    const fname = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|test)\//, '$1/')}:${f.lineNumber + 1}`;
    functions.set(fname, (functions.get(fname) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') continue;
      let name = bucketOf(frame);
      if (id === node.id && leaf.url === '' && /^(parse|stringify)$/.test(leaf.functionName)) name = bucket;
      if (name !== null && INCLUSIVE.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
      }
    }
  }
  const lines: string[] = [];
  lines.push(`sampled ${(total / 1000).toFixed(0)} ms, busy (not idle) ${(busy / 1000).toFixed(0)} ms; percentages of busy time`);
  lines.push('');
  lines.push(`${'bucket (native code counts for its JS caller)'.padEnd(48)}   self  inclusive`);
  const rows = [...self.entries()].filter(([name]) => name !== 'idle').sort((a, b) => b[1] - a[1]);
  for (const [name, time] of rows) {
    const incl = INCLUSIVE.has(name) ? pct(inclusive.get(name) ?? 0, busy) : '     —';
    lines.push(`${name.padEnd(48)} ${pct(time, busy)}  ${incl}`);
  }
  lines.push('');
  lines.push('top functions by self time:');
  for (const [name, time] of [...functions.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    lines.push(`  ${pct(time, busy)}  ${name}`);
  }
  return lines.join('\n');
}

// `node test/bench/support/profile-summary.ts FILE.cpuprofile`
if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node test/bench/support/profile-summary.ts FILE.cpuprofile\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(file)}\n`);
}
