export { bucketOf, holdsFor } from './bucketing';
export {
  checkFlagName,
  defineFlag,
  FLAG_NAME,
  FlagDeclarations,
  flagNameOf,
  type FlagDefinition,
  type FlagRef,
} from './flag-definition';
export {
  FLAG_OFF,
  FLAG_ON,
  FlagStateError,
  formatFlagState,
  parseFlagState,
  percentState,
  sameFlagState,
  type FlagState,
} from './flag-state';
export {
  FLAGS_CHANNEL,
  FLAGS_SCHEMA,
  PostgresFlagStore,
  type FlagChange,
  type StoredDeclaration,
  type StoredFlag,
} from './flag-store';
export { DefaultFlags, Flags, SnapshotFlags } from './flags';
export { FlagsModule, FlagsSettings, type FlagsRootOptions } from './flags.module';
export { LiveFlags, type LiveFlagsOptions } from './live-flags';
