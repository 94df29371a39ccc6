import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { checkPublicUrlForLegacy, HttpSettings } from '@apps/http-edge';
import { readConfiguration, runTarget, settingsOfTarget } from '@apps/service';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { ConfigurationError, given, RunModeSettings } from '@infra/config';
import { leaseBroker } from '@infra/deploy/kafka/local-broker';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { pino } from 'pino';

/**
 * Configuration is read in one place (issue 16, item 6): every part declares the variables it
 * reads as a group of settings, the process reads all of them once at start-up and hands each
 * part its typed value. docs/configuration.md says the rules this holds.
 */

const root = resolve(__dirname, '../..');

/** Production code that reads `process.env` on purpose, and why (docs/configuration.md, "Read elsewhere"). */
const READS_THE_ENVIRONMENT: Record<string, string> = {
  'apps/service/src/run-target.ts': "the process's one read, at start-up",
  'apps/service/src/run-process.ts': "the process's own log level, before the read reports on it",
  'infra/host/process-config.ts': "the ficus command's read of the host's group",
  'infra/topology/topology-loader.ts': '${VAR} in a topology file',
  'infra/observability/tracing-setup.ts': "OpenTelemetry's OTEL_* variables, before the application is made",
};
/** Tools, not the running shop: the `ficus` command and the scripts that start brokers and topologies. */
const TOOLS = [/^apps\/cli\//, /^infra\/deploy\//];

function productionSources(): string[] {
  return ['apps', 'modules', 'contracts', 'infra']
    .flatMap((folder) => readdirSync(join(root, folder), { withFileTypes: true, recursive: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((file) => !file.includes('/generated/') && !TOOLS.some((tool) => tool.test(file)));
}

/** The code of a file without its comments, which may name `process.env` to explain. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

const WHOLE_SHOP = { modules: [...BOUNDED_CONTEXTS], edge: true };

describe('configuration', () => {
  it('no production code reads process.env outside the few places that say why', () => {
    const readers = productionSources().filter((file) =>
      /process\.env/.test(code(readFileSync(join(root, file), 'utf8'))),
    );

    expect(readers.filter((file) => !(file in READS_THE_ENVIRONMENT))).toEqual([]);
    // Fails when a listed reader stops reading: then it leaves the list.
    expect(Object.keys(READS_THE_ENVIRONMENT).filter((file) => !readers.includes(file))).toEqual([]);
  });

  it('docs/configuration.md lists every variable of every group', () => {
    const page = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
    const variables = new Set(settingsOfTarget(WHOLE_SHOP).flatMap((group) => group.variables));
    const missing = [...variables].filter(
      (name) => !page.includes(`\`${name}\``) && !/^DATABASE_URL_[A-Z]+$/.test(name),
    );

    expect(missing).toEqual([]);
    expect(page).toContain('`DATABASE_URL_<CONTEXT>`');
  });

  it('reads an empty or blank value as unset, for every variable of every group', () => {
    const differ: string[] = [];
    for (const group of settingsOfTarget(WHOLE_SHOP)) {
      const unset = group.parse({});
      for (const name of group.variables) {
        for (const empty of ['', '  ']) {
          if (!isDeepStrictEqual(group.parse({ [name]: empty }), unset))
            differ.push(`${name}=${JSON.stringify(empty)}`);
        }
      }
    }
    expect(differ).toEqual([]);
  });

  it('a tool that reads a variable itself takes an empty or blank value as unset too (given)', () => {
    expect([given(undefined), given(''), given('  '), given(' 15 '), given('0')]).toEqual([
      undefined,
      undefined,
      undefined,
      ' 15 ',
      '0',
    ]);
  });

  it('a start with bad values reports every one of them, by name and never by value', () => {
    const env = {
      FICUS_SAGA_DEADLINE_MS: 'soon',
      FICUS_RATE_LIMIT: 'maybe',
      FICUS_PUBLIC_URL: 'ftp://shop.example.com',
      FICUS_SMTP_URL: 'https://mailer:hunter2-smtp-secret@mail.example.com',
      FICUS_MAIL_FROM: 'shop@example.com\r\nBcc: everyone@example.com',
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_USERNAME: 'ficus-payments',
      KAFKA_SASL_PASSWORD: 'never-print-this-secret',
      FICUS_KEY_ENCRYPTION_KEYS: 'k1:too-short',
      LOG_LEVEL: 'loud',
      FICUS_DEMO_SEED: 'nope',
    };
    let error: unknown;
    try {
      readConfiguration(WHOLE_SHOP, env);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigurationError);
    const variables = (error as ConfigurationError).issues.map((issue) => issue.variable.split(', ')[0]).sort();
    expect(variables).toEqual([
      'FICUS_DEMO_SEED',
      'FICUS_KEY_ENCRYPTION_KEYS',
      'FICUS_MAIL_FROM',
      'FICUS_PUBLIC_URL',
      'FICUS_RATE_LIMIT',
      'FICUS_SAGA_DEADLINE_MS',
      'FICUS_SMTP_URL',
      'KAFKA_SASL_MECHANISM',
      'LOG_LEVEL',
    ]);
    expect((error as ConfigurationError).message).not.toContain('never-print-this-secret');
    expect((error as ConfigurationError).message).not.toContain('too-short');
    expect((error as ConfigurationError).message).not.toContain('hunter2-smtp-secret');
  });

  it('reads only what the process hosts: a payments service is not stopped by a bad identity value', () => {
    const env = { FICUS_REFRESH_TOKEN_TTL_HOURS: 'forever' };

    expect(() => readConfiguration({ modules: ['payments'], edge: false }, env)).not.toThrow();
    expect(() => readConfiguration({ modules: ['identity'], edge: false }, env)).toThrow(
      /FICUS_REFRESH_TOKEN_TTL_HOURS: must be a number of hours \(identity: tokens\)/,
    );
  });

  it('a switch takes any usual spelling and refuses the rest, rather than reading it as false', () => {
    const seeds = (value: string) =>
      readConfiguration({ modules: ['catalog'], edge: false }, { FICUS_DEMO_SEED: value });

    for (const off of ['false', 'FALSE', ' no ', '0', 'Off']) expect(() => seeds(off)).not.toThrow();
    for (const typo of ['flase', 'disabled', '-1']) expect(() => seeds(typo)).toThrow(/FICUS_DEMO_SEED/);
  });

  it('a comma-separated list reads the same wherever it is read: entries trimmed, the empty ones dropped', async () => {
    const messy = (...entries: string[]) => ` ${entries.join(' , ,')},`;

    // Each failed while it split the list its own way: the broker lease kept the empty entries.
    expect((await leaseBroker({ KAFKA_BROKERS: messy('kafka-0:9092', 'kafka-1:9092') })).brokers).toEqual([
      'kafka-0:9092',
      'kafka-1:9092',
    ]);
    expect(
      loadTopology(shippedTopologyPath('split'), { env: { KAFKA_BROKERS: messy('kafka-0:9092', 'kafka-1:9092') } })
        .kafka.brokers,
    ).toEqual(['kafka-0:9092', 'kafka-1:9092']);
    const http = HttpSettings.read({
      FICUS_LEGACY_URL: 'http://legacy.test',
      FICUS_LEGACY_ROUTES: messy('/old', '/admin'),
      FICUS_CORS_ORIGINS: messy('https://shop.test'),
    });
    expect(http.legacy?.routes).toEqual(['/old', '/admin']);
    expect(http.corsOrigins).toEqual(['https://shop.test']);
  });

  it("an edge in front of a legacy application in production needs the shop's public address", () => {
    // The legacy application is told it as X-Forwarded-Host and -Proto; without it, the client's Host.
    const legacy = { NODE_ENV: 'production', FICUS_LEGACY_URL: 'http://legacy.test' };
    const check = (env: Record<string, string>, edge: boolean) => () =>
      checkPublicUrlForLegacy(readConfiguration({ modules: [], edge }, env), { edge });
    expect(check(legacy, true)).toThrow(/FICUS_PUBLIC_URL: is required with NODE_ENV=production and a legacy upstream/);
    // A service reading the same environment (one env file for every process) is no edge: not refused.
    expect(check(legacy, false)).not.toThrow();
    expect(check({ ...legacy, FICUS_PUBLIC_URL: 'https://shop.test/' }, true)).not.toThrow();
    expect(check({ FICUS_LEGACY_URL: 'http://legacy.test' }, true)).not.toThrow(); // development
    expect(HttpSettings.read({ FICUS_PUBLIC_URL: 'https://shop.test/' }).publicUrl).toBe('https://shop.test');
  });

  it("a topology's legacy upstream in production needs it too, before the process starts anything", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ficus-config-'));
    try {
      // The gateway alone hosts no notifications, which needs FICUS_PUBLIC_URL in production anyway.
      const topology = loadTopology(shippedTopologyPath('split'), { env: {} }).withTarget('gateway', (target) => ({
        ...target,
        legacy: { url: 'http://legacy.test', routes: [] },
      }));
      const started = runTarget({
        topology,
        target: 'gateway',
        log: pino({ level: 'silent' }),
        env: { NODE_ENV: 'production', FICUS_DATA_DIR: dataDir, FICUS_GRPC_PLAINTEXT: 'loopback' },
      });
      await expect(started).rejects.toThrow(ConfigurationError);
      await expect(started).rejects.toThrow(/FICUS_PUBLIC_URL: is required with NODE_ENV=production and a legacy/);
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('NODE_ENV means one thing to every part: another spelling of production is production everywhere', () => {
    const production = { NODE_ENV: ' Production ' };

    // Fails when one part reads it as production and another lets a development key or the fake through.
    expect(() => readConfiguration({ modules: ['identity'], edge: false }, production)).toThrow(
      /FICUS_KEY_ENCRYPTION_KEYS is required with NODE_ENV=production/,
    );
    expect(() =>
      readConfiguration(
        { modules: ['payments'], edge: false },
        { ...production, FICUS_KEY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` },
      ),
    ).toThrow(/fake payment provider does not run with NODE_ENV=production/);
    expect(readConfiguration({ modules: [], edge: true }, production).get(RunModeSettings)).toEqual({
      production: true,
    });
  });

  it('the process stops before it starts anything: no database server, no port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ficus-config-'));
    try {
      const started = runTarget({
        topology: loadTopology(shippedTopologyPath('monolith'), { env: {} }),
        log: pino({ level: 'silent' }),
        env: { FICUS_DATA_DIR: dataDir, FICUS_SAGA_DEADLINE_MS: '-5', FICUS_HTTP_PORT: '0' },
      });

      await expect(started).rejects.toThrow(ConfigurationError);
      await expect(started).rejects.toThrow(/FICUS_SAGA_DEADLINE_MS: must be at least 100 milliseconds/);
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false); // the embedded server was never started
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
