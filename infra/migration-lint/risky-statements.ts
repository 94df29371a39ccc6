/**
 * The statements that break the release still running while a migration runs (blue/green, rolling
 * deploys, a service shipped apart from its neighbours): they drop or rename what the old code
 * reads, change a type it reads and writes, or make it insert rows that now fail. Found by a small
 * tokenizer, not a PostgreSQL parser: comments and string contents are blanked first, then each
 * `;`-separated statement is read word by word.
 */
export type RiskRule =
  | 'drop-table'
  | 'drop-column'
  | 'rename'
  | 'alter-column-type'
  | 'add-column-not-null-without-default'
  | 'set-not-null';

export const RISK_REASONS: Readonly<Record<RiskRule, string>> = {
  'drop-table': 'DROP TABLE: the previous release still reads this table',
  'drop-column': 'DROP COLUMN: the previous release still reads this column',
  rename: 'RENAME: the previous release still uses the old name',
  'alter-column-type': 'ALTER COLUMN … TYPE: the previous release reads and writes the old type',
  'add-column-not-null-without-default':
    'ADD COLUMN … NOT NULL without DEFAULT: the previous release inserts rows without it',
  'set-not-null': 'SET NOT NULL: the previous release may still insert rows without this column',
};

export interface Risk {
  readonly rule: RiskRule;
  /** Offset in the SQL text of the word that makes the statement risky. */
  readonly at: number;
  /** The statement's range in the SQL text, from its first word to the end of its last. */
  readonly start: number;
  readonly end: number;
  /** `table.column`, for SET NOT NULL. */
  readonly column?: string;
}

/** What one migration's statements have done so far, carried from one `runner.query` to the next. */
export interface MigrationScope {
  /** Tables the migration created: statements on them are safe, no released code knows them. */
  readonly createdTables: Set<string>;
  /** `table.column`s the migration gave a DEFAULT: old code that omits them still inserts. */
  readonly defaultedColumns: Set<string>;
}

export function newMigrationScope(): MigrationScope {
  return { createdTables: new Set(), defaultedColumns: new Set() };
}

/**
 * Whether a risk found earlier still stands once the whole migration is read: SET NOT NULL on a
 * column that the same migration gives a DEFAULT breaks no insert of the previous release.
 */
export function stillRisky(risk: Risk, scope: MigrationScope): boolean {
  return !(risk.rule === 'set-not-null' && risk.column !== undefined && scope.defaultedColumns.has(risk.column));
}

interface Token {
  readonly word: string;
  readonly start: number;
  readonly end: number;
  readonly depth: number;
}

const SERIAL_TYPES = new Set(['SERIAL', 'BIGSERIAL', 'SMALLSERIAL', 'SERIAL2', 'SERIAL4', 'SERIAL8']);
const DOLLAR_QUOTE = /^\$(?:[A-Za-z_]\w*)?\$/;
const TABLE_CONSTRAINTS = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN', 'EXCLUDE']);

/** Comments and the contents of string literals become spaces (newlines kept), so offsets still hold. */
function blankCommentsAndStrings(sql: string): string {
  const out = sql.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i, i + 2);
    if (rest === '--') {
      const newline = sql.indexOf('\n', i);
      const stop = newline < 0 ? sql.length : newline;
      blank(i, stop);
      i = stop;
    } else if (rest === '/*') {
      const close = sql.indexOf('*/', i + 2);
      const stop = close < 0 ? sql.length : close + 2;
      blank(i, stop);
      i = stop;
    } else if (sql[i] === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (sql[i] === '$' && DOLLAR_QUOTE.test(sql.slice(i))) {
      const tag = DOLLAR_QUOTE.exec(sql.slice(i))?.[0] ?? '$$';
      const close = sql.indexOf(tag, i + tag.length);
      const stop = close < 0 ? sql.length : close;
      blank(i + tag.length, stop);
      i = stop + tag.length;
    } else {
      i++;
    }
  }
  return out.join('');
}

function tokenize(masked: string, from: number, to: number): Token[] {
  const tokens: Token[] = [];
  const pattern = /"(?:[^"]|"")*"|[A-Za-z_][\w$]*|\d+(?:\.\d+)?|::|\S/g;
  pattern.lastIndex = from;
  let depth = 0;
  for (let match = pattern.exec(masked); match && match.index < to; match = pattern.exec(masked)) {
    const text = match[0];
    if (text === ')') depth--;
    tokens.push({
      word: text.startsWith('"') ? text : text.toUpperCase(),
      start: match.index,
      end: match.index + text.length,
      depth,
    });
    if (text === '(') depth++;
  }
  return tokens;
}

const identifier = (word: string | undefined): string => (word ?? '').replace(/^"|"$/g, '').toLowerCase();

/** `schema.table`, `"Table"` or `table` → the bare, lower-case table name; and the index after it. */
function tableName(tokens: readonly Token[], at: number): { name: string; next: number } {
  let next = at;
  let name = '';
  while (next < tokens.length) {
    name = identifier(tokens[next].word);
    next++;
    if (tokens[next]?.word !== '.') break;
    next++;
  }
  return { name, next };
}

/** Splits tokens at the commas of their own depth. */
function splitAtCommas(tokens: readonly Token[]): Token[][] {
  const parts: Token[][] = [[]];
  const depth = tokens[0]?.depth ?? 0;
  for (const token of tokens) {
    if (token.word === ',' && token.depth === depth) parts.push([]);
    else parts[parts.length - 1].push(token);
  }
  return parts.filter((part) => part.length > 0);
}

type FoundRisk = Pick<Risk, 'rule' | 'at' | 'column'>;

function alterTableActionRisk(action: readonly Token[], table: string, scope: MigrationScope): FoundRisk | undefined {
  const words = action.filter((t) => t.depth === action[0].depth).map((t) => t.word);
  const at = action[0].start;
  switch (words[0]) {
    case 'RENAME':
      return words[1] === 'CONSTRAINT' ? undefined : { rule: 'rename', at };
    case 'DROP':
      return words[1] === 'CONSTRAINT' ? undefined : { rule: 'drop-column', at };
    case 'ALTER': {
      const name = words[1] === 'COLUMN' ? 2 : 1;
      const column = `${table}.${identifier(words[name])}`;
      const after = words.slice(name + 1).join(' ');
      if (after.startsWith('TYPE ') || after.startsWith('SET DATA TYPE ')) return { rule: 'alter-column-type', at };
      if (after.startsWith('SET NOT NULL')) return { rule: 'set-not-null', at, column };
      if (after.startsWith('SET DEFAULT ') && !/^SET DEFAULT NULL(?! ::)/.test(after))
        scope.defaultedColumns.add(column);
      return undefined;
    }
    case 'ADD': {
      if (TABLE_CONSTRAINTS.has(words[1])) return undefined;
      let name = words[1] === 'COLUMN' ? 2 : 1;
      if (words[name] === 'IF') name += 3;
      const text = ` ${words.join(' ')} `;
      const notNull = text.includes(' NOT NULL ') || text.includes(' PRIMARY KEY ');
      const filled =
        /\sDEFAULT (?!NULL (?!::))/.test(text) ||
        text.includes(' GENERATED ') ||
        words.some((word) => SERIAL_TYPES.has(word));
      if (filled) scope.defaultedColumns.add(`${table}.${identifier(words[name])}`);
      return notNull && !filled ? { rule: 'add-column-not-null-without-default', at } : undefined;
    }
    default:
      return undefined;
  }
}

function statementRisks(tokens: readonly Token[], scope: MigrationScope): FoundRisk[] {
  const { createdTables } = scope;
  const top = tokens.filter((t) => t.depth === 0);
  const word = (i: number): string | undefined => top[i]?.word;
  if (word(0) === 'CREATE') {
    const table = top.findIndex((t) => t.word === 'TABLE');
    if (table > 0 && table <= 4) {
      const at = word(table + 1) === 'IF' ? table + 4 : table + 1;
      createdTables.add(tableName(top, at).name);
    }
    return [];
  }
  if (word(0) === 'DROP' && word(1) === 'TABLE') {
    const names = splitAtCommas(top.slice(word(2) === 'IF' ? 4 : 2)).map((part) => tableName(part, 0).name);
    // A table created earlier in the same migration is read by no released code.
    return names.every((name) => createdTables.has(name)) ? [] : [{ rule: 'drop-table', at: top[0].start }];
  }
  if (word(0) === 'ALTER' && word(1) === 'TABLE') {
    let at = 2;
    if (word(at) === 'IF') at += 2;
    if (word(at) === 'ONLY') at++;
    const { name, next } = tableName(top, at);
    if (createdTables.has(name)) return [];
    const first = top[word(next) === '*' ? next + 1 : next];
    if (!first) return [];
    return splitAtCommas(tokens.slice(tokens.indexOf(first))).flatMap((action) => {
      const risk = alterTableActionRisk(action, name, scope);
      return risk ? [risk] : [];
    });
  }
  return [];
}

/**
 * The risky statements of one SQL text; `scope` carries what the same migration did before it.
 * Filter the migration's risks with `stillRisky` once all its SQL is read.
 */
export function findRisks(sql: string, scope: MigrationScope): Risk[] {
  const masked = blankCommentsAndStrings(sql);
  const risks: Risk[] = [];
  let from = 0;
  while (from < masked.length) {
    const semicolon = masked.indexOf(';', from);
    const to = semicolon < 0 ? masked.length : semicolon;
    const tokens = tokenize(masked, from, to);
    if (tokens.length > 0) {
      for (const risk of statementRisks(tokens, scope)) {
        risks.push({ ...risk, start: tokens[0].start, end: tokens[tokens.length - 1].end });
      }
    }
    from = to + 1;
  }
  return risks;
}
