import 'reflect-metadata';
import { Command, Option } from 'commander';
import { runProcess } from '@apps/service';
import { loadTopology, shippedTopologyPath } from '@infra/topology';

/**
 * `ficus-gateway [--topology <file>]`: the public HTTP API with no module inside; every route's
 * contract calls travel to the services over gRPC. It is the topology's edge target.
 */
const program = new Command('ficus-gateway')
  .description('run the HTTP edge of a ficus topology')
  .addOption(
    new Option('--topology <file>', 'topology YAML file').env('FICUS_TOPOLOGY').default(shippedTopologyPath('split')),
  )
  .parse();

const { topology } = program.opts<{ topology: string }>();

runProcess({
  topology,
  target: loadTopology(topology).edgeTarget().name,
  announce: (running) => `ficus gateway on ${running.url}; /ready and /metrics on ${running.operationsUrl}`,
});
