import { Logger } from '@nestjs/common';
import { ZodError } from 'zod';
import {
  ContractError,
  deadlineExceeded,
  internalError,
  invalidArgument,
  unavailable,
  accessCheckOf,
  aggregateFieldsOf,
  type CallContext,
  type Contract,
  type ContractMethod,
} from '@contracts/kernel';
import type { ContractImplementation, ContractTransport } from './contract-transport';
import { callerStoppedWaiting } from './caller-abort';
import { whileCallerWaits } from './deadline';
import { inSpan, SpanKind, startSpan, traceIdsOf, tracingRecords, withLogFields } from '@infra/observability';
import { checkRequest, checkRequestText } from './request-check';
import { isTransientFailure, isValueOutOfRange } from './transient-failure';

/**
 * Calls a contract served in this process: a schema check of the request and the answer, the
 * caller's deadline and abort signal, and errors made typed. No serialization: the same objects
 * are handed over.
 */
export class InProcessContractTransport implements ContractTransport {
  readonly kind = 'in-process';
  private readonly logger = new Logger('InProcessContractTransport');
  /** Per contract, per method: its definition and the implementation's function, bound once. */
  private readonly served = new Map<string, Map<string, ServedMethod>>();

  serve(contract: Contract, implementation: ContractImplementation): void {
    if (this.served.has(contract.name)) {
      throw new Error(`${contract.name} is served twice in this process`);
    }
    const methods = new Map<string, ServedMethod>();
    for (const [method, definition] of Object.entries(contract.methods)) {
      const fn = implementation[method];
      if (typeof fn !== 'function') {
        throw new Error(`the implementation of ${contract.name} lacks method ${method}`);
      }
      const what = `${contract.name}/${method}`;
      methods.set(method, {
        definition,
        call: (fn as (ctx: CallContext, request: unknown) => unknown).bind(implementation),
        what,
        refusal: accessCheckOf(definition.access, what),
      });
    }
    this.served.set(contract.name, methods);
  }

  serves(contract: Contract): boolean {
    return this.served.has(contract.name);
  }

  /**
   * A call made inside this process. Its request and answer are checked and its deadline held as
   * for any call; it opens no log scope of its own (its lines carry its caller's), and it makes a
   * span only when spans are recorded (tracing.ts).
   */
  unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    let served: ServedMethod;
    let parsed: unknown;
    try {
      served = this.resolve(contract, method, ctx);
      parsed = checkRequest(served.definition.request, request, served.what);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!tracingRecords()) return this.run(served, ctx, parsed);
    // The serving side's span, in one process as behind gRPC (whose server calls this).
    return inSpan(
      served.what,
      {
        kind: SpanKind.SERVER,
        parent: ctx.traceparent,
        attributes: { 'rpc.service': contract.name, 'rpc.method': method },
      },
      (traceparent) => this.run(served, { ...ctx, traceparent }, parsed),
    );
  }

  /**
   * A call that came from another process (GrpcContractServer): the same as `unary`, and the work
   * enters the process here, so it has a span of its own and its log lines name the serving module
   * and the aggregate the request is about (`<type>_id`, as the method declares it).
   */
  unaryFromAnotherProcess(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    let served: ServedMethod;
    let parsed: unknown;
    let fields: Record<string, string>;
    try {
      served = this.resolve(contract, method, ctx);
      parsed = checkRequest(served.definition.request, request, served.what);
      checkRequestText(parsed, served.what);
      fields = { module: contract.context, ...aggregateFieldsOf(served.definition, parsed) };
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const work = (traceparent: string | undefined) =>
      withLogFields({ ...fields, ...traceIdsOf(traceparent) }, () => this.run(served, { ...ctx, traceparent }, parsed));
    const span = {
      kind: SpanKind.SERVER,
      parent: ctx.traceparent,
      attributes: { 'rpc.service': contract.name, 'rpc.method': method },
      entry: true,
    };
    // No span recorded: only the traceparent the work carries on (a child id in `propagate` mode).
    if (!tracingRecords()) return work(startSpan(served.what, span).traceparent);
    return inSpan(served.what, span, work);
  }

  private async run(served: ServedMethod, ctx: CallContext, parsed: unknown): Promise<unknown> {
    try {
      const answer = await whileCallerWaits(ctx, served.what, () => served.call(ctx, parsed));
      return served.definition.response.parse(answer);
    } catch (error) {
      throw this.typed(error, served.what);
    }
  }

  async *serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    const { definition, call, what } = this.resolve(contract, method, ctx);
    const parsed = checkRequest(definition.request, request, what);
    if (ctx.signal?.aborted) throw callerStoppedWaiting(what); // the implementation is not entered
    try {
      // Checked between items; an implementation that waits for its next one (watchStock) stops
      // on the signal itself.
      for await (const item of call(ctx, parsed) as AsyncIterable<unknown>) {
        if (Date.now() > ctx.deadline) {
          throw deadlineExceeded('deadline-exceeded', `${what}: stream passed the caller's deadline`);
        }
        if (ctx.signal?.aborted) throw callerStoppedWaiting(what);
        yield definition.response.parse(item);
      }
    } catch (error) {
      throw this.typed(error, what);
    }
  }

  /** The served method, once the call's service or end user is one its declared access lets in. */
  private resolve(contract: Contract, method: string, ctx: CallContext): ServedMethod {
    const methods = this.served.get(contract.name);
    if (!methods) {
      throw unavailable('contract-not-served', `${contract.name} is not served in this process`);
    }
    const served = methods.get(method);
    if (!served) {
      throw invalidArgument('unknown-method', `${contract.name} has no method ${method}`);
    }
    const refused = served.refusal?.(ctx);
    if (refused) throw refused;
    return served;
  }

  private typed(error: unknown, what: string): ContractError {
    if (error instanceof ContractError) {
      return error;
    }
    if (isValueOutOfRange(error)) {
      // Logged as an error all the same: a total the serving side computed itself may be its own bug.
      this.logger.error({ err: error, call: what }, `${what}: a number did not fit where it is stored`);
      return invalidArgument('value-out-of-range', `${what}: a value is out of the range it can be stored in`);
    }
    // The database (or another resource) failed for now, not for good: the caller may retry.
    if (isTransientFailure(error)) {
      this.logger.warn({ err: error, call: what }, `${what} failed for now`);
      return unavailable('temporarily-unavailable', `${what} could not complete now; retry shortly`, {
        retryAfterSeconds: 1,
      });
    }
    // Anything else is a bug on the serving side: log it whole here, hand the caller no internals.
    this.logger.error({ err: error, call: what }, `${what} failed unexpectedly`);
    if (error instanceof ZodError) {
      return internalError('invalid-response', `${what} answered outside its contract`);
    }
    return internalError('internal-error', `${what} failed`);
  }
}

interface ServedMethod {
  readonly definition: ContractMethod;
  readonly call: (ctx: CallContext, request: unknown) => unknown;
  readonly what: string;
  /** Undefined for a method open to anyone: no check on its calls at all. */
  readonly refusal?: (ctx: CallContext) => ContractError | undefined;
}
