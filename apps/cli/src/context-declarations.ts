import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODULES } from '@apps/service';
import { CONTEXT_CONTRACTS } from '@contracts/contexts';
import type { BoundedContext } from '@contracts/kernel';
import { eventKeyOf, type ContextDeclaration } from '@infra/module-graph';
import { declaredContexts } from '@infra/runtime';

/**
 * Every context of this build as it declares itself: `FicusModule.forContext` (serves, uses,
 * consumes), registered when its module is loaded (`MODULES` loads them all), and what its
 * contract package publishes (`CONTEXT_CONTRACTS`). `ficus graph` and `ficus plan` build on it,
 * so a declaration made with a variable, a spread or a helper counts as much as a literal.
 */
export function contextDeclarations(root: string): ContextDeclaration[] {
  const declared = declaredContexts();
  return (Object.keys(MODULES) as BoundedContext[]).map((context) => {
    const declaration = declared.get(context);
    if (!declaration) throw new Error(`${context}: its module declares nothing (FicusModule.forContext)`);
    const subgraph = CONTEXT_CONTRACTS[context].subgraph;
    return {
      name: context,
      serves: declaration.serves ? [declaration.serves[0].name] : [],
      ...(subgraph ? { subgraph: subgraph.contract.name } : {}),
      uses: (declaration.uses ?? []).map((contract) => ({ context: contract.context, contract: contract.name })),
      consumes: (declaration.consumes ?? []).map(([event]) => ({ context: event.context, event: eventKeyOf(event) })),
      publishes: CONTEXT_CONTRACTS[context].events.map(eventKeyOf),
      site: declarationSite(root, context),
    };
  });
}

/** The module file of a context, at the line of its `forContext(` (line 1 when it is not found there). */
function declarationSite(root: string, context: string): { file: string; line: number } {
  const file = `modules/${context}/src/${context}.module.ts`;
  let text = '';
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    return { file, line: 1 };
  }
  const at = text.indexOf('forContext(');
  return { file, line: at < 0 ? 1 : text.slice(0, at).split('\n').length };
}
