import { Global, Module, type DynamicModule } from '@nestjs/common';
import { hostname } from 'node:os';
import { defineSettings, wholeNumber } from '@infra/config';
import type { DatabaseConfig } from '@infra/persistence';
import { FlagDeclarations, type FlagDefinition } from './flag-definition';
import { PostgresFlagStore } from './flag-store';
import { DefaultFlags, Flags } from './flags';
import { LiveFlags } from './live-flags';

/** How often each process re-reads its flags besides being woken by NOTIFY. */
export const FlagsSettings = defineSettings(
  'process: feature flags',
  { FICUS_FLAGS_REFRESH_MS: wholeNumber({ min: 100, max: 3_600_000, default: 5_000, unit: 'milliseconds' }) },
  (values) => ({ refreshMs: values.FICUS_FLAGS_REFRESH_MS }),
);

export interface FlagsRootOptions {
  /** The process's database; its `flags` schema holds the flags. Absent: declared defaults only. */
  readonly database?: DatabaseConfig;
  /** From {@link FlagsSettings} in a process; a test may give its own. */
  readonly refreshMs: number;
}

/**
 * `Flags`, injectable everywhere in the process (FicusModule.forRoot imports this), in every
 * topology alike: a module reads its flags without knowing which deployment owns them.
 */
@Global()
@Module({})
export class FlagsModule {
  static forRoot(options: FlagsRootOptions): DynamicModule {
    return {
      module: FlagsModule,
      global: true,
      providers: [
        { provide: FlagDeclarations, useValue: new FlagDeclarations() },
        {
          provide: Flags,
          inject: [FlagDeclarations],
          useFactory: async (declarations: FlagDeclarations): Promise<Flags> => {
            if (!options.database) return new DefaultFlags(declarations);
            const store = await PostgresFlagStore.open(options.database);
            const flags = new LiveFlags(store, declarations, {
              refreshMs: options.refreshMs,
              processName: `${hostname()}:${process.pid}`,
            });
            try {
              await flags.start();
            } catch (error) {
              await flags.stop();
              throw error;
            }
            return flags;
          },
        },
      ],
      exports: [Flags, FlagDeclarations],
    };
  }

  /** The flags a module declares: listed by `ficus flags list`, their defaults in force until set. */
  static forFeature(definitions: readonly FlagDefinition[]): DynamicModule {
    return {
      module: FlagsFeatureModule,
      providers: [
        {
          provide: FlagsFeatureModule.declared(definitions),
          inject: [FlagDeclarations],
          useFactory: (declarations: FlagDeclarations) => {
            declarations.add(definitions);
            return definitions;
          },
        },
      ],
    };
  }
}

@Module({})
class FlagsFeatureModule {
  /** A token of its own per call, so that two modules' declarations never replace each other. */
  static declared(definitions: readonly FlagDefinition[]): symbol {
    return Symbol(`flags:${definitions.map((d) => d.name).join(',')}`);
  }
}
