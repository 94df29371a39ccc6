import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadTopology } from '@infra/topology';
import { composeFileText } from './compose-file';
import { type DeployOptions, deployOptions } from './deploy-options';
import { type GeneratedFile, kafkaVersionOf, kubernetesFiles, nodeImageOf } from './deploy-files';
import type { TopologySource } from './kubernetes-topology';

/** The repository root (this file is infra/deploy/generator/). */
export const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');

/** What the repository ships, and from which topology each is generated. */
export const SHIPPED = {
  compose: { topology: 'infra/topology/compose.yaml', file: 'docker-compose.yml' },
  kubernetes: { topology: 'infra/topology/split.yaml', dir: 'infra/deploy/kubernetes' },
} as const;

/**
 * A topology as the generator reads it: with an empty environment, so that what is written never
 * depends on the shell it was generated from (`${VAR:-default}` takes its default).
 */
export function loadTopologyForDeploy(path: string, root = PROJECT_ROOT): TopologySource {
  const absolute = resolve(root, path);
  return {
    topology: loadTopology(absolute, { env: {} }),
    source: relative(root, absolute),
    text: readFileSync(absolute, 'utf8'),
  };
}

/** The image the shipped Kubernetes files run: `ficus:<version of package.json>`. */
export function shippedImage(root = PROJECT_ROOT): string {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return `ficus:${version}`;
}

export function composeFile(topologyPath: string = SHIPPED.compose.topology, root = PROJECT_ROOT): GeneratedFile {
  const { topology, source } = loadTopologyForDeploy(topologyPath, root);
  return {
    path: SHIPPED.compose.file,
    content: composeFileText({ topology, source, kafkaVersion: kafkaVersionOf(root), nodeImage: nodeImageOf(root) }),
    objects: [],
  };
}

/** The files `npm run deploy:generate` writes with no options: what the repository must hold. */
export function shippedDeployFiles(root = PROJECT_ROOT): { compose: GeneratedFile; kubernetes: GeneratedFile[] } {
  const options: DeployOptions = deployOptions({ image: shippedImage(root) });
  return {
    compose: composeFile(SHIPPED.compose.topology, root),
    kubernetes: kubernetesFiles({ ...loadTopologyForDeploy(SHIPPED.kubernetes.topology, root), options }),
  };
}
