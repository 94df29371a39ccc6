import * as ts from 'typescript';
import type { RiskRule } from './risky-statements';

/**
 * What the linter reads of a migration file: each migration class (declared or returned by a
 * factory), its `name`, its `static readonly contractOf`, and the SQL that its `up` passes to
 * `runner.query`. Read from the TypeScript source, never run: a migration is linted without a
 * database, and without importing what it imports.
 */

/** SQL as the linter reads it; `positions[i]` is where `text[i]` stands in the file. */
export interface SqlText {
  readonly text: string;
  readonly positions: readonly number[];
}

export type QueryCall =
  | { readonly kind: 'sql'; readonly at: number; readonly sql: SqlText }
  /** The argument is neither a literal nor a `const` holding one: the linter cannot read it. */
  | { readonly kind: 'unreadable'; readonly at: number; readonly source: string }
  /** A QueryRunner helper that drops, renames or changes (`runner.dropColumn(…)`, …). */
  | { readonly kind: 'helper'; readonly at: number; readonly method: string; readonly source: string };

export interface MigrationSource {
  readonly name: string;
  readonly at: number;
  /** The expand migration this one is the contract step of, when it says so. */
  readonly contractOf?: string;
  /** A `contractOf` member that is not `static readonly contractOf = '<literal>'`. */
  readonly malformedContractOfAt?: number;
  readonly calls: readonly QueryCall[];
}

export interface ParsedMigrationFile {
  readonly migrations: readonly MigrationSource[];
  readonly lineAt: (position: number) => number;
  readonly text: string;
}

export const RISKY_HELPERS: Readonly<Record<string, RiskRule>> = {
  dropTable: 'drop-table',
  dropColumn: 'drop-column',
  dropColumns: 'drop-column',
  renameTable: 'rename',
  renameColumn: 'rename',
  changeColumn: 'alter-column-type',
  changeColumns: 'alter-column-type',
};

/** Stands for a `${…}` interpolation or any non-literal operand: an identifier the linter cannot see into. */
const OPAQUE = '__opaque__';

function memberName(member: ts.ClassElement): string | undefined {
  return member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))
    ? member.name.text
    : undefined;
}

function isStatic(member: ts.ClassElement): boolean {
  return (
    ts.canHaveModifiers(member) && (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
  );
}

function stringValue(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
}

export function parseMigrationFile(fileName: string, text: string): ParsedMigrationFile {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);

  const constants = new Map<string, ts.Expression>();
  const collectConstants = (node: ts.Node): void => {
    if (ts.isVariableDeclarationList(node) && node.flags & ts.NodeFlags.Const) {
      for (const declaration of node.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.initializer)
          constants.set(declaration.name.text, declaration.initializer);
      }
    }
    ts.forEachChild(node, collectConstants);
  };
  collectConstants(file);

  /** A literal piece: its cooked text, mapped to the source (one to one unless it has escapes). */
  const piece = (node: ts.Node, cooked: string, openLength: number, closeLength: number): SqlText => {
    const start = node.getStart(file) + openLength;
    const rawLength = node.getEnd() - closeLength - start;
    const positions = Array.from(cooked, (_, i) => start + Math.min(i, Math.max(rawLength - 1, 0)));
    return { text: cooked, positions };
  };
  /** An opaque stretch, mapped to the source from its first character to its last (`to`). */
  const opaque = (from: number, to: number): SqlText => ({
    text: OPAQUE,
    positions: Array.from(OPAQUE, (_, i) => (i === OPAQUE.length - 1 ? to : from)),
  });
  const opaqueNode = (node: ts.Node): SqlText => opaque(node.getStart(file), node.getEnd() - 1);
  const join = (parts: readonly SqlText[]): SqlText => ({
    text: parts.map((p) => p.text).join(''),
    positions: parts.flatMap((p) => p.positions),
  });

  const readSql = (node: ts.Expression, depth = 0): SqlText | undefined => {
    if (depth > 10) return undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return piece(node, node.text, 1, 1);
    if (ts.isTemplateExpression(node)) {
      const parts = [piece(node.head, node.head.text, 1, 2)];
      for (const span of node.templateSpans) {
        // From the `$` of `${` to its `}`.
        parts.push(opaque(span.expression.getFullStart() - 2, span.literal.getStart(file)));
        parts.push(piece(span.literal, span.literal.text, 1, ts.isTemplateTail(span.literal) ? 1 : 2));
      }
      return join(parts);
    }
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
      return readSql(node.expression, depth + 1);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const left = readSql(node.left, depth + 1);
      const right = readSql(node.right, depth + 1);
      if (!left && !right) return undefined;
      return join([left ?? opaqueNode(node.left), right ?? opaqueNode(node.right)]);
    }
    if (ts.isIdentifier(node)) {
      const value = constants.get(node.text);
      return value ? readSql(value, depth + 1) : undefined;
    }
    return undefined;
  };

  const callsIn = (body: ts.Node): QueryCall[] => {
    const calls: QueryCall[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const at = node.getStart(file);
        if (method === 'query' && node.arguments.length > 0) {
          const sql = readSql(node.arguments[0]);
          calls.push(
            sql ? { kind: 'sql', at, sql } : { kind: 'unreadable', at, source: node.arguments[0].getText(file) },
          );
        } else if (Object.hasOwn(RISKY_HELPERS, method)) {
          calls.push({ kind: 'helper', at, method, source: node.getText(file) });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(body);
    return calls;
  };

  const migrations: MigrationSource[] = [];
  const findClasses = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
      const up = node.members.find((m) => memberName(m) === 'up' && !isStatic(m));
      if (up) {
        const nameMember = node.members.find((m) => memberName(m) === 'name' && !isStatic(m));
        const name =
          (nameMember && ts.isPropertyDeclaration(nameMember) ? stringValue(nameMember.initializer) : undefined) ??
          node.name?.text ??
          '(anonymous)';
        const contractMember = node.members.find((m) => memberName(m) === 'contractOf');
        const contractOf =
          contractMember && isStatic(contractMember) && ts.isPropertyDeclaration(contractMember)
            ? stringValue(contractMember.initializer)
            : undefined;
        migrations.push({
          name,
          at: node.getStart(file),
          contractOf,
          malformedContractOfAt: contractMember && contractOf === undefined ? contractMember.getStart(file) : undefined,
          calls: callsIn(up),
        });
      }
    }
    ts.forEachChild(node, findClasses);
  };
  findClasses(file);

  return { migrations, text, lineAt: (position) => file.getLineAndCharacterOfPosition(position).line + 1 };
}
