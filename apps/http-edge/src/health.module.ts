import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ProblemFilter } from './problem/problem.filter';
import { HealthController } from './routes/operations.controller';

/** /health and /ready alone, for a service process that hosts modules but not the public API. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
})
export class HealthModule {}
