/**
 * The files of a new bounded context, as `ficus new context <name>` writes them: a small vertical
 * slice that runs as it is (an item that an admin creates and anyone reads, its event through the
 * outbox), laid out as every context of the shop is, for the team to grow into its own domain.
 */

/** A file's text, written in the source from the line after its opening backtick. */
const file = (text: string): string => text.replace(/^\n/, '');

/** The spellings of a context's name the files need. */
export interface ContextNames {
  /** As topologies, schemas and topics spell it: `reviews`. */
  readonly name: string;
  /** As types spell it: `Reviews`. */
  readonly pascal: string;
  /** As the contract's injection token spells it: `REVIEWS`. */
  readonly constant: string;
  /** The first migration number of its range: `1764000000800`. */
  readonly firstMigration: number;
}

export function contextNames(name: string, index: number): ContextNames {
  return {
    name,
    pascal: name[0].toUpperCase() + name.slice(1),
    constant: name.toUpperCase(),
    firstMigration: 1_764_000_000_000 + (index + 1) * 100,
  };
}

/** Every file of the context, by path relative to the repository root. */
export function contextFiles(names: ContextNames): Record<string, string> {
  const { name, pascal, constant, firstMigration } = names;
  const migration = `Create${pascal}Items${firstMigration}`;
  return {
    [`contracts/${name}/${name}.proto`]: file(`
syntax = "proto3";

package ${name}.v1;

// What other contexts may ask of ${name}; mirrored by ${name}.contract.ts.
service ${pascal}Service {
  rpc CreateItem(CreateItemRequest) returns (CreateItemResponse);
  rpc GetItem(GetItemRequest) returns (Item);
}

message Item {
  string id = 1;
  string name = 2;
  string created_at = 3;
}

message CreateItemRequest {
  string name = 1;
}

message CreateItemResponse {
  string id = 1;
}

message GetItemRequest {
  string id = 1;
}
`),
    [`contracts/${name}/${name}.contract.ts`]: file(`
import { z } from 'zod';
import { ${pascal}ServiceDefinition } from '../generated/${name}/${name}';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

export const ${pascal}ItemSchema = z.object({
  id: IdSchema,
  name: z.string().min(1).max(200),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ${pascal}Item = z.infer<typeof ${pascal}ItemSchema>;

/** Mirrors ${name}.proto (service ${name}.v1.${pascal}Service). */
export const ${pascal}Contract = defineContract(
  '${name}',
  '${name}.v1.${pascal}Service',
  {
    createItem: unary(z.object({ name: z.string().min(1).max(200) }), z.object({ id: IdSchema }), {
      idempotent: false,
      access: { roles: ['admin'] },
    }),
    getItem: unary(z.object({ id: IdSchema }), ${pascal}ItemSchema, {
      idempotent: true,
      access: { anyone: true },
      aggregate: { type: 'item', of: (request) => request.id },
    }),
  },
  ${pascal}ServiceDefinition,
);

export type ${pascal}Api = ContractApi<typeof ${pascal}Contract>;
export const ${constant} = ${pascal}Contract.token;
`),
    [`contracts/${name}/${name}.events.ts`]: file(`
import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

/** An item was created: what other contexts may learn of it. */
export const ${pascal}ItemCreated = event(
  '${name}.item-created',
  1,
  z.object({ id: IdSchema, name: z.string() }),
  (p) => p.id,
  'item',
);
`),
    [`contracts/${name}/index.ts`]: file(`
export * from './${name}.contract';
export * from './${name}.events';
`),
    [`modules/${name}/src/index.ts`]: file(`
export { ${pascal}Module } from './${name}.module';
`),
    [`modules/${name}/src/${name}.module.ts`]: file(`
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ${pascal}Contract } from '@contracts/${name}';
import { FicusModule } from '@infra/runtime';
import { CreateItemHandler } from './application/create-item/create-item.handler';
import { GetItemHandler } from './application/get-item/get-item.handler';
import { ${pascal}ContractAdapter } from './application/${name}.contract-adapter';
import { ${migration} } from './persistence/migrations/${firstMigration}-create-items';
import { ItemRepository } from './persistence/item.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: '${name}',
      entities: [],
      migrations: [${migration}],
      serves: [${pascal}Contract, ${pascal}ContractAdapter],
    }),
  ],
  providers: [ItemRepository, CreateItemHandler, GetItemHandler, ${pascal}ContractAdapter],
})
export class ${pascal}Module {}
`),
    [`modules/${name}/src/domain/item.ts`]: file(`
/** What ${name} keeps: plain TypeScript, no framework (the boundary rules hold it so). */
export interface Item {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
}

/** A new item; its name trimmed, and refused when that leaves nothing. */
export function newItem(id: string, name: string, now: Date): Item {
  const trimmed = name.trim();
  if (trimmed === '') throw new RangeError('an item needs a name');
  return { id, name: trimmed, createdAt: now.toISOString() };
}
`),
    [`modules/${name}/src/domain/item.test.ts`]: file(`
import { newItem } from './item';

describe('an item', () => {
  it('keeps its name trimmed', () => {
    expect(newItem('id-1', '  first  ', new Date('2026-01-01T00:00:00Z'))).toEqual({
      id: 'id-1',
      name: 'first',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('needs a name', () => {
    expect(() => newItem('id-1', '   ', new Date())).toThrow(RangeError);
  });
});
`),
    [`modules/${name}/src/application/${name}.contract-adapter.ts`]: file(`
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { ${pascal}Api } from '@contracts/${name}';
import type { CallContext } from '@contracts/kernel';
import { CreateItemCommand } from './create-item/create-item.command';
import { GetItemQuery } from './get-item/get-item.query';

/** What other contexts (and the edge) may ask of ${name}: the contract, served from its private bus. */
@Injectable()
export class ${pascal}ContractAdapter implements ${pascal}Api {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  createItem(ctx: CallContext, request: { name: string }) {
    const origin = { correlationId: ctx.correlationId, causationId: ctx.causationId, traceparent: ctx.traceparent };
    return this.commands.execute(new CreateItemCommand(request.name, origin));
  }

  getItem(_ctx: CallContext, request: { id: string }) {
    return this.queries.execute(new GetItemQuery(request.id));
  }
}
`),
    [`modules/${name}/src/application/create-item/create-item.command.ts`]: file(`
import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

export class CreateItemCommand extends Command<{ id: string }> {
  constructor(
    readonly name: string,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
`),
    [`modules/${name}/src/application/create-item/create-item.handler.ts`]: file(`
import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ${pascal}ItemCreated } from '@contracts/${name}';
import { invalidArgument } from '@contracts/kernel';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { newItem } from '../../domain/item';
import { ItemRepository } from '../../persistence/item.repository';
import { CreateItemCommand } from './create-item.command';

/** Stores the item and its event in one transaction (the outbox delivers the event). */
@CommandHandler(CreateItemCommand)
export class CreateItemHandler implements ICommandHandler<CreateItemCommand, { id: string }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly items: ItemRepository,
    private readonly outbox: Outbox,
  ) {}

  async execute(command: CreateItemCommand): Promise<{ id: string }> {
    let item;
    try {
      item = newItem(randomUUID(), command.name, new Date());
    } catch (error) {
      throw invalidArgument('invalid-item', (error as Error).message);
    }
    const created = item;
    await this.uow.transaction(async () => {
      await this.items.insert(created);
      await this.outbox.add(${pascal}ItemCreated.create({ id: created.id, name: created.name }, command.origin));
    });
    return { id: created.id };
  }
}
`),
    [`modules/${name}/src/application/get-item/get-item.query.ts`]: file(`
import { Query } from '@nestjs/cqrs';
import type { Item } from '../../domain/item';

export class GetItemQuery extends Query<Item> {
  constructor(readonly id: string) {
    super();
  }
}
`),
    [`modules/${name}/src/application/get-item/get-item.handler.ts`]: file(`
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { notFound } from '@contracts/kernel';
import type { Item } from '../../domain/item';
import { ItemRepository } from '../../persistence/item.repository';
import { GetItemQuery } from './get-item.query';

@QueryHandler(GetItemQuery)
export class GetItemHandler implements IQueryHandler<GetItemQuery, Item> {
  constructor(private readonly items: ItemRepository) {}

  async execute(query: GetItemQuery): Promise<Item> {
    const item = await this.items.find(query.id);
    if (!item) throw notFound('item-not-found', \`no item has id \${query.id}\`, { id: query.id });
    return item;
  }
}
`),
    [`modules/${name}/src/persistence/item.repository.ts`]: file(`
import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Item } from '../domain/item';

/** Items in schema ${name}, through the unit of work (inside its transaction when there is one). */
@Injectable()
export class ItemRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async insert(item: Item): Promise<void> {
    await this.uow.manager.query('INSERT INTO items (id, name, created_at) VALUES ($1, $2, $3)', [
      item.id,
      item.name,
      item.createdAt,
    ]);
  }

  async find(id: string): Promise<Item | undefined> {
    const rows = await this.uow.manager.query('SELECT id, name, created_at FROM items WHERE id = $1', [id]);
    const [row] = rows as Array<{
      id: string;
      name: string;
      created_at: Date;
    }>;
    return row && { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
  }
}
`),
    [`modules/${name}/src/persistence/migrations/${firstMigration}-create-items.ts`]: file(`
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** ${name}'s first table. Its migrations are numbered ${firstMigration} to ${firstMigration + 99}. */
export class ${migration} implements MigrationInterface {
  name = '${migration}';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(\`
      CREATE TABLE items (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL
      )\`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE items');
  }
}
`),
    [`test/integration/${name}.module.test.ts`]: file(`
import { randomUUID } from 'node:crypto';
import { ${pascal}Contract } from '@contracts/${name}';
import { ${pascal}Module } from '@modules/${name}';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('${name}, alone on its database', () => {
  let context: ModuleUnderTest;
  const api = () => context.client(${pascal}Contract);

  beforeAll(async () => {
    context = await startModule('${name}', ${pascal}Module);
  });
  afterAll(() => context?.close());

  it('stores an item an admin creates, with its event in the outbox, and anyone reads it', async () => {
    const { id } = await api().createItem(asAdminUser(), { name: '  first  ' });
    expect(await api().getItem(callContext(), { id })).toMatchObject({ id, name: 'first' });
    const events = await asAdmin<{ type: string }>(
      context.database,
      'SELECT type FROM ${name}.outbox WHERE aggregate_id = $1',
      [id],
    );
    expect(events.map((event) => event.type)).toEqual(['${name}.item-created']);
  });

  it('answers an unknown item with not-found, and a nameless one with invalid-argument', async () => {
    await expect(api().getItem(callContext(), { id: randomUUID() })).rejects.toMatchObject({ code: 'item-not-found' });
    await expect(api().createItem(asAdminUser(), { name: '   ' })).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('lets only an admin create one', async () => {
    await expect(api().createItem(asCustomer(randomUUID()), { name: 'mine' })).rejects.toMatchObject({
      kind: 'permission-denied',
    });
  });
});
`),
  };
}
