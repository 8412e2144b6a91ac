import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses an outbound fetch made on a client's behalf (an `image_url`) may reach.
 * Everything that is not the public internet is refused unless allow-listed: this machine, the LAN,
 * the carrier's NAT, link-local (cloud metadata services live there), multicast and the IANA
 * special-purpose ranges. IPv6 forms that carry an IPv4 address (mapped, translated, compatible,
 * NAT64, 6to4) are judged by the IPv4 address inside. Pure: no DNS, no sockets.
 */

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'invalid';

type Range = readonly [network: string, prefix: number];

/** Checked in this order: the first class whose ranges hold the address names it. */
const IPV4_RANGES: readonly (readonly [AddressClass, readonly Range[]])[] = [
  ['broadcast', [['255.255.255.255', 32]]],
  // Oracle Cloud's metadata (in 192.0.0.0/24) and Azure's wire server (a public address on every VM).
  ['metadata', [['192.0.0.192', 32], ['168.63.129.16', 32]]],
  ['unspecified', [['0.0.0.0', 8]]],
  ['loopback', [['127.0.0.0', 8]]],
  ['private', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]],
  ['shared', [['100.64.0.0', 10]]],
  // AWS, GCP and Azure metadata (169.254.169.254) and ECS task credentials (169.254.170.2) are in here.
  ['link-local', [['169.254.0.0', 16]]],
  ['multicast', [['224.0.0.0', 4]]],
  [
    'reserved',
    [
      ['192.0.0.0', 24], // IETF protocol assignments
      ['192.0.2.0', 24], // TEST-NET-1
      ['192.88.99.0', 24], // 6to4 relay anycast
      ['198.18.0.0', 15], // benchmarking
      ['198.51.100.0', 24], // TEST-NET-2
      ['203.0.113.0', 24], // TEST-NET-3
      ['240.0.0.0', 4], // future use
    ],
  ],
];

/** Single IPv6 addresses that would otherwise be read as IPv4-compatible forms (`::1` is 0.0.0.1). */
const IPV6_EXACT: readonly (readonly [AddressClass, readonly Range[]])[] = [
  ['unspecified', [['::', 128]]],
  ['loopback', [['::1', 128]]],
  ['metadata', [['fd00:ec2::254', 128]]], // AWS's IMDS over IPv6
];

const IPV6_RANGES: readonly (readonly [AddressClass, readonly Range[]])[] = [
  ['private', [['fc00::', 7], ['64:ff9b:1::', 48]]],
  ['link-local', [['fe80::', 10]]],
  ['multicast', [['ff00::', 8]]],
  [
    'reserved',
    [
      ['::', 96], // IPv4-compatible (deprecated); those holding a non-public IPv4 address are classed by it first
      ['100::', 64], // discard-only
      ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, benchmarking...)
      ['2001:db8::', 32], // documentation
      ['3fff::', 20], // documentation
      ['fec0::', 10], // site-local (deprecated)
    ],
  ],
];

/** `a.b.c.d` as the two hex groups an IPv6 address spells it with. */
function hexGroups(ipv4: string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * The IPv6 prefixes that embed an IPv4 address, and where: `::ffff:0:0/96` (mapped) needs no entry,
 * BlockList applies IPv4 rules to it by itself.
 */
const EMBEDDING_IPV6 = [
  (ipv4: string, prefix: number): Range => [`::ffff:0:${hexGroups(ipv4)}`, 96 + prefix], // SIIT translated
  (ipv4: string, prefix: number): Range => [`::${hexGroups(ipv4)}`, 96 + prefix], // IPv4-compatible
  (ipv4: string, prefix: number): Range => [`64:ff9b::${hexGroups(ipv4)}`, 96 + prefix], // NAT64 well-known prefix
  (ipv4: string, prefix: number): Range => [`2002:${hexGroups(ipv4)}::`, 16 + prefix], // 6to4
];

/** One BlockList per table row, in checking order: exact IPv6, IPv4 (embedded forms included), IPv6 ranges. */
function buildClasses(): (readonly [AddressClass, BlockList])[] {
  const row = (name: AddressClass, ranges: readonly Range[], family: 'ipv4' | 'ipv6') => {
    const list = new BlockList();
    for (const [network, prefix] of ranges) {
      list.addSubnet(network, prefix, family);
      if (family === 'ipv4') {
        for (const embed of EMBEDDING_IPV6) list.addSubnet(...embed(network, prefix), 'ipv6');
      }
    }
    return [name, list] as const;
  };
  return [
    ...IPV6_EXACT.map(([name, ranges]) => row(name, ranges, 'ipv6')),
    ...IPV4_RANGES.map(([name, ranges]) => row(name, ranges, 'ipv4')),
    ...IPV6_RANGES.map(([name, ranges]) => row(name, ranges, 'ipv6')),
  ];
}

const CLASSES = buildClasses();

/** An IP literal without brackets or an IPv6 zone (`fe80::1%eth0`), or null when it is none. */
function bareAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  let bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = bare.indexOf('%');
  if (zone >= 0) bare = bare.slice(0, zone);
  const version = isIP(bare);
  return version === 0 ? null : { address: bare, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** What kind of destination an IP address is; 'invalid' for anything that is not an IP literal. */
export function classifyAddress(address: string): AddressClass {
  const parsed = bareAddress(address);
  if (!parsed) return 'invalid';
  for (const [name, list] of CLASSES) {
    if (list.check(parsed.address, parsed.family)) return name;
  }
  return 'public';
}

/** One `imageFetch.allowHosts` entry: a host name or IP (each with an optional port), or a CIDR range. */
type AllowEntry =
  | { kind: 'name'; name: string; port: number | null }
  | { kind: 'address'; list: BlockList; port: number | null };

/** Host names compare without case and without a trailing dot. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** Parses an allow-list entry; null when it is not one (the settings schema reports it). */
export function parseAllowEntry(entry: string): AllowEntry | null {
  const text = entry.trim();
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const network = bareAddress(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    if (!network || !/^\d{1,3}$/.test(prefixText)) return null;
    const prefix = Number(prefixText);
    if (prefix > (network.family === 'ipv4' ? 32 : 128)) return null;
    const list = new BlockList();
    list.addSubnet(network.address, prefix, network.family);
    return { kind: 'address', list, port: null };
  }
  // `[v6]:port`, `v4:port` or `name:port`; a bare IPv6 address has more than one colon and no port.
  let host = text;
  let port: number | null = null;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) {
      port = parsePort(bracketed[2]);
      if (port === null) return null;
    }
  } else if (text.indexOf(':') === text.lastIndexOf(':') && text.includes(':')) {
    host = text.slice(0, text.indexOf(':'));
    port = parsePort(text.slice(text.indexOf(':') + 1));
    if (port === null) return null;
  }
  const address = bareAddress(host);
  if (address) {
    const list = new BlockList();
    list.addAddress(address.address, address.family);
    return { kind: 'address', list, port };
  }
  if (bracketed || !HOST_NAME.test(host)) return null;
  return { kind: 'name', name: normalizeName(host), port };
}

/** Where a connection is about to go: the URL's host name and port, and the address it resolved to. */
export interface Destination {
  /** The URL's host (an IP literal when the URL names one), brackets allowed. */
  host: string;
  port: number;
  /** The resolved IP address the socket will connect to. */
  address: string;
}

/**
 * Decides destinations: public addresses always pass; any other only when an allow-list entry names
 * the URL's host (and port, if the entry has one) or holds the resolved address.
 */
export class AddressPolicy {
  readonly #entries: AllowEntry[];

  /** Throws on an entry that parseAllowEntry refuses (the settings schema catches those first). */
  constructor(allowHosts: readonly string[] = []) {
    this.#entries = allowHosts.map((entry) => {
      const parsed = parseAllowEntry(entry);
      if (!parsed) throw new Error(`Not a host, IP address or CIDR range: "${entry}"`);
      return parsed;
    });
  }

  allows(destination: Destination): boolean {
    const parsed = bareAddress(destination.address);
    if (!parsed) return false;
    if (classifyAddress(parsed.address) === 'public') return true;
    const name = normalizeName(destination.host.replace(/^\[(.*)\]$/, '$1'));
    return this.#entries.some((entry) => {
      if (entry.port !== null && entry.port !== destination.port) return false;
      return entry.kind === 'name' ? entry.name === name : entry.list.check(parsed.address, parsed.family);
    });
  }
}
