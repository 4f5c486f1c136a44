import { BlockList, isIP } from 'node:net';
import type { TrustedProxies } from '../config/variables.js';

/**
 * The address an anonymous caller is keyed by (its rate limit). Behind a load balancer every
 * connection comes from the balancer, so the client is named in `X-Forwarded-For`, which each
 * proxy appends the address it saw to. Anyone can send that header, so it is read only as far as
 * trusted proxies wrote it:
 * - a hop count N: the address N entries from the right (the connection's peer counting as hop 0);
 * - a list of addresses and ranges: walking right to left from the peer, the first address that is
 *   not a trusted proxy. A peer that is not trusted is the client, whatever the header says.
 * Without a setting the header is ignored.
 */
export type ClientAddress = (peer: string | undefined, forwardedFor: string | null) => string | undefined;

/** `::ffff:10.0.0.1` is `10.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function hopsOf(forwardedFor: string | null): string[] {
  if (!forwardedFor) return [];
  return forwardedFor
    .split(',')
    .map((entry) => entry.trim())
    .reverse();
}

export function clientAddress(trusted: TrustedProxies | undefined): ClientAddress {
  if (!trusted) return (peer) => peer;
  if ('hops' in trusted) {
    return (peer, forwardedFor) => {
      // Nearest first: the peer, then what each proxy appended, right to left.
      const chain = [peer, ...hopsOf(forwardedFor)];
      for (let hop = 1; hop <= trusted.hops; hop += 1) {
        const next = chain[hop];
        // Fewer hops than configured, or a garbled entry: the farthest address known to be real.
        if (next === undefined || isIP(next) === 0) return chain[hop - 1];
      }
      return chain[trusted.hops];
    };
  }
  const proxies = new BlockList();
  for (const range of trusted.ranges) proxies.addSubnet(range.address, range.prefix, range.family);
  const isProxy = (address: string) => {
    const version = isIP(address);
    return version !== 0 && proxies.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
  return (peer, forwardedFor) => {
    if (peer === undefined || !isProxy(plain(peer))) return peer;
    let client = peer;
    for (const hop of hopsOf(forwardedFor)) {
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!isProxy(plain(hop))) return hop;
    }
    return client;
  };
}
