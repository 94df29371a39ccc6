import type { SourceFile } from './source-tree';
import { calleePath, parseSource, stringValue, ts } from './typescript-source';

/** A contract as its source declares it: `defineContract('<context>', '<name>', { methods })`. */
export interface DeclaredContract {
  readonly context: string;
  readonly name: string;
  readonly exportName: string;
  readonly methods: readonly string[];
}

/** An integration event as its source declares it: `event('<context>.<name>', version, …)`. */
export interface DeclaredEvent {
  readonly context: string;
  readonly type: string;
  readonly version: number;
  readonly exportName: string;
}

export type ContractExport =
  | { readonly kind: 'contract'; readonly contract: DeclaredContract }
  | { readonly kind: 'token'; readonly contract: DeclaredContract }
  | { readonly kind: 'event'; readonly event: DeclaredEvent };

/**
 * What `contracts/<context>/` publishes, read from its source: contracts (and their methods),
 * their injection tokens, integration events. Read statically, so that the graph can be drawn
 * for a tree that does not build, and without importing business contracts into infra/.
 */
export class ContractCatalogue {
  private constructor(private readonly byContext: ReadonlyMap<string, ReadonlyMap<string, ContractExport>>) {}

  static read(files: readonly SourceFile[]): ContractCatalogue {
    const byContext = new Map<string, Map<string, ContractExport>>();
    const tokenAliases: { context: string; name: string; of: string }[] = [];
    for (const file of files) {
      const folder = /^contracts\/([^/]+)\//.exec(file.path)?.[1];
      if (!folder || folder === 'kernel' || folder === 'generated' || folder === 'released') continue;
      const exports = byContext.get(folder) ?? new Map<string, ContractExport>();
      byContext.set(folder, exports);
      const { tree } = parseSource(file);
      for (const statement of tree.statements) {
        if (!ts.isVariableStatement(statement)) continue;
        if (!statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) continue;
        for (const declaration of statement.declarationList.declarations) {
          if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
          const exportName = declaration.name.text;
          const init = declaration.initializer;
          if (ts.isCallExpression(init)) {
            const callee = calleePath(init)?.join('.');
            if (callee === 'defineContract') {
              const methods = init.arguments[2];
              exports.set(exportName, {
                kind: 'contract',
                contract: {
                  context: stringValue(init.arguments[0]) ?? folder,
                  name: stringValue(init.arguments[1]) ?? exportName,
                  exportName,
                  methods:
                    methods && ts.isObjectLiteralExpression(methods)
                      ? methods.properties.flatMap((property) => (property.name ? [property.name.getText(tree)] : []))
                      : [],
                },
              });
            } else if (callee === 'event') {
              const type = stringValue(init.arguments[0]);
              const version = init.arguments[1];
              if (type) {
                exports.set(exportName, {
                  kind: 'event',
                  event: {
                    context: type.split('.')[0],
                    type,
                    version: version && ts.isNumericLiteral(version) ? Number(version.text) : 1,
                    exportName,
                  },
                });
              }
            }
          } else if (
            ts.isPropertyAccessExpression(init) &&
            init.name.text === 'token' &&
            ts.isIdentifier(init.expression)
          ) {
            tokenAliases.push({ context: folder, name: exportName, of: init.expression.text });
          }
        }
      }
    }
    for (const alias of tokenAliases) {
      const target = byContext.get(alias.context)?.get(alias.of);
      if (target?.kind === 'contract')
        byContext.get(alias.context)!.set(alias.name, { kind: 'token', contract: target.contract });
    }
    return new ContractCatalogue(byContext);
  }

  lookup(context: string, exportName: string): ContractExport | undefined {
    return this.byContext.get(context)?.get(exportName);
  }

  /** Every contract, by the context that serves it. */
  get contracts(): DeclaredContract[] {
    return this.all().flatMap((entry) => (entry.kind === 'contract' ? [entry.contract] : []));
  }

  /** Every integration event, by the context that publishes it. */
  get events(): DeclaredEvent[] {
    return this.all().flatMap((entry) => (entry.kind === 'event' ? [entry.event] : []));
  }

  private all(): ContractExport[] {
    return [...this.byContext.values()].flatMap((exports) => [...exports.values()]);
  }
}

export function eventKeyOf(event: Pick<DeclaredEvent, 'type' | 'version'>): string {
  return `${event.type}.v${event.version}`;
}
