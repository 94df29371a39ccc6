import { InventoryContract } from '@contracts/inventory';
import { unavailable, type CallContext } from '@contracts/kernel';
import { isShadowable, ShadowingContractTransport, ShadowRecorder, ShadowStore } from '@infra/extraction';
import { InProcessContractTransport } from '@infra/messaging';
import { eventually } from '../support/eventually';
import { freshDatabase } from '../support/test-database';

/** A copy of inventory whose answers the test sets, and which counts what it was asked. */
function inventoryCopy() {
  const copy = {
    available: 10,
    failing: false,
    asked: [] as string[],
    answer: undefined as Promise<unknown> | undefined,
  };
  const transport = new InProcessContractTransport();
  transport.serve(InventoryContract, {
    checkStock: async (_ctx: CallContext, request: { skus: string[] }) => {
      copy.asked.push('checkStock');
      if (copy.answer) return copy.answer;
      if (copy.failing) throw unavailable('down', 'the copy is down');
      return { levels: request.skus.map((sku) => ({ sku, available: copy.available, reserved: 0 })) };
    },
    reserveStock: async () => {
      copy.asked.push('reserveStock');
      return { reserved: true, unavailableSkus: [] };
    },
    releaseStock: async () => ({ released: true }),
    restock: async () => {
      copy.asked.push('restock');
      return { sku: 'FIG', available: 1, reserved: 0 };
    },
    watchStock: async function* () {},
  } as never);
  return { copy, transport };
}

const ctx = (): CallContext => ({ correlationId: 'shadow', deadline: Date.now() + 5_000 });

/**
 * Shadowing while a context is extracted: reads served in-process are also asked of the extracted
 * copy and compared; the caller always gets the in-process answer, at once; writes are never sent
 * twice; a difference the data explains (it moved between the reads) proves nothing.
 */
describe('shadowing the extracted copy of a context', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: ShadowStore;
  let recorder: ShadowRecorder;
  beforeAll(async () => {
    database = await freshDatabase('shadowing');
    store = await ShadowStore.open(database.config);
    recorder = new ShadowRecorder(store, 60_000); // flushed by the test
  });
  afterAll(async () => {
    await recorder.close();
    await store.close();
    await database.drop();
  });

  const setUp = (context: string) => {
    const inProcess = inventoryCopy();
    const extracted = inventoryCopy();
    const shadowing = new ShadowingContractTransport(inProcess.transport, extracted.transport, {
      context,
      enabled: () => true,
      recorder,
    });
    const check = () =>
      shadowing.unary(InventoryContract, 'checkStock', ctx(), { skus: ['FIG'] }) as Promise<{
        levels: Array<{ available: number }>;
      }>;
    return { inProcess: inProcess.copy, extracted: extracted.copy, shadowing, check };
  };
  /** The context's tally once `expected` comparisons are in (the shadow calls settle after the answer). */
  const settled = (context: string, expected: number) =>
    eventually(
      async () => {
        await recorder.flush();
        return store.tally(context);
      },
      { until: (t) => t.matches + t.mismatches + t.errors + t.inconclusive >= expected },
    );

  it('shadows reads only: an idempotent write (reserveStock) and a command are never sent twice', async () => {
    expect(isShadowable(InventoryContract, 'checkStock')).toBe(true);
    expect(isShadowable(InventoryContract, 'reserveStock')).toBe(false);
    expect(isShadowable(InventoryContract, 'restock')).toBe(false);
    const { shadowing, extracted } = setUp('writes');
    // As their callers make them (ADR 0038): the saga's step as ordering, the restock as an admin.
    await shadowing.unary(
      InventoryContract,
      'reserveStock',
      { ...ctx(), service: 'ordering' },
      { orderId: '00000000-0000-4000-8000-000000000001', items: [{ sku: 'FIG', quantity: 1 }] },
    );
    await shadowing.unary(
      InventoryContract,
      'restock',
      { ...ctx(), caller: { subject: 'admin-1', roles: ['admin'] } },
      { sku: 'FIG', quantity: 1 },
    );
    expect(extracted.asked).toEqual([]);
  });

  it('counts the same answer as a match', async () => {
    const { check, extracted } = setUp('same');
    for (let i = 0; i < 3; i++) await check();
    expect(await settled('same', 3)).toMatchObject({ matches: 3, mismatches: 0, errors: 0, inconclusive: 0 });
    expect(extracted.asked).toEqual(['checkStock', 'checkStock', 'checkStock']);
  });

  it('answers in-process whatever the copy says, and keeps a mismatch with both answers', async () => {
    const { check, extracted } = setUp('different');
    extracted.available = 7;
    expect((await check()).levels[0].available).toBe(10);
    expect(await settled('different', 1)).toMatchObject({ matches: 0, mismatches: 1 });
    const [mismatch] = await eventually(() => store.mismatches('different'), { until: (m) => m.length === 1 });
    expect(mismatch).toMatchObject({
      call: 'inventory.v1.InventoryService/checkStock',
      request: { skus: ['FIG'] },
      inProcess: { levels: [{ sku: 'FIG', available: 10, reserved: 0 }] },
      extracted: { levels: [{ sku: 'FIG', available: 7, reserved: 0 }] },
    });
  });

  it('calls a difference inconclusive when the in-process answer moved too between the reads', async () => {
    const { check, inProcess, extracted } = setUp('moving');
    extracted.available = 9;
    const answered = check();
    await answered;
    inProcess.available = 9; // a reservation landed between the in-process read and the shadow read
    expect(await settled('moving', 1)).toMatchObject({ matches: 0, mismatches: 0, inconclusive: 1 });
    expect(await store.mismatches('moving')).toEqual([]);
  });

  it('counts the copy failing alone as an error, and never makes the caller wait for it', async () => {
    const { check, extracted } = setUp('failing');
    extracted.failing = true;
    await check();
    expect(await settled('failing', 1)).toMatchObject({ errors: 1, mismatches: 0 });
    let answer!: (value: unknown) => void;
    extracted.failing = false;
    extracted.answer = new Promise((resolve) => (answer = resolve)); // the copy hangs
    await expect(check()).resolves.toMatchObject({ levels: [{ available: 10 }] });
    answer({ levels: [{ sku: 'FIG', available: 10, reserved: 0 }] });
  });
});
