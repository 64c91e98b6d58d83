import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseIni } from 'ini';
import type { OptionGroup, OptionSections, OptionValues } from './options.js';

/** A value read from a file, with where it came from (for error messages). */
interface RawValue {
  readonly text: string;
  readonly file: string;
}

/** Problems found in configuration; the server prints them all and exits. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * neutron.conf-style configuration: `[section] key = value`, several files where later ones
 * override earlier ones (like `--config-file a --config-file b` in oslo.config).
 */
export class Config {
  private readonly cache = new Map<OptionGroup, unknown>();

  constructor(
    private readonly values: ReadonlyMap<string, ReadonlyMap<string, RawValue>> = new Map(),
    /** The files read, in order (empty for in-memory configuration). */
    readonly files: readonly string[] = [],
  ) {}

  /**
   * Where files named by options are looked for, as oslo.config's `find_file`: the folders of
   * the configuration files, the last one first.
   */
  searchDirs(): string[] {
    return [...new Set(this.files.map((file) => dirname(resolve(file))).reverse())];
  }

  /** Builds a configuration from in-memory sections (tests, embedding). */
  static fromObject(sections: Readonly<Record<string, Readonly<Record<string, string | number | boolean | readonly string[]>>>>): Config {
    const values = new Map<string, Map<string, RawValue>>();
    for (const [section, entries] of Object.entries(sections)) {
      const map = new Map<string, RawValue>();
      for (const [key, value] of Object.entries(entries)) {
        map.set(key, { text: Array.isArray(value) ? value.join(',') : String(value), file: '<inline>' });
      }
      values.set(section, map);
    }
    return new Config(values);
  }

  /** Reads and merges config files in order; a missing or unreadable file is a ConfigError. */
  static async load(files: readonly string[]): Promise<Config> {
    const values = new Map<string, Map<string, RawValue>>();
    const problems: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        problems.push(`cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        continue;
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = parseIni(text);
      } catch (error) {
        problems.push(`cannot parse config file ${file}: ${String(error)}`);
        continue;
      }
      for (const [section, entries] of Object.entries(parsed)) {
        if (typeof entries !== 'object' || entries === null) {
          problems.push(`${file}: '${section} = ${String(entries)}' is outside any [section]`);
          continue;
        }
        const map = values.get(section) ?? new Map<string, RawValue>();
        for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
          map.set(key, { text: Array.isArray(value) ? value.join(',') : String(value), file });
        }
        values.set(section, map);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return new Config(values, files);
  }

  /** The raw text of an option, if set. */
  raw(section: string, key: string): string | undefined {
    return this.values.get(section)?.get(key)?.text;
  }

  /** Problems with the values of a group (bad types, out of range), as readable lines. */
  check(group: OptionGroup): string[] {
    try {
      this.get(group);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
  }

  /** The typed values of an option group (defaults where unset); ConfigError on bad values. */
  get<S extends OptionSections>(group: OptionGroup<S>): OptionValues<S> {
    const cached = this.cache.get(group);
    if (cached) return cached as OptionValues<S>;
    const problems: string[] = [];
    const result: Record<string, Record<string, unknown>> = {};
    for (const [section, options] of Object.entries(group.sections)) {
      const values: Record<string, unknown> = {};
      for (const [name, option] of Object.entries(options)) {
        const raw = this.values.get(section)?.get(name);
        if (raw === undefined) {
          values[name] = option.default;
          continue;
        }
        try {
          values[name] = option.parse(raw.text);
        } catch (error) {
          problems.push(`[${section}] ${name} in ${raw.file}: ${(error as Error).message}`);
        }
      }
      result[section] = values;
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.cache.set(group, result);
    return result as OptionValues<S>;
  }
}
