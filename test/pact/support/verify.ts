import { Verifier, type VerifierOptions } from '@pact-foundation/pact';
import type { EventDefinition, PayloadOf } from '@contracts/kernel';
import { eventMetadata } from './consumed-events';

/**
 * Runs the Pact verifier (pact_ffi, in this process) over pact files, without a broker: it reads
 * the files, asks the given producers for each message (or the given HTTP provider for each
 * request), and resolves with its report, or rejects with an error whose message is the report's
 * JSON, mismatches and field paths included.
 */
export function verifyPacts(options: VerifierOptions & { provider: string; pactUrls: string[] }): Promise<string> {
  return new Verifier({ logLevel: 'error', failIfNoPactsFound: true, ...options }).verifyProvider();
}

/** A produced event as the verifier wants it: the payload, with its type and version beside it. */
export function producedEvent(type: string, version: number, payload: unknown) {
  return { __pactMessageMetadata: eventMetadata({ type, version }), message: payload };
}

/** An event built by the contract's own factory (`definition.create`), as a producer hands it over. */
export function builtEvent<E extends EventDefinition>(definition: E, payload: PayloadOf<E>) {
  const envelope = definition.create(payload, { correlationId: 'pact' });
  return producedEvent(envelope.type, envelope.version, envelope.payload);
}
