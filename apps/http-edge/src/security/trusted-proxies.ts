import type { Request } from 'express';
import proxyaddr from 'proxy-addr';
import { canonicalAddress } from '@infra/security';

/** proxy-addr's names for ranges: loopback, link-local, and the private ranges (RFC 1918, fc00::/7). */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Addresses spread over the public ranges of both families: a list that trusts all of one
 * family's trusts every client of it (`0.0.0.0/1` with `128.0.0.0/1`, `::ffff:0:0/96`).
 */
const SPREAD: Readonly<Record<string, readonly string[]>> = {
  IPv4: ['1.0.0.1', '45.0.0.1', '89.0.0.1', '128.0.0.1', '172.217.0.1', '203.0.113.9', '223.255.255.254'],
  IPv6: ['2001:4860::1', '2400::1', '2a00::1', '2c0f::1', '3fff:ffff::1'],
};

/**
 * The proxies in front of the edge whose X-Forwarded-For it believes, from FICUS_TRUSTED_PROXIES
 * (comma-separated addresses, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`). Empty by
 * default: the client is the socket's peer, and a forwarded-for header is the client's to forge.
 * A list that trusts every address of a family (`0.0.0.0/0`, `::ffff:0:0/96`, two halves) is
 * refused: it would let any client name its own address, and so mint a counter per request.
 */
export function parseTrustedProxies(entries: readonly string[]): string[] | { error: string } {
  for (const entry of entries) {
    if (NAMED_RANGES.has(entry)) continue;
    // proxy-addr refuses these too, but saying why helps whoever tried.
    if (/\/0+$/.test(entry)) return { error: everyAddress(entry) };
    try {
      proxyaddr.compile(entry);
    } catch {
      return { error: `"${entry}" is neither an address, a CIDR range, nor loopback, linklocal or uniquelocal` };
    }
  }
  const trusts = entries.length > 0 ? proxyaddr.compile([...entries]) : undefined;
  for (const [family, spread] of Object.entries(SPREAD)) {
    if (trusts && spread.every((address) => trusts(address, 0)))
      return { error: everyAddress(entries.join(', '), family) };
  }
  return [...entries];
}

function everyAddress(list: string, family = 'every'): string {
  const which = family === 'every' ? 'every address' : `every ${family} address`;
  return `"${list}" trusts ${which}: any client could name its own; list the proxies' range`;
}

type Trust = (address: string, hop: number) => boolean;

/**
 * Where an edge keeps its compiled list: not Express's `trust proxy`, which would also make
 * `request.protocol` and `request.hostname` read X-Forwarded-Proto and -Host, headers a client
 * writes too when the proxy appends to them (and GraphQL Yoga builds its request URL from them).
 */
const TRUSTED_PROXIES_SETTING = 'ficus trusted proxies';

/** Sets the edge's trusted proxies (`setUpHttpEdge`); none: the socket's peer is the client. */
export function trustProxies(app: { set(name: string, value: unknown): unknown }, proxies: readonly string[]): void {
  app.set(TRUSTED_PROXIES_SETTING, proxies.length === 0 ? undefined : proxyaddr.compile([...proxies]));
}

function trustOf(request: Request): Trust | undefined {
  return request.app?.get(TRUSTED_PROXIES_SETTING) as Trust | undefined;
}

/**
 * The address of the client an edge serves: the socket's peer, or, behind trusted proxies, the
 * nearest address in X-Forwarded-For that no trusted proxy holds, in one spelling
 * (`canonicalAddress`). Entries further left are the client's own to write and never read.
 */
export function clientAddressOf(request: Request): string | undefined {
  const trust = trustOf(request);
  return canonicalAddress(trust ? proxyaddr(request, trust) : request.socket.remoteAddress);
}

/**
 * The addresses the trusted proxies vouch for, the client's first and the nearest proxy's last
 * (what X-Forwarded-For says, without what a client wrote further left; the socket's peer not
 * included): empty when no proxy is trusted.
 */
export function vouchedAddressesOf(request: Request): string[] {
  const trust = trustOf(request);
  return trust ? proxyaddr.all(request, trust).slice(1).reverse() : [];
}
