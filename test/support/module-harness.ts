import type { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import type { CallingService, Contract, ContractApi } from '@contracts/kernel';
import { ContractBus, InProcessEventTransport, type ConsumerRetryOptions } from '@infra/messaging';
import { Configuration } from '@infra/config';
import { ContextRegistry, declaredContexts, FicusModule, settingsOf } from '@infra/runtime';
import { freshDatabase } from './test-database';

export interface ModuleUnderTest {
  readonly app: INestApplicationContext;
  readonly database: Awaited<ReturnType<typeof freshDatabase>>['config'];
  readonly bus: ContractBus;
  readonly events: InProcessEventTransport;
  readonly registry: ContextRegistry;
  client<C extends Contract>(contract: C, from?: CallingService): ContractApi<C>;
  close(): Promise<void>;
}

/**
 * One bounded-context module alone on a real database, its neighbours faked at the contract:
 * `fakes` are served on the bus in place of the modules that really serve them.
 */
export async function startModule(
  label: string,
  module: Type | DynamicModule | Array<Type | DynamicModule>,
  fakes: Array<[Contract, object]> = [],
  /** `env`: variables over the test process's own, read by the module's settings at start-up. */
  options: { consumerRetry?: ConsumerRetryOptions; env?: Readonly<Record<string, string>> } = {},
): Promise<ModuleUnderTest> {
  const fresh = await freshDatabase(label);
  const testing = await Test.createTestingModule({
    imports: [
      CqrsModule.forRoot(),
      FicusModule.forRoot({
        // Every loaded context's settings, read as a process reads them at start-up.
        configuration: Configuration.read({ ...process.env, ...options.env }, settingsOf(declaredContexts().keys())),
        database: fresh.config,
        consumerRetry: options.consumerRetry,
      }),
      ...(Array.isArray(module) ? module : [module]),
    ],
  }).compile();
  const bus = testing.get(ContractBus);
  for (const [contract, implementation] of fakes) {
    bus.serve(contract, implementation as never);
  }
  const app = await testing.init();
  return {
    app,
    database: fresh.config,
    bus,
    events: testing.get(InProcessEventTransport),
    registry: testing.get(ContextRegistry),
    client: (contract, from) => bus.client(contract, from),
    close: async () => {
      await app.close();
      await fresh.drop();
    },
  };
}

export function callContext(budgetMs = 10_000) {
  return { correlationId: `test-${Date.now()}`, deadline: Date.now() + budgetMs };
}

/** A call made on behalf of an admin, as the edge makes it for an admin's request. */
export function asAdminUser(budgetMs = 10_000) {
  return { ...callContext(budgetMs), caller: { subject: 'test-admin', roles: ['admin'] } };
}

/** A call made on behalf of a signed-in customer, as the edge makes it. */
export function asCustomer(customerId: string, budgetMs = 10_000) {
  return { ...callContext(budgetMs), caller: { subject: customerId, roles: ['customer'] } };
}
