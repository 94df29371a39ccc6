import fc from 'fast-check';
import {
  bucketOf,
  defineFlag,
  FLAG_OFF,
  FLAG_ON,
  FlagDeclarations,
  formatFlagState,
  holdsFor,
  parseFlagState,
  percentState,
  SnapshotFlags,
} from '@infra/flags';

const flagName = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}\.[a-z0-9][a-z0-9-]{0,12}$/);
const subject = fc.string({ minLength: 1, maxLength: 40 });
const percent = fc.integer({ min: 0, max: 100 });

describe('bucketing', () => {
  it('puts a subject in one bucket from 0 to 99, the same every time', () => {
    fc.assert(
      fc.property(flagName, subject, (name, who) => {
        const bucket = bucketOf(name, who);
        expect(Number.isInteger(bucket) && bucket >= 0 && bucket < 100).toBe(true);
        expect(bucketOf(name, who)).toBe(bucket);
      }),
    );
  });

  it('is fixed across versions: a known subject keeps its known bucket (changing the hash would reshuffle every rollout)', () => {
    expect([
      bucketOf('route.inventory', 'order-1'),
      bucketOf('route.inventory', 'order-2'),
      bucketOf('shipping.express-eta', 'order-1'),
    ]).toEqual([KNOWN.route1, KNOWN.route2, KNOWN.eta1]);
  });

  it('only adds subjects when the percentage rises, and only removes them when it falls', () => {
    fc.assert(
      fc.property(flagName, subject, percent, percent, (name, who, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (holdsFor(percentState(low), name, who)) {
          expect(holdsFor(percentState(high), name, who)).toBe(true);
        }
        if (!holdsFor(percentState(high), name, who)) {
          expect(holdsFor(percentState(low), name, who)).toBe(false);
        }
      }),
    );
  });

  it('holds for about the share asked: percent 30 of 10 000 subjects is 30 % ± 1.5', () => {
    const subjects = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);
    for (const [name, share] of [
      ['notifications.new-confirmation-email', 30],
      ['route.inventory', 10],
      ['route.payments', 75],
    ] as const) {
      const on = subjects.filter((who) => holdsFor(percentState(share), name, who)).length;
      expect(on / subjects.length).toBeGreaterThan(share / 100 - 0.015);
      expect(on / subjects.length).toBeLessThan(share / 100 + 0.015);
    }
  });

  it('picks different subjects for different flags at the same percentage', () => {
    const subjects = Array.from({ length: 2_000 }, (_, i) => `customer-${i}`);
    const a = new Set(subjects.filter((who) => holdsFor(percentState(10), 'route.inventory', who)));
    const both = subjects.filter((who) => a.has(who) && holdsFor(percentState(10), 'route.payments', who));
    // Independent 10 % picks overlap in about 1 % of subjects, not in all 10 %.
    expect(both.length).toBeLessThan(a.size / 3);
  });

  it('on and off ignore the subject; 0 and 100 are off and on; a percentage without a subject holds only at 100', () => {
    fc.assert(
      fc.property(flagName, fc.option(subject, { nil: undefined }), (name, who) => {
        expect(holdsFor(FLAG_ON, name, who)).toBe(true);
        expect(holdsFor(FLAG_OFF, name, who)).toBe(false);
        expect(holdsFor(percentState(0), name, who)).toBe(false);
        expect(holdsFor(percentState(100), name, who)).toBe(true);
      }),
    );
    expect(holdsFor(percentState(99), 'route.inventory')).toBe(false);
  });
});

describe('flag states', () => {
  it.each([
    ['on', 'on'],
    ['OFF', 'off'],
    ['30', 'percent 30'],
    ['30%', 'percent 30'],
    ['percent 30', 'percent 30'],
    ['percent=0', 'percent 0'],
    ['100', 'percent 100'],
  ])('reads %s as %s, and reads its own output back', (text, shown) => {
    expect(formatFlagState(parseFlagState(text))).toBe(shown);
    expect(formatFlagState(parseFlagState(shown))).toBe(shown);
  });

  it.each(['101', '-1', '3.5', 'maybe', ''])('refuses %j, saying what it takes', (text) => {
    expect(() => parseFlagState(text)).toThrow(/on, off, or a percentage from 0 to 100|whole number from 0 to 100/);
  });

  it('refuses bad flag names and flags without a description', () => {
    expect(() => defineFlag({ name: 'NoDots', default: 'off', description: 'x' })).toThrow(/no flag name/);
    expect(() => defineFlag({ name: 'a.b', default: 'off', description: ' ' })).toThrow(/needs a description/);
  });
});

describe('reading a flag nobody set', () => {
  const declared = defineFlag({ name: 'shop.declared-on', default: 'on', description: 'declared on' });

  it('gives the declared default, by name or by definition; an undeclared name is off', () => {
    const declarations = new FlagDeclarations();
    declarations.add([declared]);
    const flags = new SnapshotFlags(declarations);
    expect(flags.state('shop.declared-on')).toEqual(FLAG_ON);
    expect(flags.isOn('shop.declared-on', 'anyone')).toBe(true);
    expect(flags.isOn(defineFlag({ name: 'shop.elsewhere', default: 40, description: 'not registered' }), 'x')).toBe(
      holdsFor(percentState(40), 'shop.elsewhere', 'x'),
    );
    expect(flags.state('shop.never-declared')).toEqual(FLAG_OFF);
  });

  it('refuses one name declared with two defaults', () => {
    const declarations = new FlagDeclarations();
    declarations.add([declared]);
    expect(() =>
      declarations.add([defineFlag({ name: 'shop.declared-on', default: 'off', description: 'other' })]),
    ).toThrow(/declared twice/);
  });
});

/** Buckets computed once with SHA-256 as specified; a change here means every rollout reshuffles. */
const KNOWN = { route1: 76, route2: 81, eta1: 91 };
