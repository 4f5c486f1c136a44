import { BlockList, isIP } from 'node:net';
import type { TrustedProxies } from '../config/variables.js';

/**
 * The address an anonymous caller is keyed by (its rate limit). Behind a load balancer every
 * connection comes from the balancer, so the client is named in `X-Forwarded-For`, which each
 * proxy appends the address it saw to. Anyone can send that header, so it is read only as far as
 * trusted proxies wrote it:
 * - a hop count N with the proxies' ranges: from a peer in the ranges, the address N entries from
 *   the right (the connection's peer counting as hop 0); from any other peer, the peer;
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
  const proxies = new BlockList();
  for (const range of trusted.ranges) proxies.addSubnet(range.address, range.prefix, range.family);
  const isProxy = (address: string) => {
    const version = isIP(address);
    return version !== 0 && proxies.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
  if ('hops' in trusted) {
    return (peer, forwardedFor) => {
      // A peer that is not one of the proxies is the client, whatever the header says.
      if (peer === undefined || !isProxy(plain(peer))) return peer;
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

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%')[0] as string; // a zone id names an interface, not a host
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) as its two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * What an anonymous caller's limits are keyed by: its IPv4 address, or the /64 network of its IPv6
 * address. One host on IPv6 is given a whole /64 (and can pick any address in it), so per-address
 * keys would hand it 2^64 fresh limits.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return 'ip:unknown';
  const unmapped = plain(address);
  const groups = ipv6Groups(unmapped);
  if (!groups) return `ip:${unmapped}`;
  return `ip:${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
