import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AddressPolicy, classifyAddress, parseAllowEntry, type AddressClass } from '../../src/core/address-policy.ts';
import { parseSettings } from '../../src/core/settings.ts';
import { isIP } from 'node:net';

// Pure classification: no address here is ever connected to.
const TABLE: readonly (readonly [string, AddressClass])[] = [
  // 0.0.0.0/8
  ['0.0.0.0', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  ['1.0.0.0', 'public'],
  // 10/8
  ['9.255.255.255', 'public'],
  ['10.0.0.0', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', 'public'],
  // 100.64/10
  ['100.63.255.255', 'public'],
  ['100.64.0.0', 'shared'],
  ['100.100.100.200', 'shared'], // Alibaba Cloud metadata
  ['100.127.255.255', 'shared'],
  ['100.128.0.0', 'public'],
  // 127/8
  ['126.255.255.255', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.255', 'loopback'],
  ['128.0.0.0', 'public'],
  // 169.254/16
  ['169.253.255.255', 'public'],
  ['169.254.0.0', 'link-local'],
  ['169.254.169.254', 'link-local'],
  ['169.254.170.2', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['169.255.0.0', 'public'],
  // 172.16/12
  ['172.15.255.255', 'public'],
  ['172.16.0.0', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  // 192.0.0/24, 192.0.2/24, 192.88.99/24
  ['191.255.255.255', 'public'],
  ['192.0.0.0', 'reserved'],
  ['192.0.0.192', 'metadata'],
  ['192.0.0.255', 'reserved'],
  ['192.0.1.0', 'public'],
  ['192.0.2.0', 'reserved'],
  ['192.0.2.255', 'reserved'],
  ['192.0.3.0', 'public'],
  ['192.88.99.1', 'reserved'],
  // 192.168/16
  ['192.167.255.255', 'public'],
  ['192.168.0.0', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', 'public'],
  // 198.18/15, 198.51.100/24, 203.0.113/24
  ['198.17.255.255', 'public'],
  ['198.18.0.0', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['198.20.0.0', 'public'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  // 224/4, 240/4, broadcast
  ['223.255.255.255', 'public'],
  ['224.0.0.0', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // Azure's wire server, a public address
  ['168.63.129.16', 'metadata'],
  ['168.63.129.17', 'public'],
  ['8.8.8.8', 'public'],
  // IPv6 basics
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['2606:4700:4700::1111', 'public'],
  // IPv4-mapped, SIIT-translated and IPv4-compatible forms judge the IPv4 inside
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:255.255.255.255', 'broadcast'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:192.168.1.1', 'private'],
  ['::127.0.0.1', 'loopback'],
  ['::a9fe:a9fe', 'link-local'],
  ['::8.8.8.8', 'reserved'],
  // NAT64 (well-known prefix carries the IPv4; the local-use prefix is private)
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::a9fe:a9fe', 'link-local'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::8.8.8.8', 'public'],
  ['64:ff9b:1::1', 'private'],
  // 6to4
  ['2002:7f00:1::1', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:a9fe:a9fe::', 'link-local'],
  ['2002:808:808::1', 'public'],
  // fc00::/7 (AWS's IMDS address named)
  ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'public'],
  ['fc00::', 'private'],
  ['fd00:ec2::254', 'metadata'],
  ['fd00:ec2::253', 'private'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
  ['fe00::', 'public'],
  // fe80::/10, fec0::/10, ff00::/8
  ['fe80::', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
  ['fec0::1', 'reserved'],
  ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['ff02::1', 'multicast'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
  // Other special-purpose IPv6
  ['100::1', 'reserved'],
  ['2001::1', 'reserved'],
  ['2001:1ff:ffff::', 'reserved'],
  ['2001:200::1', 'public'],
  ['2001:db8::1', 'reserved'],
  ['3fff::1', 'reserved'],
  // Not IP literals
  ['localhost', 'invalid'],
  ['1.2.3', 'invalid'],
  ['', 'invalid'],
];

describe('address classifier', () => {
  for (const [address, expected] of TABLE) {
    it(`${address || '(empty)'} is ${expected}`, () => {
      assert.equal(classifyAddress(address), expected);
    });
  }
});

describe('address classifier, as properties', () => {
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
  it('judges every IPv6 form that carries an IPv4 address by that address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const expected = classifyAddress(v4);
        const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
        assert.equal(classifyAddress(`::ffff:${v4}`), expected, 'mapped');
        assert.equal(classifyAddress(`::ffff:${hex(a, b)}:${hex(c, d)}`), expected, 'mapped, hex');
        assert.equal(classifyAddress(`::ffff:0:${v4}`), expected, 'SIIT');
        assert.equal(classifyAddress(`64:ff9b::${v4}`), expected, 'NAT64');
        assert.equal(classifyAddress(`2002:${hex(a, b)}:${hex(c, d)}::1`), expected, '6to4');
        // IPv4-compatible is deprecated: public ones are reserved, the rest keep their class.
        if (v4 !== '0.0.0.0' && v4 !== '0.0.0.1') assert.equal(classifyAddress(`::${v4}`), expected === 'public' ? 'reserved' : expected, 'compatible');
      }),
      { seed: 0x5eed, numRuns: 2_000 },
    );
  });

  it('classifies every address without throwing, and only IP literals', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 40 })), (text) => {
        const found = classifyAddress(text);
        assert.equal(found === 'invalid', isIP(text) === 0, text);
      }),
      { seed: 0x5eed, numRuns: 2_000 },
    );
  });
});

describe('allow-list', () => {
  it('parses names, addresses and ranges, each with an optional port', () => {
    for (const entry of ['images.corp.example', 'images.corp.example:8080', 'intranet', '10.1.2.3', '10.1.2.3:443', '10.0.0.0/8', 'fd00::/8', '::1', '[::1]', '[fd00::1]:8443', 'Images.Corp.Example.']) {
      assert.notEqual(parseAllowEntry(entry), null, entry);
    }
    for (const entry of ['', '*', 'http://images.corp.example', 'images.corp.example:0', 'images.corp.example:99999', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/x', '[images]:80', 'a b', 'host:80:90']) {
      assert.equal(parseAllowEntry(entry), null, entry);
    }
    assert.throws(() => new AddressPolicy(['not a host']), /not a host/);
    assert.deepEqual(parseSettings({ imageFetch: { allowHosts: ['images.corp.example', '10.0.0.0/8'] } }).imageFetch.allowHosts, ['images.corp.example', '10.0.0.0/8']);
    assert.deepEqual(parseSettings({}).imageFetch.allowHosts, []);
    assert.throws(() => parseSettings({ imageFetch: { allowHosts: ['http://images.corp.example/'] } }), /imageFetch\.allowHosts\.0: expected a host name/);
  });

  it('lets public addresses through and the rest only when listed', () => {
    const none = new AddressPolicy();
    assert.equal(none.allows({ host: 'cdn.example', port: 443, address: '8.8.8.8' }), true);
    assert.equal(none.allows({ host: 'cdn.example', port: 443, address: '127.0.0.1' }), false);
    assert.equal(none.allows({ host: 'cdn.example', port: 443, address: 'not an address' }), false);

    const policy = new AddressPolicy(['127.0.0.1:8080', 'images.corp.example', '10.20.0.0/16', 'fd00::/8']);
    assert.equal(policy.allows({ host: '127.0.0.1', port: 8080, address: '127.0.0.1' }), true);
    assert.equal(policy.allows({ host: 'localhost', port: 8080, address: '::ffff:127.0.0.1' }), true, 'an IPv4 entry holds its mapped form');
    assert.equal(policy.allows({ host: '127.0.0.1', port: 8081, address: '127.0.0.1' }), false, 'another port');
    assert.equal(policy.allows({ host: '127.0.0.2', port: 8080, address: '127.0.0.2' }), false);
    assert.equal(policy.allows({ host: 'IMAGES.corp.example.', port: 80, address: '10.9.9.9' }), true, 'a listed name, whatever it resolves to');
    assert.equal(policy.allows({ host: 'other.corp.example', port: 80, address: '10.9.9.9' }), false);
    assert.equal(policy.allows({ host: 'wiki.corp.example', port: 80, address: '10.20.3.4' }), true, 'inside a listed range');
    assert.equal(policy.allows({ host: 'wiki.corp.example', port: 80, address: '10.21.0.1' }), false);
    assert.equal(policy.allows({ host: '[fd12::1]', port: 80, address: 'fd12::1' }), true);
    assert.equal(policy.allows({ host: 'x', port: 80, address: '169.254.169.254' }), false);
  });
});
