import { Module } from '@nestjs/common';
import { ALL_CONTRACTS } from '@contracts/all-contracts';
import { FicusModule } from '@infra/runtime';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { AuthGuard } from './auth/auth.guard';
import { LastKnownProductNames } from './fallbacks/product-names';
import { RequestContexts } from './request-context';
import { CatalogController } from './routes/catalog.controller';
import { IdentityController } from './routes/identity.controller';
import { NotificationsController } from './routes/notifications.controller';
import { HealthModule } from './health.module';
import { OperationsController } from './routes/operations.controller';
import { OrdersController } from './routes/orders.controller';

/**
 * The public HTTP API: routes that call contracts, never modules. The monolith composes it with
 * every module in one process; the gateway composes it alone, and the same calls then travel.
 */
@Module({
  imports: [
    HealthModule,
    FicusModule.clients(ALL_CONTRACTS),
  ],
  controllers: [IdentityController, CatalogController, OrdersController, NotificationsController, OperationsController],
  providers: [RequestContexts, AccessTokenVerifier, AuthGuard, LastKnownProductNames],
})
export class HttpEdgeModule {}
