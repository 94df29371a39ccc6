import 'reflect-metadata';
import { Command, Option } from 'commander';
import { shippedTopologyPath } from '@infra/topology';
import { given } from '@infra/config';
import { runProcess } from './run-process';

/**
 * `ficus-service --target <name> [--topology <file>]`: one process of a topology. The topology
 * file defaults to FICUS_TOPOLOGY, then to the shipped split.yaml.
 */
const program = new Command('ficus-service')
  .description('run the modules of one deploy target of a ficus topology')
  .requiredOption('-t, --target <name>', 'the deploy target to run (a name under targets: in the topology)')
  .addOption(
    new Option('--topology <file>', 'topology YAML file (default: the shipped split.yaml)').env('FICUS_TOPOLOGY'),
  )
  .option(
    '--instance <id>',
    "this instance's id in the service registry (default FICUS_INSTANCE_ID, then <hostname>-<pid>)",
  )
  .option(
    '--canary',
    'run the second version of the target, on the ports of its canary: in the topology (blue/green, canary)',
  )
  .parse();

const {
  target,
  topology: named,
  instance,
  canary,
} = program.opts<{
  target: string;
  topology?: string;
  instance?: string;
  canary?: boolean;
}>();

// An empty FICUS_TOPOLOGY is unset, as every variable (commander takes it as the value '').
const topology = given(named) ?? shippedTopologyPath('split');

runProcess({
  topology,
  target,
  instance,
  canary,
  announce: (running) => {
    const grpc = running.target.grpc && !running.topology.isSingleProcess ? `, gRPC ${running.target.grpc.port}` : '';
    const operations = running.target.edge ? `, operations (/ready, /metrics) ${running.target.operations.port}` : '';
    return (
      `ficus ${running.target.name} (${running.target.modules.join(', ') || 'edge'}) on HTTP ` +
      `${running.target.http.port}${grpc}${operations}`
    );
  },
});
