import { hostname } from 'node:os';
import { z } from 'zod';
import { defineSettings, portNumber, unsetWhenEmpty } from '@infra/config';
import { operationsPortOf, type Topology } from '@infra/topology';

/**
 * What tells one instance of a target from another of the same target: its id in the registry,
 * and the ports it listens on when it does not use the topology's (a second instance on the same
 * machine). Read from the `--instance` flag and the environment.
 */
export interface InstanceSettings {
  readonly instanceId: string;
  readonly grpcPort?: number;
  readonly httpPort?: number;
  /** An edge's operations port (/health, /ready, /metrics); unset, its HTTP port + 1000 when that was given. */
  readonly operationsPort?: number;
  /** `PORT`, the conventional name, honoured by a topology of one process only (every split process would share it). */
  readonly conventionalPort?: number;
  /** The host callers dial this instance at, when it is not the topology's (another machine). */
  readonly advertiseHost?: string;
}

/**
 * `--instance <id>` stands for FICUS_INSTANCE_ID (the host hands the flag in as that variable);
 * without either, `<hostname>-<pid>` (a pod's name in Kubernetes).
 */
export const InstanceSettingsGroup = defineSettings(
  'process: instance',
  {
    FICUS_INSTANCE_ID: z.preprocess(
      unsetWhenEmpty,
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, {
          error: 'must be letters, digits and . _ : - (at most 100), starting with a letter or digit',
        })
        .optional(),
    ),
    FICUS_GRPC_PORT: portNumber(),
    FICUS_HTTP_PORT: portNumber({ listening: true }),
    FICUS_OPERATIONS_PORT: portNumber({ listening: true }),
    PORT: portNumber({ listening: true }),
    FICUS_ADVERTISE_HOST: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  },
  (values): InstanceSettings => ({
    instanceId: values.FICUS_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    grpcPort: values.FICUS_GRPC_PORT,
    httpPort: values.FICUS_HTTP_PORT,
    operationsPort: values.FICUS_OPERATIONS_PORT,
    conventionalPort: values.PORT,
    advertiseHost: values.FICUS_ADVERTISE_HOST,
  }),
);

/** The instance settings `env` and the `--instance` flag give (a tool, a test). */
export function readInstanceSettings(
  env: Readonly<Record<string, string | undefined>>,
  flags: { instance?: string } = {},
): InstanceSettings {
  return InstanceSettingsGroup.read(withInstanceFlag(env, flags.instance));
}

/** The environment with `--instance` standing for FICUS_INSTANCE_ID when given. */
export function withInstanceFlag<E extends Readonly<Record<string, string | undefined>>>(env: E, instance?: string): E {
  return instance === undefined ? env : { ...env, FICUS_INSTANCE_ID: instance };
}

/**
 * The topology as this instance sees it: its own target listening (and reached) on the ports it
 * was given. Other targets are untouched, and so is what other processes read from the file.
 */
export function withInstancePorts(topology: Topology, target: string, settings: InstanceSettings): Topology {
  const httpPort = settings.httpPort ?? (topology.isSingleProcess ? settings.conventionalPort : undefined);
  const operationsPort =
    settings.operationsPort ?? (httpPort === undefined ? undefined : operationsPortOf({ port: httpPort }));
  if (settings.grpcPort === undefined && httpPort === undefined && operationsPort === undefined) return topology;
  return topology.withTarget(target, (deployTarget) => {
    const http = httpPort !== undefined ? { ...deployTarget.http, port: httpPort } : deployTarget.http;
    return {
      ...deployTarget,
      grpc:
        deployTarget.grpc && settings.grpcPort !== undefined
          ? { ...deployTarget.grpc, port: settings.grpcPort, listenPort: settings.grpcPort }
          : deployTarget.grpc,
      http,
      // The edge's operations port beside its public one; any other target's one port serves them.
      operations: deployTarget.edge
        ? operationsPort !== undefined
          ? { ...deployTarget.operations, port: operationsPort }
          : deployTarget.operations
        : http,
    };
  });
}
