import { Kafka, logLevel } from 'kafkajs';
import { sharedRead } from '@infra/observability';
import type { KafkaCredentials } from '@infra/messaging/kafka';
import type { DependencyCheck, DependencyStatus } from '@infra/runtime';

export interface KafkaBrokerProbeOptions {
  /** The bootstrap brokers, exactly as the process's clients are configured with them. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** The process's broker credentials (TLS, SASL), as its other clients use them. */
  readonly credentials?: KafkaCredentials;
  /** Connecting and asking each take at most this long. */
  readonly timeoutMs?: number;
  /** One answer serves every /ready within this time. */
  readonly cacheMs?: number;
}

/**
 * Is the broker reachable at the configured address? Each probe opens a fresh admin connection
 * to a bootstrap broker and asks it for the cluster's metadata (describeCluster), then closes it.
 * A fresh connection on purpose: a client that stays connected keeps talking to the addresses
 * the broker advertises and says nothing about whether a process starting now, or reconnecting,
 * would reach the broker where it is configured. Answers are shared for `cacheMs` (2 s), so a
 * probe costs one short connection every two seconds at most, however often /ready is asked.
 */
export class KafkaBrokerProbe implements DependencyCheck {
  readonly name = 'kafka';
  readonly gatesReadiness = true;
  readonly check: () => Promise<DependencyStatus>;
  private readonly timeoutMs: number;

  constructor(private readonly options: KafkaBrokerProbeOptions) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.check = sharedRead(() => this.probe(), options.cacheMs ?? 2_000);
  }

  private async probe(): Promise<DependencyStatus> {
    const kafka = new Kafka({
      clientId: this.options.clientId ?? 'ficus-readiness',
      brokers: [...this.options.brokers],
      connectionTimeout: this.timeoutMs,
      requestTimeout: this.timeoutMs,
      enforceRequestTimeout: true,
      // Each bootstrap broker once; one that answers is enough.
      retry: { retries: this.options.brokers.length - 1, initialRetryTime: 50, maxRetryTime: 100 },
      logLevel: logLevel.NOTHING,
      ...this.options.credentials,
    });
    const admin = kafka.admin();
    const asked = (async (): Promise<DependencyStatus> => {
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return { up: true, detail: `up (cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s))` };
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    })();
    const budget = this.timeoutMs * (this.options.brokers.length + 1) + 500;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        asked,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${budget} ms`)), budget);
          timer.unref();
        }),
      ]);
    } catch (error) {
      asked.catch(() => undefined); // it ends on its own (connection and request timeouts)
      return { up: false, detail: `broker not reachable at ${this.options.brokers.join(',')}: ${messageOf(error)}` };
    } finally {
      clearTimeout(timer);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
