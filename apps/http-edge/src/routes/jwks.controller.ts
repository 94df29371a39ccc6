import { Controller, Get, Inject, Module, Req } from '@nestjs/common';
import type { Request } from 'express';
import { IDENTITY, IdentityContract, type IdentityApi } from '@contracts/identity';
import { FicusModule, settingsProviders } from '@infra/runtime';
import { RequestContexts } from '../request-context';
import { RequestSettings } from '../http-settings';

/**
 * The public keys access tokens are signed with, for anyone who verifies them: clients at the
 * edge, and the services of a split topology, which verify the token the edge relays with each
 * call (ADR 0031) from the process that hosts identity.
 */
@Controller()
export class JwksController {
  constructor(
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
  ) {}

  @Get('.well-known/jwks.json')
  jwks(@Req() request: Request) {
    return this.identity.getJwks(this.contexts.of(request), {});
  }
}

/** The JWKS route alone, for the service process that hosts identity but not the public API. */
@Module({
  imports: [FicusModule.clients([IdentityContract])],
  controllers: [JwksController],
  providers: [...settingsProviders([RequestSettings]), RequestContexts],
})
export class JwksModule {}
