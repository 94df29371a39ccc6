/**
 * The deploy generator (docs/adr/0027-deploy-generator.md, docs/deploy.md): from a topology, the
 * compose file and the Kubernetes objects of every target. Pure functions from topology to files;
 * `writeGeneratedFiles` is the only one that touches the disk.
 */
export { composeFileText, composeServiceText, composeTopologyProblems, type ComposeInputs } from './compose-file';
export { type CanaryOptions, DEFAULT_DEPLOY_OPTIONS, type DeployOptions, deployOptions } from './deploy-options';
export {
  type GeneratedFile,
  type KubernetesGeneration,
  KUSTOMIZATION_FILE,
  kafkaVersionOf,
  kubernetesFiles,
  nodeImageOf,
  writeGeneratedFiles,
} from './deploy-files';
export {
  credentialsOf,
  environmentOf,
  ISTIO_NETWORKING_API,
  type KubernetesObject,
  kubernetesObjectsForTarget,
  MANAGED_BY,
  namesOf,
  namespaceObject,
  selectorOf,
  TOPOLOGY_CONFIG_MAP,
  topologyConfigMap,
  type Track,
} from './kubernetes-manifests';
export { kubernetesTopologyDocument, kubernetesTopologyYaml, type TopologySource } from './kubernetes-topology';
export {
  commandOf,
  contextUrlVariable,
  databasePrefixOf,
  edgeDatabaseOf,
  TLS_DIR,
  tlsFilesOf,
  TOPOLOGY_DIR,
  TOPOLOGY_FILE,
} from './process-layout';
export {
  composeFile,
  loadTopologyForDeploy,
  PROJECT_ROOT,
  SHIPPED,
  shippedDeployFiles,
  shippedImage,
} from './shipped-deploy-files';
