import { z } from 'zod';
import { IdentityServiceDefinition } from '../generated/identity/identity';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { EmailSchema, IdSchema } from '../kernel/ids';

export const PasswordSchema = z.string().min(8, 'a password has at least 8 characters').max(256);

export const JwkSchema = z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string() });

/** An opaque refresh token as identity hands it out (256 random bits, base64url); bounded for parsing only. */
export const RefreshTokenSchema = z.string().max(512);

/** What a refresh answers: a short-lived access token and the refresh token that gets the next one. */
const TokensSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
  refreshToken: z.string(),
  refreshExpiresIn: z.number().int(),
});

/** An account and its roles after an admin role change; `changed` is false when it already was so. */
const AdminRoleChangeSchema = z.object({
  customerId: IdSchema,
  email: z.string(),
  roles: z.array(z.string()),
  changed: z.boolean(),
});

export const IdentityContract = defineContract(
  'identity',
  'identity.v1.IdentityService',
  {
    register: unary(z.object({ email: EmailSchema, password: PasswordSchema }), z.object({ customerId: IdSchema }), {
      idempotent: false,
      access: { anyone: true },
    }),
    login: unary(
      z.object({
        email: z.string().max(254),
        password: z.string().max(256),
        // Where the attempt came from, as the edge saw it: failed logins are throttled per account
        // and address. Empty when unknown (proto3 sends '' for an absent string).
        clientAddress: z.string().max(100).optional(),
      }),
      // The refresh token came after the first release of login: optional, because older identities never send it.
      TokensSchema.extend({ refreshToken: z.string().optional(), refreshExpiresIn: z.number().int().optional() }),
      { idempotent: false, access: { anyone: true } },
    ),
    /**
     * Proves the mailbox: the token mailed at registration, used up, with the password chosen when
     * registering (a link its owner did not ask for confirms nothing); unknown, used or expired
     * tokens are one error. The password is optional in the schema only so that an edge of the
     * version before (the token alone) is answered `confirmation-password-required`.
     */
    confirmEmail: unary(
      z.object({ token: z.string().min(1).max(512), password: z.string().max(256).optional() }),
      z.object({ customerId: IdSchema }),
      { idempotent: false, access: { anyone: true } },
    ),
    /** Trades a refresh token for new tokens; the one presented is used up (rotation). */
    refresh: unary(z.object({ refreshToken: RefreshTokenSchema }), TokensSchema, {
      idempotent: false,
      access: { anyone: true },
    }),
    /** Revokes the refresh token's whole family: every token rotated from the same login. */
    logout: unary(z.object({ refreshToken: RefreshTokenSchema }), z.object({}), {
      idempotent: true,
      access: { anyone: true },
    }),
    // Every service verifies the access tokens the edge relays (ADR 0031): the keys are open to all.
    getJwks: unary(z.object({}), z.object({ keys: z.array(JwkSchema) }), {
      idempotent: true,
      access: { anyone: true },
      openToServices: true,
    }),
    /**
     * Admins only: a new signing key signs from now on; the replaced one stays in the JWKS for the
     * overlap, unless `retirePrevious`.
     */
    rotateSigningKey: unary(
      z.object({
        /** Retire every other key now (a leaked key): tokens they signed stop verifying. */
        retirePrevious: z.boolean().optional(),
      }),
      z.object({ kid: z.string() }),
      { idempotent: false, access: { roles: ['admin'] } },
    ),
    /** Admins only (an operator's `ficus admins grant` among them): audited in identity.role_changes. */
    grantAdmin: unary(z.object({ email: EmailSchema }), AdminRoleChangeSchema, {
      idempotent: true,
      access: { roles: ['admin'] },
    }),
    /** Admins only; never the last admin's role. Audited like grantAdmin. */
    revokeAdmin: unary(z.object({ email: EmailSchema }), AdminRoleChangeSchema, {
      idempotent: true,
      access: { roles: ['admin'] },
    }),
    /** Admins only: who holds the admin role. */
    listAdmins: unary(
      z.object({}),
      z.object({ items: z.array(z.object({ customerId: IdSchema, email: z.string() })) }),
      { idempotent: true, access: { roles: ['admin'] } },
    ),
  },
  IdentityServiceDefinition,
);

export type IdentityApi = ContractApi<typeof IdentityContract>;
export const IDENTITY = IdentityContract.token;

/** Claims identity puts in an access token; the edge verifies them against the JWKS. */
export const ACCESS_TOKEN_ISSUER = 'ficus-identity';
export const ACCESS_TOKEN_AUDIENCE = 'ficus-api';

/**
 * The `typ` header of an access token (RFC 9068): the edge accepts no other JWT as one, so an ID
 * token or any other JWT signed with the same keys cannot pass for an access token.
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * The `iss` identity signs and the `aud` it addresses, from FICUS_JWT_ISSUER and
 * FICUS_JWT_AUDIENCE. Identity and whoever verifies its tokens read the same variables (each
 * declares them as settings of its own), in one process or in two, so a token is accepted only
 * where it was meant to go.
 */
export const AccessTokenClaimVariables = {
  FICUS_JWT_ISSUER: z.string().trim().min(1).max(200).default(ACCESS_TOKEN_ISSUER),
  FICUS_JWT_AUDIENCE: z.string().trim().min(1).max(200).default(ACCESS_TOKEN_AUDIENCE),
};

export interface AccessTokenClaims {
  readonly issuer: string;
  readonly audience: string;
}

export function accessTokenClaimsOf(values: {
  FICUS_JWT_ISSUER: string;
  FICUS_JWT_AUDIENCE: string;
}): AccessTokenClaims {
  return { issuer: values.FICUS_JWT_ISSUER, audience: values.FICUS_JWT_AUDIENCE };
}
