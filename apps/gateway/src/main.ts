import 'reflect-metadata';
import { Command, Option } from 'commander';
import { runProcess } from '@apps/service';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { given } from '@infra/config';

/**
 * `ficus-gateway [--topology <file>]`: the public HTTP API with no module inside; every route's
 * contract calls travel to the services over gRPC. It is the topology's edge target.
 */
const program = new Command('ficus-gateway')
  .description('run the HTTP edge of a ficus topology')
  .addOption(
    new Option('--topology <file>', 'topology YAML file (default: the shipped split.yaml)').env('FICUS_TOPOLOGY'),
  )
  .parse();

// An empty FICUS_TOPOLOGY is unset, as every variable (commander takes it as the value '').
const topology = given(program.opts<{ topology?: string }>().topology) ?? shippedTopologyPath('split');

runProcess({
  topology,
  target: loadTopology(topology).edgeTarget().name,
  announce: (running) => `ficus gateway on ${running.url}; /ready and /metrics on ${running.operationsUrl}`,
});
