import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const IdSchema = z.uuid();
export type Id = z.infer<typeof IdSchema>;

export function newId(): Id {
  return randomUUID();
}

export const SkuSchema = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'a sku is 2–40 upper-case letters, digits and dashes');
export type Sku = z.infer<typeof SkuSchema>;

export const EmailSchema = z.email().max(254);
