import { FLAG_OFF, FLAG_ON, formatFlagState, percentState, sameFlagState, type FlagState } from './flag-state';

/** A flag as the code declares it: its name, what it says until someone sets it, and why it exists. */
export interface FlagDefinition {
  readonly name: string;
  readonly default: FlagState;
  readonly description: string;
}

/** `<area>.<what>`, lower case: `notifications.new-confirmation-email`, `route.inventory`. */
export const FLAG_NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

export function checkFlagName(name: string): string {
  if (name.length > 100 || !FLAG_NAME.test(name)) {
    throw new Error(
      `"${name}" is no flag name: lower-case words joined by "-", areas separated by "." (e.g. ` +
        `notifications.new-confirmation-email)`,
    );
  }
  return name;
}

/**
 * Declares a flag in code. The module that reads it declares it (and registers it with
 * `FlagsModule.forFeature`), so that `ficus flags list` shows it with its description and default
 * before anybody has set it.
 */
export function defineFlag(input: {
  name: string;
  default: 'on' | 'off' | number | FlagState;
  description: string;
}): FlagDefinition {
  const initial =
    typeof input.default === 'number'
      ? percentState(input.default)
      : typeof input.default === 'string'
        ? input.default === 'on'
          ? FLAG_ON
          : FLAG_OFF
        : input.default;
  if (!input.description.trim())
    throw new Error(`flag ${input.name} needs a description: say what it turns on and who may turn it`);
  return Object.freeze({ name: checkFlagName(input.name), default: initial, description: input.description.trim() });
}

/** Anything that names a flag: its definition (which also carries its default) or its name. */
export type FlagRef = FlagDefinition | string;

export function flagNameOf(flag: FlagRef): string {
  return typeof flag === 'string' ? flag : flag.name;
}

/** The flags the code of this process declares; a name declared twice must mean the same flag. */
export class FlagDeclarations {
  private readonly byName = new Map<string, FlagDefinition>();

  add(definitions: readonly FlagDefinition[]): void {
    for (const definition of definitions) {
      const known = this.byName.get(definition.name);
      if (known && !sameFlagState(known.default, definition.default)) {
        throw new Error(
          `flag ${definition.name} is declared twice with different defaults ` +
            `(${formatFlagState(known.default)} and ${formatFlagState(definition.default)})`,
        );
      }
      this.byName.set(definition.name, definition);
    }
  }

  get(name: string): FlagDefinition | undefined {
    return this.byName.get(name);
  }

  all(): FlagDefinition[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
