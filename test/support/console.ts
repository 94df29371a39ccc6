import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDatabase, type DatabaseConfig } from '@infra/persistence';
import { loadTopology } from '@infra/topology';
import { ficus } from '../flags/flags-cli';
import { ALL_CONTEXTS, flowList } from './contexts';
import { ServiceProcesses } from './service-processes';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, CustomerRegistered } from '@contracts/identity';
import type { Envelope } from '@contracts/kernel';
import { OrderConfirmed } from '@contracts/ordering';
import type { Topology } from '@infra/topology';
import { placedGraphOf } from '../../apps/cli/src/commands/console.command';
import { startConsole, type RunningConsole } from '../../apps/cli/src/console/console-server';
import { ShopClient } from './http-client';
import { monolithOnFreePorts, startShop, type RunningShop } from './shop';
import { asAdmin, freshDatabase } from './test-database';

export interface ShopWithConsole {
  readonly shop: RunningShop;
  readonly console: RunningConsole;
  /** The monolith's topology with the ports it runs on. */
  readonly topology: Topology;
  readonly admin: Account;
  readonly customer: Account;
  close(): Promise<void>;
}

/**
 * The monolith, an admin and a customer of it, and `ficus console` beside it (the console as
 * the command starts it, on the topology with the ports the shop took).
 */
export async function shopWithConsole(label: string): Promise<ShopWithConsole> {
  const shop = await startShop(label);
  const portOf = (url: string) => Number(new URL(url).port);
  const topology = monolithOnFreePorts().withTarget('monolith', (target) => ({
    ...target,
    http: { host: '127.0.0.1', port: portOf(shop.baseUrl) },
    operations: { host: '127.0.0.1', port: portOf(shop.operationsUrl) },
  }));
  const { admin, customer } = await adminAndCustomer(shop.baseUrl, shop.database);
  // The console finds the shop's database as `ficus flags` would: DATABASE_URL (the shop's flags).
  const running = await consoleOn(topology, shop.baseUrl, { ...process.env, DATABASE_URL: databaseUrlOf(shop) });
  return {
    shop,
    console: running,
    topology,
    admin,
    customer,
    close: async () => {
      await running.close();
      await shop.close();
    },
  };
}

interface Account {
  readonly email: string;
  readonly password: string;
}

/**
 * Two new accounts of the shop: one made an admin as `ficus admins grant` makes one (this row
 * change, test/security/admins.test.ts; their next login carries the role), one left a customer.
 */
async function adminAndCustomer(
  shopUrl: string,
  database: Pick<DatabaseConfig, 'adminUrl' | 'database'>,
): Promise<{ admin: Account; customer: Account }> {
  const anonymous = new ShopClient(shopUrl);
  const admin = { email: `admin-${randomUUID()}@example.com`, password: 'console admin password' };
  const customer = { email: `customer-${randomUUID()}@example.com`, password: 'console customer password' };
  const promoted = await anonymous.signUp(admin.email, admin.password);
  await anonymous.signUp(customer.email, customer.password);
  await asAdmin(database, `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`, [
    promoted.customerId,
  ]);
  return { admin, customer };
}

/** The shop's database as DATABASE_URL says it, for `ficus` commands and the console beside it. */
export function databaseUrlOf(shop: RunningShop): string {
  return withDatabase(shop.database.adminUrl, shop.database.database);
}

/**
 * `ficus console` as the command starts it, reading `topology`, its admins signing in at `shopUrl`;
 * a free port, on 127.0.0.1 unless `listen` says otherwise.
 */
export function consoleOn(
  topology: Topology,
  shopUrl: string,
  env?: NodeJS.ProcessEnv,
  listen: { readonly host: string; readonly publicNames?: readonly string[] } = { host: '127.0.0.1' },
): Promise<RunningConsole> {
  return startConsole({
    topology,
    graph: placedGraphOf(topology),
    shopUrl,
    claims: { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE },
    ...listen,
    port: 0,
    ...(env ? { env } : {}),
  });
}

export interface ExtractingShopWithConsole {
  /** The monolith's public URL. */
  readonly shopUrl: string;
  /** The monolith's operations port (its /metrics: the share it routed). */
  readonly operationsUrl: string;
  readonly console: RunningConsole;
  readonly admin: Account;
  readonly customer: Account;
  close(): Promise<void>;
}

/**
 * The monolith in the middle of a strangler-fig step, as a team gets there: `ficus extract
 * inventory` wrote the topology, the monolith restarted with it (it still owns inventory) and the
 * extracted inventory service runs beside it on the same data; `ficus console` reads that
 * topology. Real processes, the test's PostgreSQL and Kafka; gRPC in plain text on loopback.
 */
export async function extractingShopWithConsole(
  label: string,
  ports: {
    readonly monolith: { grpc: number; http: number; operations: number };
    readonly inventory: { grpc: number; http: number };
  },
): Promise<ExtractingShopWithConsole> {
  const dir = mkdtempSync(join(tmpdir(), `ficus-${label}-`));
  const database = await freshDatabase(label);
  const starting = join(dir, 'monolith.yaml');
  const extracting = join(dir, 'monolith-extracting-inventory.yaml');
  writeFileSync(
    starting,
    `name: monolith
defaults:
  grpc: { host: 127.0.0.1 }
targets:
  monolith:
    edge: true
    modules: ${flowList(ALL_CONTEXTS)}
    grpc: { port: ${ports.monolith.grpc} }
    http: { port: ${ports.monolith.http}, operationsPort: ${ports.monolith.operations} }
`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: withDatabase(database.config.adminUrl, database.config.database),
    FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
    FICUS_KAFKA_NAMESPACE: `${label.replace(/[^a-z]/g, '')}${randomUUID().slice(0, 8)}`,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    FICUS_GRPC_PLAINTEXT: 'loopback',
  };
  const services = new ServiceProcesses(extracting, env);
  let running: RunningConsole | undefined;
  const close = async () => {
    await running?.close();
    await services.kill();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const extracted = await ficus(
      [
        'extract',
        'inventory',
        ...['--topology', starting, '--out', extracting, '--deploy-dir', join(dir, 'deploy')],
        ...['--grpc-port', String(ports.inventory.grpc), '--http-port', String(ports.inventory.http), '--json'],
      ],
      env,
    );
    if (extracted.code !== 0) throw new Error(`ficus extract failed: ${extracted.err}`);
    // The owner first, as in a real extraction: it has made its schemas before the extracted copy starts on them.
    await services.ready(services.start('monolith'), ports.monolith.operations);
    await services.ready(services.start('inventory'), ports.inventory.http);
    const shopUrl = `http://127.0.0.1:${ports.monolith.http}`;
    const { admin, customer } = await adminAndCustomer(shopUrl, database.config);
    running = await consoleOn(loadTopology(extracting, { env }), shopUrl, env);
    return {
      shopUrl,
      operationsUrl: `http://127.0.0.1:${ports.monolith.operations}`,
      console: running,
      admin,
      customer,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `reads` stock reads through the shop, 8 at a time; each must answer 200. */
export async function stockReads(shopUrl: string, reads: number, sku = 'FICUS-LYRATA'): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < reads) {
        const answer = await fetch(`${shopUrl}/inventory/stock/${sku}`);
        if (answer.status !== 200) throw new Error(`GET /inventory/stock/${sku}: ${answer.status}`);
        await answer.body?.cancel();
      }
    }),
  );
}

/**
 * A poison message as a shop meets one: an order confirmed for a customer notifications has no
 * address of yet (their registration has not arrived), so its consumer fails on every attempt and
 * the message waits in notifications' dead letters. `registered` is the cure: once it is
 * delivered, a replay of `confirmed` goes through and the order's email is recorded.
 */
export function messageWithoutRecipient(): {
  readonly confirmed: Envelope;
  readonly registered: Envelope;
  readonly customerId: string;
  readonly orderId: string;
} {
  const customerId = randomUUID();
  const orderId = randomUUID();
  return {
    customerId,
    orderId,
    confirmed: OrderConfirmed.create(
      { orderId, customerId, total: { amountMinor: 1_250, currency: 'EUR' } },
      { correlationId: orderId },
    ),
    registered: CustomerRegistered.create(
      { customerId, email: `late-${customerId.slice(0, 8)}@example.com` },
      { correlationId: customerId },
    ),
  };
}

/** notifications' consumer of order-confirmed, as its dead letters name it. */
export const ORDER_CONFIRMED_CONSUMER = `notifications:${OrderConfirmed.type}.v${OrderConfirmed.version}`;
