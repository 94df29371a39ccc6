import { posix } from 'node:path';
import * as ts from 'typescript';
import type { SourceFile } from './source-tree';

/** Where a name used in a file comes from: an export of `contracts/<context>`. */
export interface ContractImport {
  readonly context: string;
  readonly exported: string;
}

/** A parsed file: its syntax tree (no type check: it needs no program and runs in milliseconds). */
export interface ParsedSource {
  readonly path: string;
  readonly text: string;
  readonly tree: ts.SourceFile;
  /** Local names bound by imports from `@contracts/<context>` (or a relative path into contracts/). */
  readonly contractImports: ReadonlyMap<string, ContractImport>;
  /** Every module specifier imported, with the local names it binds. */
  readonly imports: readonly { readonly specifier: string; readonly names: readonly string[]; readonly line: number }[];
  lineOf(node: ts.Node): number;
  lineAt(offset: number): number;
}

export function parseSource(file: SourceFile): ParsedSource {
  const tree = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lineAt = (offset: number) => tree.getLineAndCharacterOfPosition(offset).line + 1;
  const contractImports = new Map<string, ContractImport>();
  const imports: { specifier: string; names: string[]; line: number }[] = [];
  for (const statement of tree.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const specifier = statement.moduleSpecifier.text;
    const names: string[] = [];
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) names.push(element.name.text);
      const context = contractContextOf(file.path, specifier);
      if (context) {
        for (const element of bindings.elements) {
          contractImports.set(element.name.text, { context, exported: (element.propertyName ?? element.name).text });
        }
      }
    }
    if (statement.importClause?.name) names.push(statement.importClause.name.text);
    imports.push({ specifier, names, line: lineAt(statement.getStart(tree)) });
  }
  return {
    path: file.path,
    text: file.text,
    tree,
    contractImports,
    imports,
    lineOf: (node) => lineAt(node.getStart(tree)),
    lineAt,
  };
}

/** `@contracts/catalog` or `../../../contracts/catalog/x` → `catalog`; kernel and generated code are no context. */
export function contractContextOf(importer: string, specifier: string): string | undefined {
  let path: string | undefined;
  if (specifier.startsWith('@contracts/')) path = `contracts/${specifier.slice('@contracts/'.length)}`;
  else if (specifier.startsWith('.')) path = posix.normalize(posix.join(posix.dirname(importer), specifier));
  const match = path ? /^contracts\/([^/]+)/.exec(path) : null;
  if (!match || match[1] === 'kernel' || match[1] === 'generated') return undefined;
  return match[1];
}

/** Calls every node of the tree, depth first. */
export function visit(node: ts.Node, each: (node: ts.Node) => void): void {
  each(node);
  ts.forEachChild(node, (child) => visit(child, each));
}

/** `a.b.c(...)` → `['a', 'b', 'c']` (with `this` as a part); undefined for anything else. */
export function calleePath(call: ts.CallExpression): string[] | undefined {
  const parts: string[] = [];
  let expression: ts.Expression = call.expression;
  while (ts.isPropertyAccessExpression(expression)) {
    parts.unshift(expression.name.text);
    expression = expression.expression;
  }
  if (ts.isIdentifier(expression)) parts.unshift(expression.text);
  else if (expression.kind === ts.SyntaxKind.ThisKeyword) parts.unshift('this');
  else return undefined;
  return parts;
}

/** The string a literal holds (`'x'`, `` `x` `` without substitutions); undefined otherwise. */
export function stringValue(node: ts.Node | undefined): string | undefined {
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return node.text;
  return undefined;
}

/** The property `name` of an object literal. */
export function propertyOf(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const property of object.properties) {
    if (ts.isPropertyAssignment(property) && property.name.getText() === name) return property.initializer;
  }
  return undefined;
}

export { ts };
