import 'reflect-metadata';
import { Command } from 'commander';
import { pino } from 'pino';
import { runTarget } from '@apps/service';
import { loadTopology, shippedTopologyPath } from '@infra/topology';

/**
 * `ficus-gateway [--topology <file>]`: the public HTTP API with no module inside; every route's
 * contract calls travel to the services over gRPC. It is the topology's edge target.
 */
const program = new Command('ficus-gateway')
  .description('run the HTTP edge of a ficus topology')
  .option('--topology <file>', 'topology YAML file', process.env.FICUS_TOPOLOGY ?? shippedTopologyPath('split'))
  .parse();

const { topology } = program.opts<{ topology: string }>();
const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const edge = loadTopology(topology).edgeTarget();

runTarget({ topologyPath: topology, target: edge.name, log }).then(
  (running) => {
    log.info(`ficus gateway on http://localhost:${running.target.http.port}`);
    const stop = () => void running.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (error: unknown) => {
    log.fatal({ err: error }, 'ficus gateway failed to start');
    process.exit(1);
  },
);
