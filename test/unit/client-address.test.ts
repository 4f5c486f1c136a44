import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress } from '../../src/auth/client-address.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

/** Which address an anonymous caller is limited by, behind load balancers that are, or are not, trusted. */
const trusted = (value: string) => loadConfig({ TRUSTED_PROXIES: value }).auth.trustedProxies;

describe('the client address of an anonymous caller', () => {
  it('is the connection’s peer, whatever X-Forwarded-For says, when no proxy is trusted', () => {
    const address = clientAddress(trusted(''));
    expect(address('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
  });

  it('is the entry as many hops from the right as proxies are trusted, from a peer in their ranges', () => {
    const one = clientAddress(trusted('1@10.0.0.0/8'));
    expect(one('10.0.0.2', '198.51.100.1, 192.0.2.7')).toBe('192.0.2.7');
    expect(one('10.0.0.2', null)).toBe('10.0.0.2');
    // A direct client (not a proxy) cannot pick its own address with the header.
    expect(one('203.0.113.9', '192.0.2.7')).toBe('203.0.113.9');
    expect(one('::ffff:203.0.113.9', '192.0.2.7')).toBe('::ffff:203.0.113.9');
    const two = clientAddress(trusted('2@10.0.0.0/8'));
    // The caller wrote the leftmost entry itself: two hops in, it is never reached.
    expect(two('10.0.0.2', 'spoofed, 192.0.2.7, 10.0.0.9')).toBe('192.0.2.7');
    // A garbled hop stops the walk at the last real address.
    expect(two('10.0.0.2', '192.0.2.7, not-an-ip')).toBe('10.0.0.2');
  });

  it('walks past trusted addresses and ranges only, from a trusted peer only', () => {
    const address = clientAddress(trusted('10.0.0.0/8, 192.168.1.5, fd00::/8'));
    expect(address('10.1.2.3', '198.51.100.1, 192.0.2.7, 192.168.1.5')).toBe('192.0.2.7');
    expect(address('::ffff:10.1.2.3', '192.0.2.7')).toBe('192.0.2.7');
    expect(address('fd00::1', '2001:db8::7')).toBe('2001:db8::7');
    // Not from a trusted proxy: the header is the caller's own and ignored.
    expect(address('203.0.113.9', '192.0.2.7')).toBe('203.0.113.9');
    // Every hop trusted: the farthest one.
    expect(address('10.1.2.3', '10.9.9.9')).toBe('10.9.9.9');
  });

  it('refuses a setting that is neither a hop count nor addresses', () => {
    for (const value of [
      '0',
      '1',
      '17',
      '17@10.0.0.0/8',
      '1@',
      '1@nowhere',
      '10.0.0.0/33',
      'example.com',
      '10.0.0.1/8/2',
      '1.2.3.4,',
    ]) {
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(
        new ConfigError(
          `TRUSTED_PROXIES: expected a comma-separated list of IP addresses and CIDR ranges, or a hop count from 1 to 16 with the ranges it is taken from (2@10.0.0.0/8), got ${JSON.stringify(value)}`,
        ),
      );
    }
  });
});

describe('what an anonymous caller is limited as', () => {
  it('is its IPv4 address, or the /64 network of its IPv6 address', () => {
    expect(addressKey('203.0.113.9')).toBe('ip:203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('ip:203.0.113.9');
    expect(addressKey(undefined)).toBe('ip:unknown');
    const network = 'ip:2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:a:b:c:d',
    ])
      expect(addressKey(address)).toBe(network);
    expect(addressKey('2001:db8:1:3::1')).toBe('ip:2001:db8:1:3::/64');
    expect(addressKey('::1')).toBe('ip:0:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('ip:64:ff9b:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('ip:fe80:0:0:0::/64');
  });
});
