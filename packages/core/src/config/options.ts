/**
 * Typed configuration options in oslo.config's spirit: plugins and the core declare option
 * groups (section → options with types and defaults); the server validates neutron.conf-style
 * files against all of them at start and reports every problem at once.
 */

/** One option: how to parse its text, its default and its help. */
export interface Option<T> {
  readonly type: string;
  readonly default: T;
  readonly help: string;
  /** Parses the text from the file; throws an Error with a reason when it cannot. */
  parse(text: string): T;
}

function option<T>(type: string, parse: (text: string) => T, defaultValue: T, help: string): Option<T> {
  return { type, parse, default: defaultValue, help };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Option builders (`opt.int(9696, 'Port the API listens on')`). */
export const opt = {
  string: (defaultValue: string, help: string) => option('string', (t) => t, defaultValue, help),
  optionalString: (help: string) => option<string | undefined>('string', (t) => t, undefined, help),
  int: (defaultValue: number, help: string, range: { min?: number; max?: number } = {}) =>
    option(
      'integer',
      (text) => {
        if (!/^\s*-?\d+\s*$/.test(text)) throw new Error(`'${text}' is not an integer`);
        const n = Number(text);
        if (range.min !== undefined && n < range.min) throw new Error(`${n} is below the minimum ${range.min}`);
        if (range.max !== undefined && n > range.max) throw new Error(`${n} is above the maximum ${range.max}`);
        return n;
      },
      defaultValue,
      help,
    ),
  bool: (defaultValue: boolean, help: string) =>
    option(
      'boolean',
      (text) => {
        const lower = text.trim().toLowerCase();
        if (TRUE.has(lower)) return true;
        if (FALSE.has(lower)) return false;
        throw new Error(`'${text}' is not a boolean (true/false)`);
      },
      defaultValue,
      help,
    ),
  /** Comma-separated list; an empty value is an empty list. */
  list: (defaultValue: readonly string[], help: string) =>
    option<readonly string[]>(
      'list',
      (text) =>
        text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      defaultValue,
      help,
    ),
  choice: <const V extends readonly string[]>(values: V, defaultValue: V[number], help: string) =>
    option<V[number]>(
      `one of ${values.join(', ')}`,
      (text) => {
        const value = text.trim();
        if (!values.includes(value)) throw new Error(`'${text}' is not one of ${values.join(', ')}`);
        return value;
      },
      defaultValue,
      help,
    ),
};

/** Options of one group: section name → option name → option. */
export type OptionSections = Readonly<Record<string, Readonly<Record<string, Option<unknown>>>>>;

/** A declared group of options (a plugin's, or the core's). */
export interface OptionGroup<S extends OptionSections = OptionSections> {
  readonly sections: S;
}

/** The parsed values of a group, typed by its declaration. */
export type OptionValues<S extends OptionSections> = {
  readonly [Section in keyof S]: { readonly [Name in keyof S[Section]]: S[Section][Name] extends Option<infer T> ? T : never };
};

/** Declares options; `config.get(group)` returns their typed values. */
export function defineOptions<const S extends OptionSections>(sections: S): OptionGroup<S> {
  return { sections };
}
