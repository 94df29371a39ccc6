import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { permissionDenied, type Caller } from '@contracts/kernel';
import { AccessTokenVerifier } from './access-token.verifier';

const ROLES_KEY = 'ficus:roles';

/** The route needs a signed-in caller with one of these roles (any signed-in caller when empty). */
export const RequireRoles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

export type AuthenticatedRequest = Request & { caller?: Caller };

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (roles === undefined) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const caller = await this.verifier.verify(request.headers.authorization);
    if (roles.length > 0 && !roles.some((role) => caller.roles.includes(role))) {
      throw permissionDenied('forbidden', 'this route needs the role ' + roles.join(' or '));
    }
    request.caller = caller;
    return true;
  }
}
