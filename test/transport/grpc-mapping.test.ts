import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ContractError, ERROR_KINDS, type CallContext } from '@contracts/kernel';
import { contextOf, fromServiceError, metadataOf, toServiceError } from '@infra/messaging/grpc';

describe('the call context over gRPC metadata', () => {
  it("arrives whole: story ids, trace context, the end user's token, and the deadline as gRPC carries it", () => {
    const ctx: CallContext = {
      deadline: Date.now() + 1_234,
      correlationId: 'corr',
      causationId: 'cause',
      requestId: 'req',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      credential: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0b21lci0xIn0.c2lnbmF0dXJl',
    };
    expect(contextOf(metadataOf(ctx), new Date(ctx.deadline))).toEqual(ctx);
  });

  it('never carries the caller as plain data: the server takes it from the verified token alone (ADR 0031)', () => {
    const ctx: CallContext = {
      deadline: Date.now() + 1_000,
      correlationId: 'corr',
      caller: { subject: 'customer-1', roles: ['admin'] },
    };
    const metadata = metadataOf(ctx);
    expect(metadata.get('x-ficus-caller')).toEqual([]);
    expect(contextOf(metadata, new Date(ctx.deadline)).caller).toBeUndefined();
  });

  it('gives a call without a deadline the default budget, and ignores a caller that is not one', () => {
    const metadata = new Metadata();
    metadata.set('x-ficus-caller', '{not json');
    const ctx = contextOf(metadata, Infinity, 1_000);
    expect(ctx.deadline).toBe(1_000 + 5_000);
    expect(ctx.caller).toBeUndefined();
    expect(ctx.correlationId).toBe('grpc-1000');
  });
});

describe('typed errors over gRPC status', () => {
  it.each(ERROR_KINDS)('%s goes and comes back as itself', (kind) => {
    const error = new ContractError(kind, `code-of-${kind}`, `message of ${kind}`, { n: 1 });
    const wire = toServiceError(error) as ServiceError;
    expect(wire.code).not.toBe(GrpcStatus.OK);
    const back = fromServiceError(wire, 'x.v1.X/Y');
    expect(back).toBeInstanceOf(ContractError);
    expect(back.toJSON()).toEqual(error.toJSON());
  });

  it('maps a plain gRPC failure (no ficus trailer) to the nearest kind', () => {
    const plain = {
      code: GrpcStatus.UNAVAILABLE,
      details: 'connect ECONNREFUSED',
      metadata: new Metadata(),
    } as ServiceError;
    expect(fromServiceError(plain, 'x.v1.X/Y')).toMatchObject({ kind: 'unavailable', code: 'upstream-unavailable' });
    const unknown = { code: GrpcStatus.UNKNOWN, details: 'boom', metadata: new Metadata() } as ServiceError;
    expect(fromServiceError(unknown, 'x.v1.X/Y')).toMatchObject({ kind: 'internal', code: 'internal-error' });
  });
});
