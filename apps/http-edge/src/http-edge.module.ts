import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { CatalogContract } from '@contracts/catalog';
import { IdentityContract } from '@contracts/identity';
import { InventoryContract } from '@contracts/inventory';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { FicusModule } from '@infra/runtime';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { AuthGuard } from './auth/auth.guard';
import { ProblemFilter } from './problem/problem.filter';
import { RequestContexts } from './request-context';
import { CatalogController } from './routes/catalog.controller';
import { IdentityController } from './routes/identity.controller';
import { NotificationsController } from './routes/notifications.controller';
import { OperationsController } from './routes/operations.controller';
import { OrdersController } from './routes/orders.controller';

/**
 * The public HTTP API: routes that call contracts, never modules. The monolith composes it with
 * every module in one process; the gateway composes it alone, and the same calls then travel.
 */
@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    FicusModule.clients([
      CatalogContract,
      InventoryContract,
      OrderingContract,
      PaymentsContract,
      ShippingContract,
      IdentityContract,
      NotificationsContract,
    ]),
  ],
  controllers: [IdentityController, CatalogController, OrdersController, NotificationsController, OperationsController],
  providers: [RequestContexts, AccessTokenVerifier, AuthGuard, { provide: APP_FILTER, useClass: ProblemFilter }],
})
export class HttpEdgeModule {}
