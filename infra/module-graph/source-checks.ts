import type { SourceFile } from './source-tree';
import { calleePath, parseSource, propertyOf, stringValue, ts, type ParsedSource } from './typescript-source';

/** One broken boundary: where, which rule, what is wrong, and how to fix it. */
export interface BoundaryViolation {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly problem: string;
  readonly fix: string;
}

/**
 * The rules dependency-cruiser cannot see because they are about what code does, not what it
 * imports (DESIGN "Data", STYLE habits 5 and 8). Each has one fix sentence, printed with every
 * violation of it.
 */
export const SOURCE_RULES = {
  'sql-touches-other-schema': {
    fix:
      'Ask the owning context through its contract (a query on @contracts/<context>), or keep a copy of the ' +
      "data you need, fed by that context's events; never read or write another schema.",
  },
  'entity-in-other-schema': {
    fix:
      "Map the entity to the module's own schema (leave `schema` out: the module's DataSource sets " +
      'search_path to it) and reach the other context through its contract.',
  },
  'module-uses-other-context-role': {
    fix:
      "Declare the module's own context (`FicusModule.forContext({ context: '<folder name>' })`) and leave " +
      "other contexts' roles, schemas and DATABASE_URL_<CONTEXT> to them.",
  },
  'event-published-outside-outbox': {
    fix:
      'Write integration events with `Outbox.add(Event.create(…))` inside the unit of work that made the ' +
      "change; the context's relay publishes them (in-process or Kafka).",
  },
} as const;

export type SourceRule = keyof typeof SOURCE_RULES;

/** What a module may use to publish: anything else of @infra/messaging that sends events is the relay's. */
const PUBLISHING_MACHINERY =
  /^(EventPublisher|InProcessEventTransport|FanOutPublisher|KafkaEventPublisher|OutboxRelay|FicusKafkaStrategy)$/;
const BROKER_CLIENTS = /^(kafkajs|@platformatic\/kafka|@confluentinc\/kafka-javascript|amqplib|nats)$/;
/** `<keyword> [only] [if [not] exists] schema.table`, each name quoted or not. */
const SQL_SCHEMA_REFERENCE = new RegExp(
  String.raw`\b(?:from|join|into|update|table|references|truncate|on)\s+(?:only\s+)?(?:if\s+(?:not\s+)?exists\s+)?` +
    String.raw`"?([a-z_][a-z0-9_]*)"?\s*\.\s*"?([a-z_][a-z0-9_]*)`,
  'gi',
);
const SEARCH_PATH = /\bsearch_path\s*(?:to|=)\s*['"]?([a-z_][a-z0-9_]*)/gi;
const SET_ROLE = /\bset\s+(?:local\s+)?role\s+['"]?ficus_([a-z_][a-z0-9_]*)/gi;
const CONTEXT_DATABASE_URL = /\bDATABASE_URL_([A-Z_]+)\b/g;

/**
 * Checks every production file of `modules/<context>/src` (pure: the files are given). `schemas`
 * are the names owned by someone else for each module: every other context, plus ficus's own
 * schemas (`edge`, `flags`).
 */
export function checkModuleSources(files: readonly SourceFile[], contexts: readonly string[]): BoundaryViolation[] {
  const violations: BoundaryViolation[] = [];
  const reservedSchemas = new Set([...contexts, 'edge', 'flags']);
  for (const file of files) {
    const owner = /^modules\/([^/]+)\/src\//.exec(file.path)?.[1];
    if (!owner) continue;
    const source = parseSource(file);
    const report = (rule: SourceRule, line: number, problem: string) =>
      violations.push({ rule, file: file.path, line, problem, fix: SOURCE_RULES[rule].fix });
    const foreign = (schema: string) => schema !== owner && reservedSchemas.has(schema.toLowerCase());

    checkImports(source, report);
    const each = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
        checkSqlText(source, node, owner, foreign, report);
      }
      if (ts.isPropertyAssignment(node) && node.name.getText(source.tree) === 'schema') {
        const schema = stringValue(node.initializer);
        if (schema && foreign(schema)) {
          report(
            'entity-in-other-schema',
            source.lineOf(node),
            `module ${owner} maps an entity to schema "${schema}", which context ${schema} owns`,
          );
        }
      }
      if (ts.isCallExpression(node)) checkCall(source, node, owner, report);
      ts.forEachChild(node, each);
    };
    each(source.tree);
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
}

type Report = (rule: SourceRule, line: number, problem: string) => void;

function checkImports(source: ParsedSource, report: Report): void {
  for (const { specifier, names, line } of source.imports) {
    if (BROKER_CLIENTS.test(specifier)) {
      report(
        'event-published-outside-outbox',
        line,
        `imports the broker client ${specifier}: events would leave without the outbox's transaction`,
      );
    }
    if (specifier === '@infra/messaging' || /(^|\/)infra\/messaging(\/|$)/.test(specifier)) {
      for (const name of names.filter((imported) => PUBLISHING_MACHINERY.test(imported))) {
        report(
          'event-published-outside-outbox',
          line,
          `imports ${name} from infra/messaging, the relay's machinery: publishing with it skips the outbox`,
        );
      }
    }
  }
}

function checkSqlText(
  source: ParsedSource,
  node: ts.Node,
  owner: string,
  foreign: (schema: string) => boolean,
  report: Report,
): void {
  const start = node.getStart(source.tree);
  const raw = source.text.slice(start, node.end);
  const find = (pattern: RegExp, describe: (name: string, table?: string) => string | undefined) => {
    for (const match of raw.matchAll(pattern)) {
      const problem = describe(match[1], match[2]);
      if (problem) report('sql-touches-other-schema', source.lineAt(start + (match.index ?? 0)), problem);
    }
  };
  find(SQL_SCHEMA_REFERENCE, (schema, table) =>
    foreign(schema)
      ? `SQL in module ${owner} touches ${schema}.${table}, a table of schema "${schema}" that another context owns`
      : undefined,
  );
  find(SEARCH_PATH, (schema) =>
    foreign(schema) ? `SQL in module ${owner} switches search_path to schema "${schema}"` : undefined,
  );
  find(SET_ROLE, (context) =>
    context !== owner
      ? `SQL in module ${owner} switches to role ficus_${context}, which owns another context's schema`
      : undefined,
  );
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
    for (const match of raw.matchAll(CONTEXT_DATABASE_URL)) {
      const context = match[1].toLowerCase();
      if (context !== owner && foreign(context)) {
        report(
          'module-uses-other-context-role',
          source.lineAt(start + (match.index ?? 0)),
          `module ${owner} reads DATABASE_URL_${match[1]}, the database of context ${context}`,
        );
      }
    }
  }
}

function checkCall(source: ParsedSource, call: ts.CallExpression, owner: string, report: Report): void {
  const path = calleePath(call);
  const last = path?.[path.length - 1];
  if (last === 'forContext' && call.arguments[0] && ts.isObjectLiteralExpression(call.arguments[0])) {
    const declared = stringValue(propertyOf(call.arguments[0], 'context'));
    if (declared && declared !== owner) {
      report(
        'module-uses-other-context-role',
        source.lineOf(call),
        `modules/${owner} declares itself as context "${declared}": it would connect as role ficus_${declared} ` +
          `and own schema ${declared}`,
      );
    }
  }
  // `something.publish(SomeEvent.create(…))`: an integration event handed to a transport or an
  // in-memory bus instead of the outbox.
  if (last === 'publish' || last === 'emit' || last === 'send') {
    for (const argument of call.arguments) {
      if (!ts.isCallExpression(argument)) continue;
      const created = calleePath(argument);
      if (created?.length === 2 && created[1] === 'create' && source.contractImports.has(created[0])) {
        report(
          'event-published-outside-outbox',
          source.lineOf(call),
          `${created[0]} (an integration event) is passed to ${path!.join('.')}() rather than to the outbox`,
        );
      }
    }
  }
}
