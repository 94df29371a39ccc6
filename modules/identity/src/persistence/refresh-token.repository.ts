import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';

export interface RefreshTokenFamily {
  readonly familyId: string;
  readonly customerId: string;
}

/** What presenting a refresh token found, before anything was issued for it. */
export type RefreshTokenUse =
  | ({ readonly outcome: 'rotated' } & RefreshTokenFamily)
  /** Already used once: someone holds a copy. The caller revokes the family. */
  | ({ readonly outcome: 'reused' } & RefreshTokenFamily)
  /** Unknown, expired, or its family revoked. */
  | { readonly outcome: 'invalid' };

/** Refresh tokens by SHA-256 hash, grouped in families (one per sign-in), in identity's schema. */
@Injectable()
export class RefreshTokenRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async startFamily(family: RefreshTokenFamily): Promise<void> {
    await this.uow.manager.query('INSERT INTO refresh_token_families (family_id, customer_id) VALUES ($1, $2)', [
      family.familyId,
      family.customerId,
    ]);
  }

  async add(tokenHash: string, family: RefreshTokenFamily, ttlHours: number): Promise<void> {
    await this.uow.manager.query(
      `INSERT INTO refresh_tokens (token_hash, family_id, customer_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(hours => $4))`,
      [tokenHash, family.familyId, family.customerId, ttlHours],
    );
  }

  /**
   * Uses the token up, if it is still good. Call inside a transaction that also adds the next
   * token: the family row stays locked until then, so a concurrent revocation either waits for the
   * new token and revokes it too, or revokes first and this finds the family revoked.
   */
  async use(tokenHash: string): Promise<RefreshTokenUse> {
    const [family] = (await this.uow.manager.query(
      `SELECT f.family_id, f.customer_id FROM refresh_token_families f
       JOIN refresh_tokens t ON t.family_id = f.family_id
       WHERE t.token_hash = $1 AND f.revoked_at IS NULL
       FOR UPDATE OF f`,
      [tokenHash],
    )) as Array<{ family_id: string; customer_id: string }>;
    if (!family) return { outcome: 'invalid' };
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
    const [used] = (await this.uow.manager.query(
      `WITH used AS (
         UPDATE refresh_tokens SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
         RETURNING token_hash)
       SELECT token_hash FROM used`,
      [tokenHash],
    )) as unknown[];
    const found = { familyId: family.family_id, customerId: family.customer_id };
    if (used) return { outcome: 'rotated', ...found };
    const [reused] = (await this.uow.manager.query(
      'SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL',
      [tokenHash],
    )) as unknown[];
    return reused ? { outcome: 'reused', ...found } : { outcome: 'invalid' };
  }

  /** The family of a token in any state, for logout; undefined when no such token was issued. */
  async familyOf(tokenHash: string): Promise<RefreshTokenFamily | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT family_id, customer_id FROM refresh_tokens WHERE token_hash = $1',
      [tokenHash],
    )) as Array<{ family_id: string; customer_id: string }>;
    return row ? { familyId: row.family_id, customerId: row.customer_id } : undefined;
  }

  /** Revokes every token of the family, those still to be issued included (the family row says so). */
  async revokeFamily(familyId: string): Promise<void> {
    await this.uow.transaction(async (manager) => {
      await manager.query(
        'UPDATE refresh_token_families SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = $1',
        [familyId],
      );
      await manager.query('UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = $1', [
        familyId,
      ]);
    });
  }

  /** Tokens expired for a day are dead weight; their families go with their last token. */
  async deleteExpired(): Promise<void> {
    await this.uow.transaction(async (manager) => {
      await manager.query("DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'");
      await manager.query(
        'DELETE FROM refresh_token_families f WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE ' +
          't.family_id = f.family_id)',
      );
    });
  }
}
