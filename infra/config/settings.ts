import { z } from 'zod';
import { unsetWhenEmpty } from './variables';

/** One problem with one environment variable, as start-up reports it. */
export interface SettingIssue {
  readonly variable: string;
  readonly message: string;
  /** The group that reads it: `ordering: idempotency`, `edge: rate limits`. */
  readonly group: string;
}

/** The variables a part of ficus reads. Only the schema's own keys are read, never the whole environment. */
type VariableShape = Record<string, z.ZodType>;

/**
 * A group of environment variables one part of ficus reads, with their types, limits and
 * defaults, and the typed value it makes of them. A context declares its groups in
 * `FicusModule.forContext({ settings })` and injects each value by `settings.token`; the host
 * declares its own. Nothing reads `process.env` itself: the process reads every group it hosts
 * once, at start-up, before it starts anything ({@link Configuration.read}).
 */
export class Settings<T> {
  /** The injection token of the value. */
  readonly token: symbol;
  private readonly schema: z.ZodObject<VariableShape>;

  constructor(
    readonly group: string,
    variables: VariableShape,
    private readonly make: (values: Record<string, unknown>) => T,
  ) {
    this.token = Symbol(`settings: ${group}`);
    this.schema = z.object(variables);
  }

  /** The variables this group reads, by name. */
  get variables(): string[] {
    return Object.keys(this.schema.shape);
  }

  /** The value from `env`, or every problem found in it. */
  parse(env: Readonly<Record<string, string | undefined>>): { value: T } | { issues: SettingIssue[] } {
    // Only the group's own variables, so that no schema sees (or echoes) anything else; an empty
    // one (`FOO=` in a compose or .env file) as unset, whatever its schema.
    const own = Object.fromEntries(this.variables.map((name) => [name, unsetWhenEmpty(env[name])]));
    const result = this.schema.safeParse(own);
    if (!result.success) {
      return {
        issues: result.error.issues.map((issue) => ({
          variable: String(issue.path[0] ?? this.group),
          message: issue.message,
          group: this.group,
        })),
      };
    }
    try {
      return { value: this.make(result.data) };
    } catch (error) {
      if (error instanceof SettingProblems) {
        return { issues: error.problems.map((problem) => ({ ...problem, group: this.group })) };
      }
      // A rule across variables (a key list that names one id twice): the group's own words.
      const message = error instanceof Error ? error.message : String(error);
      return { issues: [{ variable: this.variables.join(', '), message, group: this.group }] };
    }
  }

  /** The value from `env`; throws a {@link ConfigurationError} naming every problem. For tests and tools. */
  read(env: Readonly<Record<string, string | undefined>>): T {
    const parsed = this.parse(env);
    if ('issues' in parsed) throw new ConfigurationError(parsed.issues);
    return parsed.value;
  }
}

/** Declares a group of settings: its variables (a zod schema each) and what it makes of them. */
export function defineSettings<V extends VariableShape, T>(
  group: string,
  variables: V,
  make: (values: z.output<z.ZodObject<V>>) => T,
): Settings<T> {
  return new Settings(group, variables, make as (values: Record<string, unknown>) => T);
}

/**
 * What a group's `make` throws for a rule across its variables that names the variables at fault
 * (one required in production): each is reported as a problem of its own.
 */
export class SettingProblems extends Error {
  constructor(readonly problems: ReadonlyArray<{ readonly variable: string; readonly message: string }>) {
    super(problems.map((problem) => `${problem.variable}: ${problem.message}`).join('; '));
    this.name = 'SettingProblems';
  }
}

/** Every problem of the environment, one line each, so one start-up shows them all. */
export class ConfigurationError extends Error {
  constructor(readonly issues: readonly SettingIssue[]) {
    super(
      `invalid configuration (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}; ` +
        `docs/configuration.md lists every variable):\n` +
        issues.map((issue) => `  ${issue.variable}: ${issue.message} (${issue.group})`).join('\n'),
    );
    this.name = 'ConfigurationError';
  }
}

/**
 * The process's configuration: every group it hosts, read from the environment once, at
 * start-up. A problem in any of them stops the start with all of them listed, before a database,
 * a broker or a port is touched.
 */
export class Configuration {
  private constructor(private readonly values: ReadonlyMap<Settings<unknown>, unknown>) {}

  static read(env: Readonly<Record<string, string | undefined>>, groups: Iterable<Settings<unknown>>): Configuration {
    const values = new Map<Settings<unknown>, unknown>();
    const issues: SettingIssue[] = [];
    for (const settings of new Set(groups)) {
      const parsed = settings.parse(env);
      if ('issues' in parsed) issues.push(...parsed.issues);
      else values.set(settings, parsed.value);
    }
    // Two parts may read the same variable (identity and the edge, the access token's claims): once.
    const distinct = [...new Map(issues.map((issue) => [`${issue.variable}\n${issue.message}`, issue])).values()];
    if (distinct.length > 0) throw new ConfigurationError(distinct);
    return new Configuration(values);
  }

  /** A group's value; a group nobody declared to the host is a wiring mistake, said as such. */
  get<T>(settings: Settings<T>): T {
    if (!this.values.has(settings as Settings<unknown>)) {
      throw new Error(
        `settings "${settings.group}" were not read at start-up: declare them in forContext({ settings }) ` +
          `or in the host's list (apps/service/src/process-settings.ts)`,
      );
    }
    return this.values.get(settings as Settings<unknown>) as T;
  }

  /** Whether the group was read (a part that is optional in a process, such as the edge). */
  has(settings: Settings<unknown>): boolean {
    return this.values.has(settings);
  }
}
