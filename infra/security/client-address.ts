import ipaddr from 'ipaddr.js';

/**
 * How many leading bits of an IPv6 address are taken as one client. A single subscriber is given
 * a /64 at least, usually a /56 or a /48 (RFC 6177), and picks any address in it at will: counted
 * address by address, one client would hold 2^64 counters. express-rate-limit counts by /56 too.
 */
export const IPV6_CLIENT_PREFIX = 56;

/**
 * An address in one spelling: an IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, what a dual-stack
 * socket reports) as the IPv4 address it is, and every other form as ipaddr.js prints it. Not an
 * address at all (a proxy passing a header on untouched): undefined.
 */
export function canonicalAddress(address: string | undefined): string | undefined {
  if (!address || !ipaddr.isValid(address)) return undefined;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  // A zone (`fe80::1%eth0`) names the edge's own interface, not something of the client's.
  return new ipaddr.IPv6((parsed as ipaddr.IPv6).parts).toString();
}

/**
 * The one counter a client address counts against, wherever ficus counts clients (the edge's rate
 * limits, identity's login throttle): an IPv4 address alone, an IPv6 address by its /56 network,
 * and anything that is no address (or none) as `unknown`, one counter for all of them, so that no
 * spelling of an address and no address of a client's own network buys a counter of its own.
 */
export function addressCounterOf(address: string | undefined): string {
  const canonical = canonicalAddress(address);
  if (!canonical) return 'unknown';
  if (!canonical.includes(':')) return canonical;
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${canonical}/${IPV6_CLIENT_PREFIX}`);
  return `${network.toString()}/${IPV6_CLIENT_PREFIX}`;
}
