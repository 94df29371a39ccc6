import type { Request } from 'express';
import proxyaddr from 'proxy-addr';
import { canonicalAddress } from '@infra/security';

/** proxy-addr's names for ranges: loopback, link-local, and the private ranges (RFC 1918, fc00::/7). */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * The proxies in front of the edge whose X-Forwarded-For it believes, from FICUS_TRUSTED_PROXIES
 * (comma-separated addresses, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`). Empty by
 * default: the client is the socket's peer, and a forwarded-for header is the client's to forge.
 * A range of every address (`0.0.0.0/0`, `::/0`) is refused: it would let any client name its own
 * address, and so mint a rate-limit counter per request.
 */
export function parseTrustedProxies(value: string | undefined): { proxies: string[] } | { error: string } {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of entries) {
    if (NAMED_RANGES.has(entry)) continue;
    // proxy-addr refuses these too, but saying why helps whoever tried.
    if (/\/0+$/.test(entry)) {
      return { error: `"${entry}" trusts every address: any client could name its own; list the proxies' range` };
    }
    try {
      proxyaddr.compile(entry);
    } catch {
      return { error: `"${entry}" is neither an address, a CIDR range, nor loopback, linklocal or uniquelocal` };
    }
  }
  return { proxies: entries };
}

/** What Express's `trust proxy` is set to: false for none, so X-Forwarded-For is never read. */
export function trustOf(proxies: readonly string[]): false | ((address: string, hop: number) => boolean) {
  return proxies.length === 0 ? false : proxyaddr.compile([...proxies]);
}

/**
 * The address of the client an edge serves: the socket's peer, or, behind trusted proxies, the
 * nearest address in X-Forwarded-For that no trusted proxy holds (Express's `request.ip` under the
 * `trust proxy` set from FICUS_TRUSTED_PROXIES), in one spelling (`canonicalAddress`). Entries
 * further left are the client's own to write and never read.
 */
export function clientAddressOf(request: Request): string | undefined {
  return canonicalAddress(request.ip ?? request.socket.remoteAddress);
}
