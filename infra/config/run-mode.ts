import { defineSettings } from './settings';
import { flag, NODE_ENV } from './variables';

export interface RunMode {
  /** NODE_ENV=production: no development mailbox, no development keys, no fake payments unless allowed. */
  readonly production: boolean;
}

/** Production or development, for every part that behaves differently in production. */
export const RunModeSettings = defineSettings('process: run mode', { NODE_ENV }, (values): RunMode => ({
  production: values.NODE_ENV === 'production',
}));

/**
 * FICUS_DEMO_SEED: whether a context with an empty store seeds the demo shop on its first start
 * (true unless set to false). Read by catalog and inventory, each for its own data.
 */
export const DemoSeedSettings = defineSettings('process: demo data', { FICUS_DEMO_SEED: flag(true) }, (values) => ({
  seed: values.FICUS_DEMO_SEED,
}));
export type DemoSeed = ReturnType<typeof DemoSeedSettings.read>;
