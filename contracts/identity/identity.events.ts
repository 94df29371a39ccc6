import { z } from 'zod';
import { event } from '../kernel/contract';
import { EmailSchema, IdSchema } from '../kernel/ids';

export const CustomerRegistered = event(
  'identity.customer-registered',
  1,
  z.object({ customerId: IdSchema, email: EmailSchema }),
  (p) => p.customerId,
);
