import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ContractError, ERROR_KINDS, type ErrorKind } from '@contracts/kernel';

/** How each typed contract error crosses gRPC: a status code for any gRPC peer, plus ficus's own trailer. */
const STATUS_OF_KIND: Record<ErrorKind, GrpcStatus> = {
  'invalid-argument': GrpcStatus.INVALID_ARGUMENT,
  'not-found': GrpcStatus.NOT_FOUND,
  conflict: GrpcStatus.ABORTED,
  'failed-precondition': GrpcStatus.FAILED_PRECONDITION,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  'permission-denied': GrpcStatus.PERMISSION_DENIED,
  'resource-exhausted': GrpcStatus.RESOURCE_EXHAUSTED,
  unavailable: GrpcStatus.UNAVAILABLE,
  'deadline-exceeded': GrpcStatus.DEADLINE_EXCEEDED,
  cancelled: GrpcStatus.CANCELLED,
  internal: GrpcStatus.INTERNAL,
};

const KIND_OF_STATUS = new Map<GrpcStatus, ErrorKind>([
  [GrpcStatus.INVALID_ARGUMENT, 'invalid-argument'],
  [GrpcStatus.OUT_OF_RANGE, 'invalid-argument'],
  [GrpcStatus.NOT_FOUND, 'not-found'],
  [GrpcStatus.ALREADY_EXISTS, 'conflict'],
  [GrpcStatus.ABORTED, 'conflict'],
  [GrpcStatus.FAILED_PRECONDITION, 'failed-precondition'],
  [GrpcStatus.UNAUTHENTICATED, 'unauthenticated'],
  [GrpcStatus.PERMISSION_DENIED, 'permission-denied'],
  [GrpcStatus.RESOURCE_EXHAUSTED, 'resource-exhausted'],
  [GrpcStatus.UNAVAILABLE, 'unavailable'],
  // A cancellation this caller did not ask for (its own abort never waits for the status: the
  // transport rejects as `cancelled` at once) is the server's or the connection's: retry later.
  [GrpcStatus.CANCELLED, 'unavailable'],
  [GrpcStatus.DEADLINE_EXCEEDED, 'deadline-exceeded'],
  // A method the serving process does not know yet: a newer caller than server (rolling deploy).
  [GrpcStatus.UNIMPLEMENTED, 'failed-precondition'],
]);

/** Trailer carrying the typed error whole (kind, code, message, details) as JSON. */
export const ERROR_TRAILER = 'x-ficus-error';

export function toServiceError(error: ContractError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(ERROR_TRAILER, JSON.stringify(error.toJSON()));
  return { code: STATUS_OF_KIND[error.kind], details: error.message, metadata };
}

/** The same typed error the serving side raised; a plain gRPC failure becomes the nearest kind. */
export function fromServiceError(error: ServiceError, what: string): ContractError {
  const trailer = error.metadata?.get(ERROR_TRAILER)[0];
  if (typeof trailer === 'string') {
    try {
      const parsed = JSON.parse(trailer) as {
        kind: ErrorKind;
        code: string;
        message: string;
        details?: Record<string, unknown>;
      };
      if ((ERROR_KINDS as readonly string[]).includes(parsed.kind)) {
        return ContractError.fromJSON(parsed);
      }
    } catch {
      // fall through to the status code
    }
  }
  const kind = KIND_OF_STATUS.get(error.code) ?? 'internal';
  const code =
    kind === 'unavailable'
      ? 'upstream-unavailable'
      : kind === 'deadline-exceeded'
        ? 'deadline-exceeded'
        : kind === 'internal'
          ? 'internal-error'
          : error.code === GrpcStatus.UNIMPLEMENTED
            ? 'method-not-implemented'
            : `grpc-${GrpcStatus[error.code]?.toLowerCase() ?? error.code}`;
  // grpc-js's own details name addresses, ports and certificates (`connect ECONNREFUSED
  // 10.1.2.3:50051`, a peer's SPIFFE id): the caller's logs keep them (the error's cause), the
  // message a client may be shown does not. Whether this caller ever made a connection is kept
  // apart, on the error itself: it tells a balancer that the call was never sent.
  if (kind === 'unavailable' && error.details?.includes(NO_CONNECTION)) return neverSentError(what, error.details);
  const mapped = new ContractError(kind, code, `${what}: ${GrpcStatus[error.code] ?? String(error.code)}`);
  if (error.details) mapped.cause = new Error(error.details);
  return mapped;
}

/** How grpc-js's details say that no connection to the server was made: the call never left. */
const NO_CONNECTION = 'No connection established';
const NEVER_SENT = Symbol('ficus.neverSent');

/**
 * A call this caller never sent: it found no connection to the server. Marked on the error, not
 * read from its message: a server's own `upstream-unavailable` relayed in the trailer (its call
 * to a third service found no connection) was sent, and its work may have begun.
 */
export function neverSentError(what: string, details?: string): ContractError {
  const error = new ContractError('unavailable', 'upstream-unavailable', `${what}: ${NO_CONNECTION}`);
  if (details) error.cause = new Error(details);
  Object.defineProperty(error, NEVER_SENT, { value: true });
  return error;
}

export function wasNeverSent(error: unknown): boolean {
  return error instanceof ContractError && (error as ContractError & { [NEVER_SENT]?: true })[NEVER_SENT] === true;
}
