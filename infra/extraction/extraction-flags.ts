import { requestAggregateIdOf, type Contract } from '@contracts/kernel';
import { defineFlag, type FlagDefinition, type FlagState } from '@infra/flags';

/**
 * The run-time switches of an extraction, flags of the owning deployment (infra/flags), so that
 * `ficus shift` and `ficus shadow` change them without a restart and every change is logged:
 * - `shift.<context>`: the share of the owner's calls of the context sent to the extracted copy;
 * - `shift.<context>.sticky`: keep every call about one aggregate (an order, a product) on one copy;
 * - `shadow.<context>`: also ask the extracted copy the reads served in-process, and compare.
 */
export const shiftFlagOf = (context: string) => `shift.${context}`;
export const stickyFlagOf = (context: string) => `shift.${context}.sticky`;
export const shadowFlagOf = (context: string) => `shadow.${context}`;

export function extractionFlags(context: string, extractedTarget: string): FlagDefinition[] {
  return [
    defineFlag({
      name: shiftFlagOf(context),
      default: 0,
      description: `share of calls of ${context} sent to the extracted target ${extractedTarget} (ficus shift)`,
    }),
    defineFlag({
      name: stickyFlagOf(context),
      default: 'off',
      description: `keep all calls about one aggregate of ${context} on one copy while shifting`,
    }),
    defineFlag({
      name: shadowFlagOf(context),
      default: 'off',
      description: `also send ${context}'s reads to ${extractedTarget} and compare the answers (ficus shadow)`,
    }),
  ];
}

/** A route's share from its flag: on is every call, off none, a percentage its share. */
export function shareOf(state: FlagState): number {
  return state.kind === 'on' ? 100 : state.kind === 'off' ? 0 : state.percent;
}

/**
 * The aggregate a request is about, for sticky shifting, as its contract method declares it
 * (`aggregate: { type, of }`). Undefined: the method is about no one aggregate, or the request
 * names none.
 */
export function aggregateIdOf(contract: Contract, method: string, request: unknown): string | undefined {
  return requestAggregateIdOf(contract.methods[method], request);
}
