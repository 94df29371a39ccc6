/**
 * `ficus extract <context>` as pure functions (docs/migration-guide.md, step 4): the new topology
 * written into the original's text, the new target's deploy files from the one generator
 * (infra/deploy/generator), and what to create now and at `ficus retire`.
 */
export {
  composeFragmentOf,
  extract,
  type Extraction,
  type ExtractionInput,
  KUBERNETES_DIR,
  type NextStep,
} from './extraction';
export {
  DEFAULT_GRPC_HOST,
  ExtractionRefused,
  extractingName,
  planExtraction,
  whose,
  type ExtractionChoices,
  type ExtractionPlan,
} from './extraction-plan';
export {
  eventLinksOfPacts,
  extractionResources,
  type EventLink,
  type ExtractionResources,
  type ResourceNaming,
} from './extraction-resources';
export { defaultGrpcHostOf, extractionTopologyText } from './extraction-topology-text';
