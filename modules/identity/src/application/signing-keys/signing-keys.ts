import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { UnitOfWork } from '@infra/persistence';
import { KeyEncryptionSettings, type KeyEncryption } from '@infra/security';
import { TOKEN_OPTIONS, type TokenOptions } from '../tokens/token.options';

/** Identity's key-encryption keys (FICUS_KEY_ENCRYPTION_KEYS), made once at start-up. */
export const KEY_ENCRYPTION = KeyEncryptionSettings.token;

export const SIGNING_ALGORITHM = 'ES256';

/**
 * How long a replica signs with the key it loaded before it looks again (another replica may have
 * rotated); it goes on signing with it until the look has answered.
 */
const RELOAD_AFTER_MS = 60_000;
/**
 * How long a replica goes on signing with a key while its looks for a newer one fail (one a
 * minute): past it, the next token waits for a load, and a failure reaches its caller.
 */
const SIGN_UNCONFIRMED_FOR_AT_MOST_MS = 10 * 60_000;
/**
 * How long a replaced key stays in the JWKS after its successor took over. Tokens it signed live
 * 15 minutes (+ 30 s of skew at the edge), and a replica may sign with it for up to ten more
 * minutes while its looks fail (SIGN_UNCONFIRMED_FOR_AT_MOST_MS); the edge refuses any access
 * token issued more than an hour ago whatever its `exp`, so an hour covers every token the old key
 * can still have out there.
 */
export const RETIRE_REPLACED_KEY_AFTER_SECONDS = 60 * 60;
/**
 * A key replaced on schedule is published this long before it signs: twice the 5 minutes an edge
 * caches the JWKS, so every edge knows it before the first token it signs arrives.
 */
export const PUBLISH_BEFORE_SIGNING_SECONDS = 10 * 60;

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike | Uint8Array;
}

/**
 * Identity's token signing keys, kept in its schema so tokens stay valid across restarts and
 * replicas. The newest active key signs. One older than FICUS_SIGNING_KEY_ROTATE_DAYS gets a
 * successor when it is next loaded (at start-up, then every minute): published in the JWKS at once,
 * signing 10 minutes later, when every edge has it. An admin's rotation signs at once (a suspected
 * leak does not wait); edges then learn the key from the first token that names it. The JWKS
 * publishes every key not retired, so tokens of a replaced key verify until it retires, an hour
 * after its successor took over.
 *
 * Private halves are stored sealed with the key-encryption key (`KeyEncryption`, bound to the
 * key's kid), never in plain text: a copy of the table signs nothing. Each load (under the table
 * lock) seals again what an older key-encryption key or an older version left, and a retired key
 * loses its private half, which nothing needs any more.
 */
@Injectable()
export class SigningKeys {
  private readonly logger = new Logger('SigningKeys');
  /** The key that signs; `loadedAt` its last load, `lookedAt` the last look for a newer one. */
  private current?: { key: Promise<SigningKey>; loadedAt: number; lookedAt: number };
  /** A look for a newer key under way, while the key loaded keeps signing. */
  private reloading?: Promise<void>;

  constructor(
    private readonly uow: UnitOfWork,
    @Inject(TOKEN_OPTIONS) private readonly options: TokenOptions,
    @Inject(KEY_ENCRYPTION) private readonly encryption: KeyEncryption,
  ) {}

  signingKey(): Promise<SigningKey> {
    const now = Date.now();
    if (!this.current || now - this.current.loadedAt > SIGN_UNCONFIRMED_FOR_AT_MOST_MS) {
      this.remember(this.loadOrRotate(false));
    } else if (now - this.current.lookedAt > RELOAD_AFTER_MS) this.reloadBehind(this.current);
    return this.current!.key;
  }

  /**
   * Looks again (another replica may have rotated) while the key loaded keeps signing: a token is
   * never kept waiting for the look, which may wait for the table lock, nor does a refresh hold
   * its transaction's connection while the look needs another one from the same pool. A look that
   * fails leaves the key as it is, and the next look is a minute later.
   */
  private reloadBehind(stale: NonNullable<SigningKeys['current']>): void {
    this.reloading ??= this.loadOrRotate(false)
      .then(
        (key) => {
          if (this.current !== stale) return; // rotated or reloaded meanwhile
          const now = Date.now();
          this.current = { key: Promise.resolve(key), loadedAt: now, lookedAt: now };
        },
        (error: unknown) => {
          if (this.current === stale) this.current = { ...stale, lookedAt: Date.now() };
          this.logger.warn({ err: error }, 'could not look for a newer signing key; the loaded one signs meanwhile');
        },
      )
      .finally(() => {
        this.reloading = undefined;
      });
  }

  /**
   * Replaces the signing key now; the replaced one stays published for the overlap, or, with
   * `retirePrevious` (a leaked key), every other key retires at once and loses its private half:
   * tokens they signed stop verifying wherever the JWKS is fetched again. Another replica of
   * identity signs with its loaded key until its next look (a minute at most).
   */
  async rotate(options: { retirePrevious?: boolean } = {}): Promise<{ kid: string }> {
    const key = this.loadOrRotate(true, options.retirePrevious === true);
    this.remember(key);
    return { kid: (await key).kid };
  }

  async publicKeys(): Promise<JWK[]> {
    await this.signingKey();
    const rows = (await this.uow.manager.query(
      'SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY active_from DESC',
    )) as Array<{ public_jwk: JWK }>;
    return rows.map((row) => row.public_jwk);
  }

  private remember(key: Promise<SigningKey>): void {
    const entry = {
      key: key.catch((error: unknown) => {
        if (this.current === entry) this.current = undefined;
        throw error;
      }),
      loadedAt: Date.now(),
      lookedAt: Date.now(),
    };
    entry.key.catch(() => undefined); // each caller gets the failure; none left unhandled
    this.current = entry;
  }

  /**
   * Under a table lock (one replica at a time): the newest active key, after adding a successor
   * when there is none, it is due (published ahead, unless one is pending already), or `force`
   * (active at once; with `retireOthers`, every other key retires now). Keys replaced longer ago
   * than the overlap retire.
   *
   * In a transaction of its own, apart from any the caller has open (a refresh rotates its token
   * in one): the key is remembered for every later caller, so it must not commit, roll back or
   * hold the table lock with one customer's request.
   */
  private loadOrRotate(force: boolean, retireOthers = false): Promise<SigningKey> {
    return this.uow.apart(() =>
      this.uow.transaction(async (manager) => {
        await manager.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
        await this.sealAgain();
        const [row] = (await manager.query(
          `SELECT kid, private_jwk_sealed,
           active_from < now() - make_interval(days => $1) AS due,
           EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL AND active_from > now()) AS successor_pending
         FROM signing_keys WHERE retired_at IS NULL AND active_from <= now() ORDER BY active_from DESC LIMIT 1`,
          [this.options.signingKeyRotateDays],
        )) as Array<{ kid: string; private_jwk_sealed: string; due: boolean; successor_pending: boolean }>;
        let key: SigningKey;
        if (!row || force) {
          key = await this.create(0);
          if (retireOthers) {
            await manager.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1', [
              key.kid,
            ]);
          }
        } else {
          if (row.due && !row.successor_pending) await this.create(PUBLISH_BEFORE_SIGNING_SECONDS);
          const privateJwk = JSON.parse(this.encryption.open(row.private_jwk_sealed, row.kid)) as JWK;
          key = { kid: row.kid, privateKey: await importJWK(privateJwk, SIGNING_ALGORITHM) };
        }
        await manager.query(
          `UPDATE signing_keys k SET retired_at = now()
         WHERE k.retired_at IS NULL AND EXISTS (
           SELECT 1 FROM signing_keys newer
           WHERE newer.active_from > k.active_from AND newer.active_from < now() - make_interval(secs => $1))`,
          [RETIRE_REPLACED_KEY_AFTER_SECONDS],
        );
        await manager.query(
          'UPDATE signing_keys SET private_jwk = NULL, private_jwk_sealed = NULL WHERE retired_at IS NOT NULL ' +
            'AND (private_jwk IS NOT NULL OR private_jwk_sealed IS NOT NULL)',
        );
        return key;
      }),
    );
  }

  /**
   * Seals the private halves still in plain text (stored before keys were sealed) or sealed with
   * a key-encryption key other than the current one (being rotated out). Inside loadOrRotate's
   * transaction, under its lock.
   */
  private async sealAgain(): Promise<void> {
    const rows = (await this.uow.manager.query(
      'SELECT kid, private_jwk, private_jwk_sealed FROM signing_keys WHERE retired_at IS NULL AND (private_jwk ' +
        'IS NOT NULL OR private_jwk_sealed IS NOT NULL)',
    )) as Array<{ kid: string; private_jwk: JWK | null; private_jwk_sealed: string | null }>;
    for (const row of rows) {
      if (
        row.private_jwk === null &&
        row.private_jwk_sealed !== null &&
        !this.encryption.needsResealing(row.private_jwk_sealed)
      )
        continue;
      const plain =
        row.private_jwk !== null
          ? JSON.stringify(row.private_jwk)
          : this.encryption.open(row.private_jwk_sealed!, row.kid);
      await this.uow.manager.query(
        'UPDATE signing_keys SET private_jwk = NULL, private_jwk_sealed = $2 WHERE kid = $1',
        [row.kid, this.encryption.seal(plain, row.kid)],
      );
    }
  }

  /** A new key, signing `activeInSeconds` from now. */
  private async create(activeInSeconds: number): Promise<SigningKey> {
    const kid = randomUUID();
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALGORITHM };
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    // Called inside loadOrRotate's transaction, so the manager is its. clock_timestamp(), not
    // now(): two rotations within one instant of transaction time must still order.
    await this.uow.manager.query(
      `INSERT INTO signing_keys (kid, algorithm, private_jwk_sealed, public_jwk, created_at, active_from)
       VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + make_interval(secs => $5))`,
      [
        kid,
        SIGNING_ALGORITHM,
        this.encryption.seal(JSON.stringify(privateJwk), kid),
        JSON.stringify(publicJwk),
        activeInSeconds,
      ],
    );
    return { kid, privateKey };
  }
}
