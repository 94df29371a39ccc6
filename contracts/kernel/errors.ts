/**
 * Typed errors that a contract method may raise. They carry a stable `code` (part of the
 * contract, shown to API users) and a `kind` that every transport maps the same way: the HTTP
 * edge to a status, gRPC to a status code and back, so a caller sees the same error in every mode.
 */
export const ERROR_KINDS = [
  'invalid-argument',
  'not-found',
  'conflict',
  'failed-precondition',
  'unauthenticated',
  'permission-denied',
  'resource-exhausted',
  'unavailable',
  'deadline-exceeded',
  /** The caller stopped waiting (its call context's signal aborted): nobody reads the answer. */
  'cancelled',
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ContractErrorDetails {
  readonly [key: string]: unknown;
}

export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: ContractErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { kind: ErrorKind; code: string; message: string; details: ContractErrorDetails } {
    return { kind: this.kind, code: this.code, message: this.message, details: this.details };
  }

  static fromJSON(value: {
    kind: ErrorKind;
    code: string;
    message: string;
    details?: ContractErrorDetails;
  }): ContractError {
    return new ContractError(value.kind, value.code, value.message, value.details ?? {});
  }

  /** Whether trying the same call again later may succeed. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'deadline-exceeded' || this.kind === 'resource-exhausted';
  }
}

export function isContractError(error: unknown): error is ContractError {
  return error instanceof ContractError;
}

export const invalidArgument = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('invalid-argument', code, message, details);
export const notFound = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('not-found', code, message, details);
export const conflict = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('conflict', code, message, details);
export const failedPrecondition = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('failed-precondition', code, message, details);
export const unauthenticated = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('unauthenticated', code, message, details);
export const permissionDenied = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('permission-denied', code, message, details);
export const unavailable = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('unavailable', code, message, details);
export const deadlineExceeded = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('deadline-exceeded', code, message, details);
export const cancelled = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('cancelled', code, message, details);
export const internalError = (code: string, message: string, details?: ContractErrorDetails): ContractError =>
  new ContractError('internal', code, message, details);
