import type { BoundedContext } from './bounded-contexts';
import type { CallContext } from './call-context';
import { permissionDenied, unauthenticated, type ContractError } from './errors';

/**
 * A process that calls a contract without an end user: a bounded context (its saga steps,
 * its reads), the HTTP edge (before anyone signed in), or the operator's `ficus` command.
 */
export type CallingService = BoundedContext | 'edge' | 'operator';

/** The roles an end user's access token carries. */
export type EndUserRole = 'customer' | 'admin';

/**
 * Who may call a contract method (issue 15, ADR 0038). Every method declares it; the serving side
 * checks it before the method runs, in one process and behind gRPC alike, so a caller that skips
 * the edge gains nothing. A call is let through when any one of the declared grants fits.
 */
export interface MethodAccess {
  /** Anyone the topology lets reach the context, signed in or not: public reads, signing in. */
  readonly anyone?: true;
  /** An end user holding one of these roles. */
  readonly roles?: readonly EndUserRole[];
  /**
   * The end user the resource belongs to (an admin too): the check here is only that there is an
   * end user; the method finds the resource and refuses another's, as `mayActFor` says.
   */
  readonly owner?: true;
  /** These services, without an end user (the calling module, vouched for by its certificate). */
  readonly services?: readonly CallingService[];
}

/** Why a method's declaration lets nobody in, or undefined when it is well formed. */
export function accessDeclarationProblem(access: MethodAccess | undefined): string | undefined {
  if (!access) return 'declares no access: say who may call it (anyone, roles, owner or services)';
  const grants = [
    access.anyone === true,
    (access.roles?.length ?? 0) > 0,
    access.owner === true,
    (access.services?.length ?? 0) > 0,
  ];
  if (!grants.some(Boolean)) return 'declares an empty access: name at least one of anyone, roles, owner or services';
  if (access.anyone && grants.filter(Boolean).length > 1)
    return 'declares anyone beside narrower grants: anyone already lets every caller in';
  return undefined;
}

/**
 * The check of one method's declaration, made once when the method is served: undefined when the
 * call may go on, else the error that refuses it. `anyone` compiles to no check at all.
 */
export function accessCheckOf(
  access: MethodAccess,
  what: string,
): ((ctx: CallContext) => ContractError | undefined) | undefined {
  if (access.anyone) return undefined;
  const services = new Set<string>(access.services ?? []);
  const roles = access.roles ?? [];
  const endUsers = access.owner === true || roles.length > 0;
  return (ctx) => {
    if (ctx.service !== undefined && services.has(ctx.service)) return undefined;
    const caller = ctx.caller;
    if (caller && (access.owner || roles.some((role) => caller.roles.includes(role)))) return undefined;
    if (!caller && endUsers) {
      return unauthenticated('end-user-required', `${what} is called on behalf of a signed-in user`);
    }
    return permissionDenied(
      'caller-not-allowed',
      `${what} may not be called by ${caller ? 'this user' : (ctx.service ?? 'an unnamed caller')}`,
    );
  };
}

/** Whether the call's end user may act on what `ownerId` owns: it is theirs, or they are an admin. */
export function mayActFor(ctx: CallContext, ownerId: string | undefined): boolean {
  const caller = ctx.caller;
  if (!caller) return false;
  return caller.roles.includes('admin') || (ownerId !== undefined && caller.subject === ownerId);
}
