import { HttpSettings } from '@apps/http-edge';
import { addressCounterOf, canonicalAddress } from '@infra/security';

const trustedProxies = (value: string | undefined) =>
  HttpSettings.read({ FICUS_TRUSTED_PROXIES: value }).trustedProxies;

/**
 * One client, one counter: the address a rate limit or the login throttle counts is the same
 * whatever spelling it arrives in, and an IPv6 client, which may use any address of its own
 * network, counts once for the whole /56.
 */
describe('the counter a client address counts against', () => {
  it('is an IPv4 address itself, in any spelling the socket or a proxy gives it', () => {
    expect(addressCounterOf('203.0.113.9')).toBe('203.0.113.9');
    expect(addressCounterOf('::ffff:203.0.113.9')).toBe('203.0.113.9'); // a dual-stack socket's view
    expect(addressCounterOf('::FFFF:cb00:7109')).toBe('203.0.113.9');
    expect(addressCounterOf('203.0.113.10')).not.toBe(addressCounterOf('203.0.113.9'));
  });

  it("is an IPv6 client's /56, so stepping through its own network buys no counter", () => {
    const counter = addressCounterOf('2001:db8:1:2::1');
    expect(counter).toBe('2001:db8:1::/56');
    for (const other of ['2001:db8:1:2::2', '2001:db8:1:ff:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:1']) {
      expect(addressCounterOf(other)).toBe(counter);
    }
    expect(addressCounterOf('2001:db8:1:100::1')).toBe('2001:db8:1:100::/56'); // the next /56: someone else
    expect(addressCounterOf('fe80::1%eth0')).toBe(addressCounterOf('fe80::1')); // a zone is the edge's interface
  });

  it('is one shared `unknown` for whatever is no address, so nonsense cannot mint counters either', () => {
    for (const nonsense of [undefined, '', 'unknown', 'abc', '203.0.113.9, 198.51.100.1', '999.1.1.1', '::g']) {
      expect(addressCounterOf(nonsense)).toBe('unknown');
    }
    expect(canonicalAddress('0x7f.1')).toBe('127.0.0.1'); // the inet_aton forms are the same address
  });
});

describe('FICUS_TRUSTED_PROXIES', () => {
  it('is empty by default: no X-Forwarded-For is believed', () => {
    expect(trustedProxies(undefined)).toEqual([]);
    expect(trustedProxies(' ')).toEqual([]);
  });

  it('takes addresses, CIDR ranges and the named ranges, comma-separated', () => {
    expect(trustedProxies('10.0.0.0/8, 2001:db8::/32,loopback, 192.0.2.7 , uniquelocal,linklocal')).toEqual([
      '10.0.0.0/8',
      '2001:db8::/32',
      'loopback',
      '192.0.2.7',
      'uniquelocal',
      'linklocal',
    ]);
  });

  it.each(['nonsense', '10.0.0.0/33', 'http://10.0.0.1', '10.0.0.0/8;rm', 'Loopback', '0.0.0.0/0.0.0.0'])(
    'refuses %s, naming the variable',
    (entry) => {
      expect(() => trustedProxies(entry)).toThrow(/FICUS_TRUSTED_PROXIES/);
    },
  );

  it.each(['0.0.0.0/1, 128.0.0.0/1', '::ffff:0:0/96', '2000::/3', 'loopback, ::/1, 8000::/1'])(
    'refuses a list that trusts every address of a family (%s), however it is spelt',
    (list) => {
      expect(() => trustedProxies(list)).toThrow(/trusts every IPv[46] address/);
    },
  );

  it.each(['0.0.0.0/0', '::/0', '10.0.0.0/8, 0.0.0.0/0', '::/00'])(
    'refuses a range of every address (%s): any client could name its own',
    (entry) => {
      expect(() => trustedProxies(entry)).toThrow(/trusts every address/);
    },
  );
});
