import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { issueLocalCertificates } from './local-ca';

/**
 * `npm run certs [-- --topology <file>] [--dir <folder>]`: a local certificate authority and a
 * certificate per deploy target of the topology (split.yaml by default) for mutual TLS between
 * ficus processes, in .data/certs. Set FICUS_GRPC_TLS_DIR to that folder to turn it on
 * (`npm run start:split` does both by itself). A production deployment issues the same kind of
 * certificates (SPIFFE ID `spiffe://ficus.local/target/<name>` in the subject alternative names)
 * from its own CA, e.g. cert-manager or SPIRE.
 */
const program = new Command('certs')
  .option('--topology <file>', 'topology YAML file', shippedTopologyPath('split'))
  .option('--dir <folder>', 'where the CA and the certificates go', resolve(__dirname, '../../../.data/certs'))
  .parse();

const { topology: topologyPath, dir } = program.opts<{ topology: string; dir: string }>();
const topology = loadTopology(topologyPath);
const hosts = new Set(['localhost', '127.0.0.1', ...topology.targets.flatMap((t) => (t.grpc ? [t.grpc.host] : []))]);

issueLocalCertificates(
  dir,
  topology.targets.map((t) => t.name),
  [...hosts],
).then(
  () =>
    process.stdout.write(
      `certs: CA and ${topology.targets.length} certificates ` +
        `(${topology.targets.map((t) => t.name).join(', ')}) in ${dir}\n`,
    ),
  (error: unknown) => {
    process.stderr.write(`certs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
