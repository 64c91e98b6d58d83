import { pyStr } from '../attributes/python-repr.js';
import { parseRule, RuleSyntaxError, type Check } from './rule-language.js';

/** What oslo.policy calls credentials: who the caller is, from its token. */
export interface Credentials {
  readonly user_id?: string;
  readonly project_id?: string;
  readonly tenant_id?: string;
  /** Role names, lower case. */
  readonly roles: readonly string[];
  readonly is_admin: boolean;
  readonly system_scope?: string;
  readonly [key: string]: unknown;
}

/**
 * What a rule is checked against: a resource's attributes and, for `%(network:tenant_id)s` or
 * `field:networks:shared=True` on a port, the attributes of its parents (`network` → its row).
 * A parent not in `parents` is not known yet (checks on it are undecided); one present as
 * `undefined` does not exist (checks on it fail).
 */
export interface PolicyTarget {
  readonly resource: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly parents?: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
}

/** A parent attribute not loaded yet. */
const UNKNOWN = Symbol('unknown');

/** A rule's outcome; `undefined` when it depends on a target (or a parent) that was not given. */
export type Verdict = boolean | undefined;

/** Rule name → rule text, as in `policy.yaml` (a plugin's or the core's defaults). */
export type PolicyRules = Readonly<Record<string, string>>;

/** What parts of a target a rule reads: its own attributes, and parents' (`network` → fields). */
export interface RuleReferences {
  readonly own: Set<string>;
  readonly parents: Map<string, Set<string>>;
}

/** oslo.policy's fallback for a rule nobody defined (Neutron's `policy_default_rule`). */
export const DEFAULT_RULE = 'default';
const MAX_DEPTH = 32;

function and(verdicts: Iterable<() => Verdict>): Verdict {
  let unknown = false;
  for (const verdict of verdicts) {
    const v = verdict();
    if (v === false) return false;
    if (v === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

function or(verdicts: Iterable<() => Verdict>): Verdict {
  let unknown = false;
  for (const verdict of verdicts) {
    const v = verdict();
    if (v === true) return true;
    if (v === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

/** Python's `str()` of a credential or target value, as oslo.policy compares them. */
function text(value: unknown): string {
  return pyStr(value);
}

/**
 * A parsed rule set: the core's and plugins' defaults with an operator's overrides on top.
 * Checks are evaluated with three-valued logic so a caller can ask, before reading any row,
 * whether a rule passes for every target, for none, or depends on the row.
 */
export class Policy {
  private constructor(
    private readonly rules: ReadonlyMap<string, Check>,
    /** Maps a resource named in a rule (`networks`, `port`) to its singular name. */
    private readonly singular: (name: string) => string,
  ) {}

  /**
   * Builds a policy from rule sets applied in order (later ones override earlier ones by name).
   * Returns problems (rules that do not parse) and warnings (references to undefined rules,
   * which resolve to `default` as in oslo.policy: an operator's file may name rules of services
   * this server does not run).
   */
  static build(ruleSets: ReadonlyArray<{ readonly source: string; readonly rules: PolicyRules }>, singular: (name: string) => string) {
    const rules = new Map<string, Check>();
    const problems: string[] = [];
    for (const { source, rules: set } of ruleSets) {
      for (const [name, rule] of Object.entries(set)) {
        if (typeof rule !== 'string') {
          problems.push(`${source}: rule ${name} is not a string`);
          continue;
        }
        try {
          rules.set(name, parseRule(rule));
        } catch (error) {
          problems.push(`${source}: ${error instanceof RuleSyntaxError ? error.message : String(error)}`);
        }
      }
    }
    const policy = new Policy(rules, singular);
    const warnings: string[] = [];
    for (const [name, check] of rules) {
      for (const missing of policy.undefinedRules(check)) warnings.push(`policy rule ${name} refers to undefined rule ${missing}`);
    }
    return { policy, problems, warnings };
  }

  /** True when a rule of that name is defined. */
  has(name: string): boolean {
    return this.rules.has(name);
  }

  /** The parsed rule of a name (the `default` rule when it has none and `fallback` is set). */
  rule(name: string, fallback = true): Check | undefined {
    return this.rules.get(name) ?? (fallback ? this.rules.get(DEFAULT_RULE) : undefined);
  }

  /**
   * Evaluates rule `name` for the caller, against `target` when given. Without a target the
   * answer is `undefined` when it depends on one. An undefined rule falls back to `default`.
   */
  check(name: string, creds: Credentials, target?: PolicyTarget): Verdict {
    const check = this.rule(name);
    return check ? this.evaluate(check, creds, target, 0) : false;
  }

  /** Evaluates a parsed check (see {@link check}). */
  evaluate(check: Check, creds: Credentials, target: PolicyTarget | undefined, depth = 0): Verdict {
    switch (check.type) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'not': {
        const v = this.evaluate(check.check, creds, target, depth);
        return v === undefined ? undefined : !v;
      }
      case 'and':
        return and(check.checks.map((c) => () => this.evaluate(c, creds, target, depth)));
      case 'or':
        return or(check.checks.map((c) => () => this.evaluate(c, creds, target, depth)));
      case 'rule': {
        // oslo.policy resolves an undefined rule to the default rule (none: the check fails).
        const rule = this.rule(check.name);
        if (!rule || depth >= MAX_DEPTH) return false;
        return this.evaluate(rule, creds, target, depth + 1);
      }
      case 'role':
        return creds.roles.includes(check.role);
      case 'field': {
        if (!target) return undefined;
        const value = this.fieldValue(target, this.singular(check.resource), check.field);
        if (value === UNKNOWN) return undefined;
        if (value === undefined || value === null) return false;
        return check.regex ? check.regex.test(text(value)) : text(value) === check.value;
      }
      case 'generic': {
        let expected: unknown;
        if (check.targetKey !== undefined) {
          if (!target) return undefined;
          expected = this.targetValue(target, check.targetKey);
          if (expected === UNKNOWN) return undefined;
          if (expected === undefined || expected === null) return false;
        } else {
          expected = check.literal;
        }
        const actual = creds[check.kind];
        if (actual === undefined || actual === null) return false;
        if (Array.isArray(actual)) return actual.map(text).includes(text(expected));
        return text(actual) === text(expected);
      }
    }
  }

  /** What of a target a check reads (so callers load exactly that), rules it names included. */
  references(check: Check | undefined, resource: string): RuleReferences {
    const refs: RuleReferences = { own: new Set(), parents: new Map() };
    const need = (owner: string, field: string) => {
      if (owner === resource) refs.own.add(field);
      else {
        refs.own.add(`${owner}_id`);
        if (!refs.parents.has(owner)) refs.parents.set(owner, new Set());
        refs.parents.get(owner)!.add(field);
      }
    };
    const seen = new Set<string>();
    const walk = (c: Check | undefined) => {
      if (!c) return;
      switch (c.type) {
        case 'not':
          return walk(c.check);
        case 'and':
        case 'or':
          return c.checks.forEach(walk);
        case 'rule':
          if (seen.has(c.name)) return;
          seen.add(c.name);
          return walk(this.rules.get(c.name));
        case 'field':
          return need(this.singular(c.resource), c.field);
        case 'generic': {
          if (c.targetKey === undefined) return;
          const colon = c.targetKey.indexOf(':');
          return colon < 0 ? need(resource, c.targetKey) : need(c.targetKey.slice(0, colon), c.targetKey.slice(colon + 1));
        }
        default:
          return;
      }
    };
    walk(check);
    if (refs.own.has('tenant_id')) refs.own.add('project_id');
    return refs;
  }

  /** `%(key)s`: the target's attribute, or a parent's (`network:tenant_id`). */
  private targetValue(target: PolicyTarget, key: string): unknown {
    const colon = key.indexOf(':');
    // `network:tenant_id` names a parent, but `router:external` is a network's own attribute.
    if (colon > 0 && !(key in target.values)) {
      return this.fieldValue(target, key.slice(0, colon), key.slice(colon + 1));
    }
    return ownValue(target.values, key);
  }

  /** An attribute of the target when `resource` is the target's kind, else of that parent. */
  private fieldValue(target: PolicyTarget, resource: string, field: string): unknown {
    if (resource === target.resource) return ownValue(target.values, field);
    if (!target.parents || !(resource in target.parents)) return UNKNOWN;
    const parent = target.parents[resource];
    return parent ? ownValue(parent, field) : undefined;
  }

  private undefinedRules(check: Check): string[] {
    switch (check.type) {
      case 'not':
        return this.undefinedRules(check.check);
      case 'and':
      case 'or':
        return check.checks.flatMap((c) => this.undefinedRules(c));
      case 'rule':
        return this.rules.has(check.name) ? [] : [check.name];
      default:
        return [];
    }
  }
}

/** `tenant_id` and `project_id` are one attribute under two names. */
function ownValue(values: Readonly<Record<string, unknown>>, key: string): unknown {
  if (key === 'tenant_id') return values.tenant_id ?? values.project_id;
  if (key === 'project_id') return values.project_id ?? values.tenant_id;
  return values[key];
}
