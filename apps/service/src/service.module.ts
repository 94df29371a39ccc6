import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { HealthModule, HttpEdgeModule, JwksModule, SubgraphServingModule } from '@apps/http-edge';
import { loggerOptions, LoggingSettings } from '@infra/observability';
import { FicusModule, type FicusRootOptions } from '@infra/runtime';

/** The modules of one deploy target, and the public HTTP API when the target is the edge. */
@Module({})
export class ServiceModule {
  /** `servesJwks`: the target hosts identity but not the public API, and publishes its keys itself. */
  static forTarget(options: {
    modules: readonly Type[];
    edge: boolean;
    servesJwks?: boolean;
    root: FicusRootOptions;
  }): DynamicModule {
    return {
      module: ServiceModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(options.root.configuration.get(LoggingSettings))),
        CqrsModule.forRoot(),
        FicusModule.forRoot(options.root),
        ...options.modules,
        options.edge ? HttpEdgeModule : HealthModule,
        // The subgraphs of the contexts it hosts, for a gateway elsewhere to plan over.
        SubgraphServingModule,
        ...(options.servesJwks && !options.edge ? [JwksModule] : []),
      ],
    };
  }
}
