import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { httpEdgeAdapter, setUpHttpEdge } from '@apps/http-edge';
import type { FicusRootOptions } from '@infra/runtime';
import { MonolithModule } from './monolith.module';

/** Builds the whole shop as one Nest application (not yet listening). */
export async function createMonolith(options: FicusRootOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(MonolithModule.forRoot(options), httpEdgeAdapter(), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  setUpHttpEdge(app);
  return app;
}
