import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChannelListener } from '@infra/persistence';
import type { FlagDeclarations } from './flag-definition';
import { formatFlagState, type FlagState } from './flag-state';
import { FLAGS_CHANNEL, type PostgresFlagStore, type StoredFlag } from './flag-store';
import { SnapshotFlags } from './flags';

export interface LiveFlagsOptions {
  /** The periodic re-read that catches a change whose NOTIFY was lost (e.g. while reconnecting). */
  readonly refreshMs: number;
  /** Who declares, in flag_declarations: this process. */
  readonly processName: string;
}

/**
 * Flags read from a snapshot of the store that follows it at run time: LISTEN wakes it when a
 * change commits, and a periodic re-read covers wake-ups lost while the LISTEN connection was
 * down. Each change this process picks up is logged with who made it. When the store cannot be
 * read, the last snapshot stays in force.
 */
export class LiveFlags extends SnapshotFlags implements OnApplicationBootstrap, OnApplicationShutdown {
  private seen = new Map<string, StoredFlag>();
  private listener?: ChannelListener;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = true;

  constructor(
    readonly store: PostgresFlagStore,
    declarations: FlagDeclarations,
    private readonly options: LiveFlagsOptions,
  ) {
    super(declarations);
  }

  /** Reads the store once and starts following it. */
  async start(): Promise<void> {
    this.stopped = false;
    this.listener = new ChannelListener({
      url: this.store.connectionUrl,
      channel: FLAGS_CHANNEL,
      applicationName: 'ficus:flags-listen',
      logger: this.logger,
      gapCoveredBy: 'the periodic re-read',
      onNotification: () => void this.refresh(),
      onReconnected: () => void this.refresh(),
    });
    await this.listener.start(); // before the first read: a change committed in between still wakes us
    await this.reload(false);
    this.timer = setInterval(() => this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  /** Modules register their declarations while initialising; the store learns them once all have. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.store.declare(this.declarations.all(), this.options.processName);
    } catch (error) {
      // Only listings need the declarations; reading flags does not: start anyway.
      this.logger.warn({ err: error }, 'flag declarations could not be recorded; `ficus flags list` may miss some');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.listener?.stop();
    this.listener = undefined;
    await this.store.close();
  }

  /** Re-reads the store now (coalescing with a read already under way); resolves when done. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reload(true).catch((error: unknown) =>
          this.logger.warn({ err: error }, 'flags could not be re-read; the last snapshot stays in force'),
        );
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reload(logChanges: boolean): Promise<void> {
    const rows = await this.store.states();
    const next = new Map(rows.map((row) => [row.name, row]));
    if (logChanges) {
      for (const row of rows) {
        const before = this.seen.get(row.name);
        if (!before || before.changeId !== row.changeId) this.logChange(row, before?.state);
      }
    }
    this.seen = next;
    this.stored = new Map<string, FlagState>(rows.map((row) => [row.name, row.state]));
  }

  private logChange(row: StoredFlag, before: FlagState | undefined): void {
    const from = before ? formatFlagState(before) : `unset (${formatFlagState(this.state(row.name))})`;
    this.logger.log(
      { flag: row.name, from, to: formatFlagState(row.state), by: row.updatedBy, changeId: row.changeId },
      `flag ${row.name} changed: ${from} → ${formatFlagState(row.state)} (by ${row.updatedBy})`,
    );
  }
}
