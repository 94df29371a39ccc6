import type { DatabaseConfig } from '@infra/persistence';
import type { Topology } from '@infra/topology';
import type { InstanceSettings } from './instance-settings';
import { InstanceRegistration } from './instance-registration';
import { RegistryWatcher } from './registry-watcher';
import { ServiceRegistry } from './service-registry';

/** One process's part in registry discovery: its own entry, and the instances it calls. */
export interface ProcessDiscovery {
  /** The instances of the registry-discovered targets this process may call; none if it calls none. */
  readonly watcher?: RegistryWatcher;
  /** This instance's entry, when its own target is registry-discovered. */
  readonly registration?: InstanceRegistration;
  /** Enters this instance in the registry: call once it serves. */
  join(): Promise<void>;
  /** Removes this instance's entry: call first on shutdown, so callers stop sending to it. */
  leave(): Promise<void>;
  /** Stops watching and closes the registry's connections: call last. */
  close(): Promise<void>;
}

export interface ProcessDiscoveryOptions {
  readonly topology: Topology;
  readonly target: string;
  /** The process's database settings: the registry lives on the same server. */
  readonly database?: DatabaseConfig;
  readonly instance: InstanceSettings;
  /** `<FICUS_DATABASE_PREFIX>_registry`, as `registryDatabaseName` makes it. */
  readonly registryDatabase: string;
}

/**
 * Opens the registry when the topology finds any target through it (ADR 0030), and nothing
 * otherwise: a static topology (every shipped one, and every Kubernetes one, where the Service
 * name is the address) starts exactly as before.
 */
export async function startProcessDiscovery(options: ProcessDiscoveryOptions): Promise<ProcessDiscovery | undefined> {
  const { topology, target, instance } = options;
  const discovered = topology.isSingleProcess ? [] : topology.discovery.registryTargets;
  if (discovered.length === 0) return undefined;
  if (!options.database) {
    throw new Error(
      `topology ${topology.name} finds ${discovered.join(', ')} through the registry, which lives in ` +
        `PostgreSQL, but ${target} has no database`,
    );
  }
  const registry = await ServiceRegistry.open(options.database, options.registryDatabase);
  const { heartbeatMs, ttlMs } = topology.discovery;
  const called = discovered.filter((name) => name !== target);
  const watcher =
    called.length > 0
      ? new RegistryWatcher(registry, called, { ttlMs, refreshMs: Math.min(heartbeatMs, ttlMs / 2) })
      : undefined;
  try {
    await watcher?.start();
  } catch (error) {
    await registry.close();
    throw error;
  }
  const own = topology.target(target);
  const registration =
    discovered.includes(target) && own.grpc
      ? new InstanceRegistration(
          registry,
          {
            target,
            instanceId: instance.instanceId,
            grpcAddress: `${instance.advertiseHost ?? own.grpc.host}:${own.grpc.port}`,
            httpAddress: `${instance.advertiseHost ?? own.operations.host}:${own.operations.port}`,
          },
          heartbeatMs,
        )
      : undefined;
  return {
    watcher,
    registration,
    join: async () => registration?.join(),
    leave: async () => registration?.leave(),
    close: async () => {
      await watcher?.close();
      await registry.close();
    },
  };
}
