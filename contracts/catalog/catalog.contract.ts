import { z } from 'zod';
import { CatalogServiceDefinition } from '../generated/catalog/catalog';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { SkuSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';

export const ProductSchema = z.object({
  sku: SkuSchema,
  name: z.string().min(1).max(200),
  price: MoneySchema,
});
export type Product = z.infer<typeof ProductSchema>;

export const PageRequestSchema = z.object({
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(100).default(20),
});

export const CatalogContract = defineContract(
  'catalog',
  'catalog.v1.CatalogService',
  {
    listProducts: unary(
      PageRequestSchema,
      z.object({
        items: z.array(ProductSchema),
        page: z.number().int(),
        pageSize: z.number().int(),
        total: z.number().int(),
      }),
      { idempotent: true, access: { anyone: true } },
    ),
    getProducts: unary(
      z.object({ skus: z.array(SkuSchema).min(1).max(100) }),
      z.object({ products: z.array(ProductSchema), missingSkus: z.array(z.string()) }),
      { idempotent: true, access: { anyone: true }, aggregate: { type: 'product', of: (r) => r.skus[0] } },
    ),
    getProduct: unary(z.object({ sku: SkuSchema }), ProductSchema, {
      idempotent: true,
      access: { anyone: true },
      aggregate: { type: 'product', of: (r) => r.sku },
    }),
  },
  CatalogServiceDefinition,
);

export type CatalogApi = ContractApi<typeof CatalogContract>;
export const CATALOG = CatalogContract.token;
