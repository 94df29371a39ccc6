import type { BoundaryViolation } from './source-checks';
import type { SourceFile } from './source-tree';
import { calleePath, parseSource, propertyOf, ts } from './typescript-source';

/** The grants a method's `access` may name (contracts/kernel/method-access.ts). */
const GRANTS = new Set(['anyone', 'roles', 'owner', 'services']);

export const CONTRACT_ACCESS_RULE = {
  'contract-method-without-access': {
    fix:
      "Say who may call it in the method's options: `access: { anyone: true }`, `{ roles: ['admin'] }`, `{ " +
      "owner: true }` or `{ services: ['<context>'] }` (docs/security.md, ADR 0038); the serving side refuses " +
      'every other caller.',
  },
} as const;

/**
 * Every method of every contract (`defineContract(…, { method: unary(…, { access }) })` in
 * `contracts/<context>/`) declares who may call it, with at least one grant. The compiler asks for
 * `access` already; this catches what it cannot: an empty declaration, a cast, a tree that does
 * not build. Read from source, as the rest of `ficus verify` is.
 */
export function checkContractAccess(files: readonly SourceFile[]): BoundaryViolation[] {
  const violations: BoundaryViolation[] = [];
  for (const file of files) {
    const folder = /^contracts\/([^/]+)\//.exec(file.path)?.[1];
    if (!folder || folder === 'kernel' || folder === 'generated' || folder === 'released') continue;
    const source = parseSource(file);
    const each = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && calleePath(node)?.join('.') === 'defineContract') {
        const contract = node.arguments[1] && ts.isStringLiteral(node.arguments[1]) ? node.arguments[1].text : folder;
        const methods = node.arguments[2];
        if (methods && ts.isObjectLiteralExpression(methods)) {
          for (const property of methods.properties) {
            const problem = ts.isPropertyAssignment(property)
              ? accessProblemOf(property.initializer, source.tree)
              : undefined;
            if (!problem) continue;
            violations.push({
              rule: 'contract-method-without-access',
              file: file.path,
              line: source.lineOf(property),
              problem: `${contract}/${property.name?.getText(source.tree) ?? '?'} ${problem}`,
              fix: CONTRACT_ACCESS_RULE['contract-method-without-access'].fix,
            });
          }
        }
      }
      ts.forEachChild(node, each);
    };
    each(source.tree);
  }
  return violations;
}

/** What is wrong with the access of `unary(req, res, options)` or `serverStream(req, res, options)`. */
function accessProblemOf(method: ts.Expression, tree: ts.SourceFile): string | undefined {
  if (!ts.isCallExpression(method)) return undefined;
  const kind = calleePath(method)?.join('.');
  if (kind !== 'unary' && kind !== 'serverStream') return undefined;
  const options = method.arguments[2];
  if (!options) return 'declares no access: it has no options at all';
  if (!ts.isObjectLiteralExpression(options)) return undefined; // built elsewhere: the compiler checks it
  const access = propertyOf(options, 'access');
  if (!access) return 'declares no access';
  if (!ts.isObjectLiteralExpression(access)) return undefined;
  const grants = access.properties.filter((grant) => grant.name !== undefined && GRANTS.has(grant.name.getText(tree)));
  return grants.length === 0 ? 'declares an empty access: it names none of anyone, roles, owner, services' : undefined;
}
