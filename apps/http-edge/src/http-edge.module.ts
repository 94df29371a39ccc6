import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ALL_CONTRACTS, ALL_SUBGRAPH_CONTRACTS } from '@contracts/contexts';
import { RunModeSettings } from '@infra/config';
import { FicusModule, settingsProviders } from '@infra/runtime';
import { OpenStreams, StreamSettings } from './admission/stream-admission';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { AuthGuard } from './auth/auth.guard';
import { LastKnownProductNames } from './fallbacks/product-names';
import { GraphqlController } from './graphql/graphql.controller';
import { RequestSettings, VerifierClaimsSettings } from './http-settings';
import { DeadLetterRoutes } from './operations/dead-letter-routes';
import { RequestContexts } from './request-context';
import { CatalogController } from './routes/catalog.controller';
import { DevMailboxController } from './routes/dev-mailbox.controller';
import { IdentityController } from './routes/identity.controller';
import { JwksController } from './routes/jwks.controller';
import { NotificationsController } from './routes/notifications.controller';
import { LivenessController, ProcessHealthModule } from './health.module';
import { ProblemFilter } from './problem/problem.filter';
import { OperationsController } from './routes/operations.controller';
import { OrdersController } from './routes/orders.controller';
import { OrderPlacement } from './routes/place-order';
import { DocsController } from './openapi/docs.controller';
import { RateLimitMiddleware } from './rate-limit/rate-limit.middleware';
import { rateLimiterProvider } from './rate-limit/rate-limiter';

/**
 * The public HTTP API: routes that call contracts, never modules. The monolith composes it with
 * every module in one process; the gateway composes it alone, and the same calls then travel.
 */
@Module({
  // Readiness and metrics are served on the process's operations port (serveOperations), not here.
  imports: [ProcessHealthModule, FicusModule.clients([...ALL_CONTRACTS, ...ALL_SUBGRAPH_CONTRACTS])],
  controllers: [
    LivenessController,
    IdentityController,
    JwksController,
    CatalogController,
    OrdersController,
    GraphqlController,
    NotificationsController,
    OperationsController,
    DocsController,
    DevMailboxController,
  ],
  providers: [
    { provide: APP_FILTER, useClass: ProblemFilter },
    ...settingsProviders([RequestSettings, VerifierClaimsSettings, RunModeSettings, StreamSettings]),
    OpenStreams,
    RequestContexts,
    AccessTokenVerifier,
    DeadLetterRoutes,
    AuthGuard,
    LastKnownProductNames,
    OrderPlacement,
    rateLimiterProvider,
  ],
})
export class HttpEdgeModule implements NestModule {
  /** Every request, unknown routes included (probing them costs a client its budget too). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RateLimitMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
