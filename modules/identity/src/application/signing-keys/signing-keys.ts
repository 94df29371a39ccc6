import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { UnitOfWork } from '@infra/persistence';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike | Uint8Array;
}

/**
 * Identity's token signing keys, kept in its schema so tokens stay valid across restarts and
 * replicas. The JWKS publishes every key not retired, so a rotated-out key still verifies.
 */
@Injectable()
export class SigningKeys {
  private current?: Promise<SigningKey>;

  constructor(private readonly uow: UnitOfWork) {}

  signingKey(): Promise<SigningKey> {
    this.current ??= this.loadOrCreate().catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  async publicKeys(): Promise<JWK[]> {
    await this.signingKey();
    const rows = (await this.uow.manager.query(
      'SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC',
    )) as Array<{ public_jwk: JWK }>;
    return rows.map((row) => row.public_jwk);
  }

  private async loadOrCreate(): Promise<SigningKey> {
    return this.uow.transaction(async (manager) => {
      await manager.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      const [row] = (await manager.query(
        'SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
      )) as Array<{ kid: string; private_jwk: JWK }>;
      if (row) {
        return { kid: row.kid, privateKey: await importJWK(row.private_jwk, SIGNING_ALGORITHM) };
      }
      const kid = randomUUID();
      const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALGORITHM };
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALGORITHM, use: 'sig' };
      await manager.query(
        'INSERT INTO signing_keys (kid, algorithm, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)',
        [kid, SIGNING_ALGORITHM, JSON.stringify(privateJwk), JSON.stringify(publicJwk)],
      );
      return { kid, privateKey };
    });
  }
}
