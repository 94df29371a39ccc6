export type Environment = Readonly<Record<string, string | undefined>>;

export type Interpolation =
  | { readonly ok: true; readonly value: string; readonly hadReference: boolean }
  | { readonly ok: false; readonly message: string };

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces `${NAME}` and `${NAME:-default}` with values from the environment, as a shell does:
 * the default applies when NAME is unset or empty, and `$$` stands for a literal `$`. A reference
 * without a default whose variable is unset or empty is an error: a topology that silently runs
 * with an empty address or URL fails later and further from the cause.
 */
export function interpolate(text: string, env: Environment): Interpolation {
  let value = '';
  let hadReference = false;
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) {
      value += text.slice(i);
      break;
    }
    value += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      value += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      value += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) {
      return {
        ok: false,
        message:
          `"${text.slice(dollar)}" has no closing "}" — write \${NAME} or \${NAME:-default}, or $$ ` +
          `for a literal "$"`,
      };
    }
    const inner = text.slice(dollar + 2, close);
    const match = REFERENCE.exec(inner);
    if (!match) {
      return {
        ok: false,
        message:
          `"\${${inner}}" is not a variable reference — write \${NAME} or \${NAME:-default} (NAME: ` +
          `letters, digits, "_")`,
      };
    }
    const [, name, fallback] = match;
    const set = env[name];
    if (set !== undefined && set.trim() !== '') {
      value += set;
    } else if (fallback !== undefined) {
      value += fallback;
    } else {
      return {
        ok: false,
        message: `environment variable ${name} is not set — set it, or give a default: \${${name}:-value}`,
      };
    }
    hadReference = true;
    i = close + 1;
  }
  return { ok: true, value, hadReference };
}

/**
 * A value that came from the environment is typed the way YAML would type it had it been written
 * in the file (`port: ${PORT:-3000}` is a number), quoted or not: the quotes are there because
 * YAML needs them around `${…}` inside `{ }`, not to say "string". No topology field is a string
 * of digits or the text true/false, so nothing needs the opposite.
 */
export function typePlainValue(value: string): string | number | boolean {
  if (/^[-+]?(\d+|\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    return Number(value);
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return value;
}
