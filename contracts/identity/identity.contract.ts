import { z } from 'zod';
import { IdentityServiceDefinition } from '../generated/identity/identity';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { EmailSchema, IdSchema } from '../kernel/ids';

export const PasswordSchema = z.string().min(8, 'a password has at least 8 characters').max(256);

export const JwkSchema = z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string() });

export const IdentityContract = defineContract('identity', 'identity.v1.IdentityService', {
  register: unary(
    z.object({ email: EmailSchema, password: PasswordSchema }),
    z.object({ customerId: IdSchema }),
    { idempotent: false },
  ),
  login: unary(
    z.object({ email: z.string().max(254), password: z.string().max(256) }),
    z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int() }),
    { idempotent: false },
  ),
  getJwks: unary(z.object({}), z.object({ keys: z.array(JwkSchema) }), { idempotent: true }),
}, IdentityServiceDefinition);

export type IdentityApi = ContractApi<typeof IdentityContract>;
export const IDENTITY = IdentityContract.token;

/** Claims identity puts in an access token; the edge verifies them against the JWKS. */
export const ACCESS_TOKEN_ISSUER = 'ficus-identity';
export const ACCESS_TOKEN_AUDIENCE = 'ficus-api';
