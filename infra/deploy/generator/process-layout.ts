import type { DeployTarget, Topology } from '@infra/topology';

/**
 * How a ficus process is laid out in a container, the same in compose and in Kubernetes: which
 * entry point runs a target, and where the topology and the mutual TLS certificates are found.
 */

/** `FICUS_GRPC_TLS_DIR` in a container: `ca.crt`, `<target>.crt`, `<target>.key` (infra/messaging/grpc/grpc-tls.ts). */
export const TLS_DIR = '/etc/ficus/tls';
/** Where Kubernetes mounts the generated topology (a ConfigMap); compose reads the one in the image. */
export const TOPOLOGY_DIR = '/etc/ficus/topology';
export const TOPOLOGY_FILE = 'topology.yaml';

/** The command of a target's container: the gateway entry point for the edge, the service host otherwise. */
export function commandOf(target: DeployTarget): string[] {
  return target.edge
    ? ['node', 'dist/apps/gateway/src/main.js']
    : ['node', 'dist/apps/service/src/main.js', '--target', target.name];
}

/** The CA's certificate in `TLS_DIR`, which every target trusts. */
export const CA_FILE = 'ca.crt';

/** The files of `TLS_DIR` that a target reads (`loadGrpcTls`). */
export function tlsFilesOf(target: string): { readonly ca: string; readonly cert: string; readonly key: string } {
  return { ca: CA_FILE, cert: `${target}.crt`, key: `${target}.key` };
}

/**
 * The `FICUS_DATABASE_PREFIX` the topology's databases were named with (`<prefix>_<target>`):
 * the bare edge names its rate-limit database `<prefix>_edge` from that variable
 * (apps/service/src/run-target.ts), so it must agree with the topology's names. `ficus` when the
 * topology names no database that way.
 */
export function databasePrefixOf(topology: Topology): string {
  for (const target of topology.targets) {
    if (target.database.kind !== 'name') continue;
    const suffix = `_${target.name.replace(/-/g, '_')}`;
    if (target.database.name.endsWith(suffix) && target.database.name.length > suffix.length)
      return target.database.name.slice(0, -suffix.length);
  }
  return 'ficus';
}

/** The database of the edge's rate-limit counters, when the edge hosts no module (ADR 0022). */
export function edgeDatabaseOf(topology: Topology): string | undefined {
  const edge = topology.edgeTarget();
  return edge.modules.length === 0 && !topology.isSingleProcess ? `${databasePrefixOf(topology)}_edge` : undefined;
}

/** `DATABASE_URL_<CONTEXT>`, the variable that gives one context a database URL of its own. */
export function contextUrlVariable(module: string): string {
  return `DATABASE_URL_${module.toUpperCase().replace(/-/g, '_')}`;
}
