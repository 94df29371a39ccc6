import { ShadowStore } from '@infra/extraction';
import { PostgresFlagStore } from '@infra/flags';
import type { Topology } from '@infra/topology';
import { openDeploymentDatabase, type DeploymentDatabase } from '../deployment-database';

/** A change or read the console refuses, with the status and code it answers. */
export class ConsoleRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** After a failed open, a store is not tried again for this long, however many pages poll. */
const RETRY_OPEN_MS = 5_000;

/**
 * Each deploy target's stores, on its database as `ficus flags --topology --target` finds it,
 * each opened on first use and kept for the console's life (the Migration and Flags pages share
 * them): the flags (with their log) of every target the Flags page shows, the shadow results only
 * of an extraction's owner. The console never starts the shop's embedded PostgreSQL: it would
 * start it under a restarting shop and stop it on exit.
 */
export class DeploymentStores {
  private readonly opened = new Map<string, Promise<{ close(): Promise<void> }>>();
  private readonly failedAt = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly topology: Topology,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  flagsOf(target: string): Promise<PostgresFlagStore> {
    return this.open(`flags:${target}`, async () => PostgresFlagStore.open((await this.databaseOf(target)).config));
  }

  shadowsOf(target: string): Promise<ShadowStore> {
    return this.open(`shadows:${target}`, async () => ShadowStore.open((await this.databaseOf(target)).config));
  }

  async close(): Promise<void> {
    this.closed = true;
    // Stores before the databases they live on (an embedded server is only ever borrowed, never started).
    const opened = [...this.opened].sort(
      ([a], [b]) => Number(a.startsWith('database:')) - Number(b.startsWith('database:')),
    );
    this.opened.clear();
    for (const [, store] of opened) {
      const open = await store.catch(() => undefined);
      await open?.close().catch(() => undefined);
    }
  }

  private databaseOf(target: string): Promise<DeploymentDatabase> {
    return this.open(`database:${target}`, () =>
      openDeploymentDatabase({ topology: this.topology.source, target }, this.env, { onlyIfRunning: true }),
    );
  }

  /** The store under `key`, opened once; a failed open is tried again a few seconds later. */
  private open<T extends { close(): Promise<void> }>(key: string, opening: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the console is stopping'));
    const known = this.opened.get(key) as Promise<T> | undefined;
    if (known) return known;
    if (Date.now() - (this.failedAt.get(key) ?? 0) < RETRY_OPEN_MS) {
      return Promise.reject(new Error(`opening ${key} failed less than ${RETRY_OPEN_MS / 1000} s ago`));
    }
    const opened = opening();
    this.opened.set(key, opened);
    opened.catch(() => {
      this.opened.delete(key);
      this.failedAt.set(key, Date.now());
    });
    return opened;
  }
}

/** A failure the page is told of in general words: its cause (hosts, roles, paths) goes to the console's output. */
export function logFailure(what: string, error: unknown): void {
  console.error(`ficus console: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
}
