import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ContractError, ERROR_KINDS, type CallContext } from '@contracts/kernel';
import {
  contextOf,
  fromServiceError,
  MAX_CALL_BUDGET_MS,
  metadataOf,
  toServiceError,
  wasNeverSent,
} from '@infra/messaging/grpc';

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

  it("keeps a caller's deadline at most the longest request budget away, and takes only story ids of ficus's shape", () => {
    const weeksAway = contextOf(new Metadata(), 1_000 + 20 * 24 * 3_600_000, 1_000);
    expect(weeksAway.deadline).toBe(1_000 + MAX_CALL_BUDGET_MS);
    expect(contextOf(new Metadata(), 2_000, 1_000).deadline).toBe(2_000); // a nearer one as it is

    const metadata = new Metadata();
    metadata.set('x-correlation-id', 'x'.repeat(60_000));
    metadata.set('x-causation-id', 'with spaces and \\ back/slashes');
    metadata.set('x-request-id', '{"json":true}');
    metadata.set('traceparent', '00-not-a-trace-01');
    const ctx = contextOf(metadata, 2_000, 1_000);
    expect(ctx).toMatchObject({ correlationId: 'grpc-1000', causationId: undefined, requestId: undefined });
    expect(ctx.traceparent).toBeUndefined();
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

  it("keeps grpc-js's details (addresses, certificates) out of the message a client may see, and in the cause", () => {
    const details = [
      'No connection established. Last error: Error: connect ECONNREFUSED 10.1.2.3:50051',
      'connect ECONNREFUSED 10.1.2.3:50051',
      'mutual TLS: inventory-1.ficus.svc presented the certificate of spiffe://ficus/payments',
      'Received RST_STREAM with code 2 triggered by internal client error: Protocol error',
    ];
    for (const [n, detail] of details.entries()) {
      const code = n % 2 === 0 ? GrpcStatus.UNAVAILABLE : GrpcStatus.UNKNOWN;
      const mapped = fromServiceError({ code, details: detail, metadata: new Metadata() } as ServiceError, 'x.v1.X/Y');
      expect(mapped.message).not.toMatch(/10\.1\.2\.3|50051|spiffe|svc|RST_STREAM/);
      expect(mapped.message).toMatch(/^x\.v1\.X\/Y: /);
      expect(String((mapped.cause as Error).message)).toBe(detail); // for the caller's log
      expect(JSON.stringify(mapped.toJSON())).not.toContain('10.1.2.3');
    }
    // A balancer still tells a call that never left (it may go to another instance)...
    const never = { code: GrpcStatus.UNAVAILABLE, details: details[0], metadata: new Metadata() } as ServiceError;
    expect(fromServiceError(never, 'x.v1.X/Y').message).toBe('x.v1.X/Y: No connection established');
    expect(wasNeverSent(fromServiceError(never, 'x.v1.X/Y'))).toBe(true);
    // ...from its own channel's answer only: a server's relayed error of that wording was sent.
    const relayed = toServiceError(
      new ContractError('unavailable', 'upstream-unavailable', 'inventory: No connection established'),
    ) as ServiceError;
    expect(wasNeverSent(fromServiceError(relayed, 'x.v1.X/Y'))).toBe(false);
    expect(wasNeverSent(fromServiceError({ ...never, code: GrpcStatus.UNKNOWN }, 'x.v1.X/Y'))).toBe(false);
  });
});
