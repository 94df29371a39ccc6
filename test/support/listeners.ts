import { readFileSync } from 'node:fs';

/** Local addresses listening on `port` (Linux's /proc/net/tcp and tcp6), as `a.b.c.d` or `::…`. */
export function listenersOn(port: number): string[] {
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: LISTEN
      const [hex, portHex] = local.split(':');
      if (parseInt(portHex, 16) !== port) continue;
      addresses.push(
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .map((byte) => parseInt(byte, 16))
              .reverse()
              .join('.')
          : hex === '0'.repeat(32)
            ? '::'
            : `ipv6:${hex}`,
      );
    }
  }
  return addresses;
}
