import type { Logger } from '@nestjs/common';
import { Client } from 'pg';

export interface ChannelListenerOptions {
  /** The connection to LISTEN on (a role of the reader's own). */
  readonly url: string;
  readonly channel: string;
  readonly applicationName?: string;
  /** Where a lost connection is reported, and what covers the gap until it is back. */
  readonly logger: Logger;
  readonly gapCoveredBy: string;
  /** Each notification on the channel, with its payload. */
  readonly onNotification: (payload: string | undefined) => void;
  /** The connection is back after it was lost: notifications sent meanwhile are gone, read again. */
  readonly onReconnected: () => void;
}

/**
 * One PostgreSQL LISTEN connection, kept open: when it drops it is reconnected with backoff
 * (250 ms doubling to 10 s) until it works again or `stop()`. The outbox relay, the feature flags
 * and the discovery registry each wake on it, and each re-reads on a timer besides, for the
 * notifications a reconnect loses.
 */
export class ChannelListener {
  private client?: Client;
  private stopped = false;

  constructor(private readonly options: ChannelListenerOptions) {}

  /** Connects and listens; rejects when that fails (`reconnect()` then keeps trying in the background). */
  async start(): Promise<void> {
    const { url, channel, applicationName, logger, gapCoveredBy } = this.options;
    const client = new Client({
      connectionString: url,
      ...(applicationName ? { application_name: applicationName } : {}),
    });
    client.on('notification', (message) => this.options.onNotification(message.payload));
    client.on('error', (error) => {
      logger.warn({ err: error }, `LISTEN ${channel} connection lost; reconnecting (${gapCoveredBy} covers the gap)`);
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      this.reconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  /** Tries again with backoff until the connection listens or the listener stops. */
  reconnect(attempt = 0): void {
    if (this.stopped) return;
    const delay = Math.min(10_000, 250 * 2 ** attempt);
    setTimeout(() => {
      if (this.stopped) return;
      this.start().then(
        () => this.options.onReconnected(),
        () => this.reconnect(attempt + 1),
      );
    }, delay).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
