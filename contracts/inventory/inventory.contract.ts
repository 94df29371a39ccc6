import { z } from 'zod';
import { InventoryServiceDefinition } from '../generated/inventory/inventory';
import { defineContract, serverStream, unary, type ContractApi } from '../kernel/contract';
import { IdSchema, SkuSchema } from '../kernel/ids';

export const StockLineSchema = z.object({ sku: SkuSchema, quantity: z.number().int().positive().max(1_000) });
export type StockLine = z.infer<typeof StockLineSchema>;

export const StockLevelSchema = z.object({
  sku: SkuSchema,
  available: z.number().int().nonnegative(),
  reserved: z.number().int().nonnegative(),
});
export type StockLevel = z.infer<typeof StockLevelSchema>;

export const StockUpdateSchema = StockLevelSchema.extend({ changedAt: z.iso.datetime({ offset: true }) });
export type StockUpdate = z.infer<typeof StockUpdateSchema>;

/** Mirrors inventory.proto (service inventory.v1.InventoryService). */
export const InventoryContract = defineContract(
  'inventory',
  'inventory.v1.InventoryService',
  {
    checkStock: unary(
      z.object({ skus: z.array(SkuSchema).min(1).max(100) }),
      z.object({ levels: z.array(StockLevelSchema) }),
      { idempotent: true, access: { anyone: true }, aggregate: { type: 'product', of: (r) => r.skus[0] } },
    ),
    reserveStock: unary(
      z.object({ orderId: IdSchema, items: z.array(StockLineSchema).min(1).max(50) }),
      z.object({ reserved: z.boolean(), unavailableSkus: z.array(z.string()) }),
      // The order saga's steps: ordering's, never an end user's to call.
      { idempotent: true, access: { services: ['ordering'] }, aggregate: { type: 'order', of: (r) => r.orderId } },
    ),
    releaseStock: unary(
      z.object({ orderId: IdSchema, reason: z.string().max(200) }),
      z.object({ released: z.boolean() }),
      { idempotent: true, access: { services: ['ordering'] }, aggregate: { type: 'order', of: (r) => r.orderId } },
    ),
    restock: unary(
      z.object({ sku: SkuSchema, quantity: z.number().int().positive().max(1_000_000) }),
      StockLevelSchema,
      { idempotent: false, access: { roles: ['admin'] }, aggregate: { type: 'product', of: (r) => r.sku } },
    ),
    watchStock: serverStream(z.object({ skus: z.array(SkuSchema).min(1).max(100) }), StockUpdateSchema, {
      access: { anyone: true },
      aggregate: { type: 'product', of: (r) => r.skus[0] },
    }),
  },
  InventoryServiceDefinition,
);

export type InventoryApi = ContractApi<typeof InventoryContract>;
export const INVENTORY = InventoryContract.token;
