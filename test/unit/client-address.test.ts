import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/auth/client-address.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

/** Which address an anonymous caller is limited by, behind load balancers that are, or are not, trusted. */
const trusted = (value: string) => loadConfig({ TRUSTED_PROXIES: value }).auth.trustedProxies;

describe('the client address of an anonymous caller', () => {
  it('is the connection’s peer, whatever X-Forwarded-For says, when no proxy is trusted', () => {
    const address = clientAddress(trusted(''));
    expect(address('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
  });

  it('is the entry as many hops from the right as proxies are trusted', () => {
    const one = clientAddress(trusted('1'));
    expect(one('10.0.0.2', '198.51.100.1, 192.0.2.7')).toBe('192.0.2.7');
    expect(one('10.0.0.2', null)).toBe('10.0.0.2');
    const two = clientAddress(trusted('2'));
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
    for (const value of ['0', '17', '10.0.0.0/33', 'example.com', '10.0.0.1/8/2', '1.2.3.4,']) {
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(
        new ConfigError(
          `TRUSTED_PROXIES: expected a hop count from 1 to 16, or a comma-separated list of IP addresses and CIDR ranges, got ${JSON.stringify(value)}`,
        ),
      );
    }
  });
});
