import { Logger } from '@nestjs/common';
import type { InstanceAnnouncement, ServiceRegistry } from './service-registry';

/**
 * This process's entry in the registry: joined once it serves, renewed every heartbeat, removed
 * on graceful shutdown. A heartbeat that fails (the database away for a moment) is logged and the
 * next one tries again; the entry outlives two missed heartbeats (the loader insists on
 * ttlMs ≥ 2 × heartbeatMs).
 */
export class InstanceRegistration {
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;

  constructor(
    private readonly registry: ServiceRegistry,
    readonly instance: InstanceAnnouncement,
    private readonly heartbeatMs: number,
  ) {
    this.logger = new Logger(`InstanceRegistration(${instance.target}/${instance.instanceId})`);
  }

  async join(): Promise<void> {
    await this.registry.join(this.instance);
    await this.registry.forgetLongGone().catch(() => 0);
    this.timer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
    this.logger.log(`joined the registry at ${this.instance.grpcAddress}`);
  }

  /** Stops renewing and removes the entry, so callers stop sending before the server closes. */
  async leave(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    await this.registry.leave(this.instance.target, this.instance.instanceId);
  }

  private heartbeat(): void {
    if (this.renewing) return; // the last one is still waiting for the database
    this.renewing = this.registry
      .renew(this.instance)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'heartbeat failed; the next one tries again'))
      .finally(() => (this.renewing = undefined));
  }
}
