import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { HttpEdgeModule } from '@apps/http-edge';
import { CatalogModule } from '@modules/catalog';
import { IdentityModule } from '@modules/identity';
import { InventoryModule } from '@modules/inventory';
import { NotificationsModule } from '@modules/notifications';
import { OrderingModule } from '@modules/ordering';
import { PaymentsModule } from '@modules/payments';
import { ShippingModule } from '@modules/shipping';
import { FicusModule, type FicusRootOptions } from '@infra/runtime';
import { loggerOptions } from '@infra/observability';

/** Every bounded context and the HTTP edge, in one process. */
@Module({})
export class MonolithModule {
  static forRoot(options: FicusRootOptions): DynamicModule {
    return {
      module: MonolithModule,
      imports: [
        LoggerModule.forRoot(loggerOptions()),
        CqrsModule.forRoot(),
        FicusModule.forRoot(options),
        CatalogModule,
        InventoryModule,
        OrderingModule,
        PaymentsModule,
        ShippingModule,
        IdentityModule,
        NotificationsModule,
        HttpEdgeModule,
      ],
    };
  }
}
