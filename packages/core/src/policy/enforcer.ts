import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/config.js';
import { coreOptions } from '../config/core-options.js';
import type { Context, Identity } from '../context/context.js';
import { HTTPBadRequest, HTTPForbidden, PolicyNotAuthorized } from '../errors/neutron-error.js';
import type { ResourceDefinition } from '../resources/define-resource.js';
import type { ServedResource } from '../runtime.js';
import { baseRules } from './base-rules.js';
import { Policy, type Credentials, type PolicyRules, type PolicyTarget, type RuleReferences, type Verdict } from './policy.js';
import { ruleText, type Check } from './rule-language.js';

type Row = Record<string, unknown>;

/** Resources created on a network, which Neutron's ownership hook checks. */
const NETWORK_CHILDREN = ['port', 'subnet'];

/** Where a runtime's rules come from, in override order. */
export interface PolicySources {
  readonly config: Config;
  readonly resources: readonly ResourceDefinition[];
  /** Rules plugins add beyond their resources' (by plugin package). */
  readonly plugins: ReadonlyArray<{ readonly source: string; readonly rules: PolicyRules }>;
}

/** The operator's rule file (`[oslo_policy] policy_file`), found as oslo.config finds files. */
function readPolicyFile(config: Config): { source: string; rules: PolicyRules } | { problem: string } | undefined {
  const name = config.get(coreOptions).oslo_policy.policy_file;
  const explicit = config.raw('oslo_policy', 'policy_file') !== undefined;
  const candidates = isAbsolute(name) ? [name] : config.searchDirs().map((dir) => join(dir, name));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file)
    return explicit
      ? { problem: `[oslo_policy] policy_file ${name} not found (looked in ${candidates.join(', ') || 'no folder'})` }
      : undefined;
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed === null || parsed === undefined) return { source: file, rules: {} };
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      return { problem: `policy file ${file} is not a mapping of rule names to rules` };
    return { source: file, rules: parsed as PolicyRules };
  } catch (error) {
    return { problem: `cannot parse policy file ${file}: ${(error as Error).message}` };
  }
}

/**
 * Builds the policy of a runtime: base rules, each served resource's defaults, plugins' rules,
 * then the operator's `policy.yaml`. Returns the problems (bad syntax, a missing file that was
 * asked for) so start-up can refuse with all of them, and warnings to log.
 */
export function loadPolicy(sources: PolicySources): { policy: Policy; problems: string[]; warnings: string[] } {
  const byCollection = new Map<string, string>();
  for (const r of sources.resources) {
    byCollection.set(r.collection, r.name);
    byCollection.set(r.name, r.name);
  }
  const singular = (name: string) => byCollection.get(name) ?? name;
  const sets = [
    { source: '@nucleon/core', rules: baseRules },
    ...sources.resources.map((r) => ({ source: `${r.collection} defaults`, rules: r.policies })),
    ...sources.plugins,
  ];
  const file = readPolicyFile(sources.config);
  const problems: string[] = [];
  if (file && 'problem' in file) problems.push(file.problem);
  else if (file) sets.push(file);
  const built = Policy.build(sets, singular);
  return { policy: built.policy, problems: [...problems, ...built.problems], warnings: built.warnings };
}

/** What a caller may read of a resource, decided once per caller kind (see {@link PolicyEnforcer.readPlan}). */
export interface ReadPlan {
  /** Attributes no row shows to this caller (`provider:*` for members). */
  readonly excluded: ReadonlySet<string>;
  /** The `get_<resource>` rule when it depends on the row (members), else undefined. */
  readonly rowRule?: Check;
  /** Attribute rules that depend on the row. */
  readonly rowAttributes: ReadonlyArray<{ readonly name: string; readonly check: Check }>;
}

const ALWAYS: Check = { type: 'always' };

function andChecks(checks: readonly Check[]): Check {
  // Left-deep, as Neutron builds its match rule: `((rule:a and rule:b) and rule:c)`.
  return checks.slice(1).reduce<Check>((left, right) => ({ type: 'and', checks: [left, right] }), checks[0]!);
}

/** Keys set in a sub-attribute value: a dict's keys, or those of a list of dicts (`fixed_ips`). */
function subKeys(value: unknown): string[] {
  if (Array.isArray(value))
    return [...new Set(value.flatMap((v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [])))];
  if (value && typeof value === 'object') return Object.keys(value);
  return [];
}

/**
 * Neutron's policy enforcement for the API: the match rule of a request (`rule:create_port` and
 * one rule per policy-enforced attribute it sets), 403 for what the caller may see but not do,
 * the resource's 404 for what it may not see, and reads filtered by row and by attribute.
 */
export class PolicyEnforcer {
  private readonly plans = new Map<string, ReadPlan>();

  constructor(readonly policy: Policy) {}

  /** Credentials and their key, per request context (reads ask for them several times). */
  private readonly known = new WeakMap<Identity, { credentials: Credentials; key: string }>();

  /** The credentials rules are checked with. */
  credentials(identity: Identity): Credentials {
    return this.describe(identity).credentials;
  }

  /** What identifies a caller to policy (plans and policy-filtered reads are kept per key). */
  credentialsKey(identity: Identity): string {
    return this.describe(identity).key;
  }

  private describe(identity: Identity): { credentials: Credentials; key: string } {
    let known = this.known.get(identity);
    if (!known) {
      const credentials = this.toCredentials(identity);
      known = { credentials, key: JSON.stringify(credentials) };
      this.known.set(identity, known);
    }
    return known;
  }

  private toCredentials(identity: Identity): Credentials {
    return {
      ...(identity.userId !== undefined ? { user_id: identity.userId } : {}),
      ...(identity.projectId !== undefined ? { project_id: identity.projectId, tenant_id: identity.projectId } : {}),
      ...(identity.systemScope !== undefined ? { system_scope: identity.systemScope } : {}),
      roles: identity.roles.map((r) => r.toLowerCase()),
      is_admin: identity.isAdmin,
    };
  }

  /** Whether an identity is an admin: the `context_is_admin` rule (oslo.context's is_admin). */
  isAdmin(identity: Omit<Identity, 'isAdmin'>): boolean {
    return this.policy.check('context_is_admin', this.toCredentials({ ...identity, isAdmin: false })) === true;
  }

  /** Evaluates one named rule against a target without parents (quotas, plugins' own checks). */
  allows(ctx: Context, rule: string, target: PolicyTarget): boolean {
    return this.policy.check(rule, this.credentials(ctx), target) === true;
  }

  /** {@link allows}, or 403 PolicyNotAuthorized. */
  authorize(ctx: Context, rule: string, target: PolicyTarget): void {
    if (!this.allows(ctx, rule, target)) throw PolicyNotAuthorized({ rule: `rule:${rule}` });
  }

  /**
   * The match rule of a write: `rule:<action>` and, per attribute the request sets that is
   * policy-enforced, `rule:<action>:<attr>` (plus defined sub-attribute rules such as
   * `create_port:fixed_ips:ip_address`).
   */
  matchRule(served: ServedResource, action: string, body: Row, explicit: Iterable<string>): Check {
    const checks: Check[] = [{ type: 'rule', name: action }];
    const set = new Set(explicit);
    for (const { name, spec } of served.attributes) {
      if (!spec.enforcePolicy || !set.has(name)) continue;
      let check: Check = { type: 'rule', name: `${action}:${name}` };
      const subRules = subKeys(body[name])
        .map((key) => `${action}:${name}:${key}`)
        .filter((rule) => this.policy.has(rule))
        .map((rule): Check => ({ type: 'rule', name: rule }));
      if (subRules.length > 0) check = andChecks([check, andChecks(subRules)]);
      checks.push(check);
    }
    return andChecks(checks);
  }

  /**
   * Checks a create (after {@link checkProjectOf}): Neutron's ownership hook, then the match rule
   * (403 PolicyNotAuthorized).
   */
  async authorizeCreate(ctx: Context, served: ServedResource, item: Row, explicit: Iterable<string>): Promise<void> {
    await this.checkNetworkOwnership(ctx, served, item);
    // On create, a value equal to the attribute's default is not "explicitly set" (Neutron's
    // `_is_attribute_explicitly_set`): `shared: false` needs no admin.
    const set = [...explicit].filter((name) => {
      const spec = served.specs.get(name);
      const fallback = spec?.default?.value;
      return !spec?.default || typeof fallback === 'function' || JSON.stringify(item[name]) !== JSON.stringify(fallback);
    });
    const check = this.matchRule(served, `create_${served.definition.name}`, item, set);
    if (!(await this.passes(ctx, check, served.definition.name, [item]))[0]) throw PolicyNotAuthorized({ rule: ruleText(check) });
  }

  /**
   * Neutron's ownership hook (`pecan_wsgi/hooks/ownership_validation.py`), before any policy
   * rule: a port or subnet on a network the caller cannot see is that network's 404; on a network
   * it sees (external) but that is neither its own nor shared, a 403.
   */
  private async checkNetworkOwnership(ctx: Context, served: ServedResource, item: Row): Promise<void> {
    if (ctx.isAdmin || !NETWORK_CHILDREN.includes(served.definition.name) || typeof item.network_id !== 'string') return;
    const networks = ctx.runtime.resources.get('network');
    if (!networks) return;
    const network = (await networks.table.find(ctx, item.network_id)) as Row | undefined;
    if (!network) throw networks.definition.notFound(item.network_id);
    if (network.shared !== true && network.project_id !== item.project_id) {
      throw HTTPForbidden({ message: `Tenant ${String(item.project_id)} not allowed to create ${served.definition.name} on this network` });
    }
  }

  /** Non-admins may not name another project in a create body. */
  checkProjectOf(ctx: Context, raw: unknown): void {
    if (ctx.isAdmin || typeof raw !== 'object' || raw === null) return;
    const body = raw as Row;
    for (const key of ['project_id', 'tenant_id']) {
      if (body[key] !== undefined && body[key] !== ctx.projectId) {
        throw HTTPBadRequest({
          message: "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
        });
      }
    }
  }

  /**
   * Checks a change of an existing row (update, delete, member action): denied changes are 403
   * when the caller may see the row and its 404 otherwise, so existence does not leak.
   */
  async authorizeChange(ctx: Context, served: ServedResource, action: string, original: Row, changes: Row = {}): Promise<void> {
    const check = this.matchRule(served, action, changes, Object.keys(changes));
    const [allowed] = await this.passes(ctx, check, served.definition.name, [{ ...original, ...changes }]);
    if (allowed) return;
    const [visible] = await this.passes(ctx, { type: 'rule', name: `get_${served.definition.name}` }, served.definition.name, [original]);
    if (!visible) throw served.definition.notFound(String(original.id));
    throw PolicyNotAuthorized({ rule: ruleText(check) });
  }

  /**
   * What this caller may read of a resource, from the rules alone: attributes it never sees,
   * and the rules that depend on each row. Admins usually get an empty plan (no row work).
   */
  readPlan(ctx: Context, served: ServedResource): ReadPlan {
    const creds = this.credentials(ctx);
    const key = `${served.definition.name}|${this.credentialsKey(ctx)}`;
    let plan = this.plans.get(key);
    if (plan) return plan;
    const excluded = new Set<string>();
    const rowAttributes: Array<{ name: string; check: Check }> = [];
    for (const { name, spec } of served.attributes) {
      const rule = `get_${served.definition.name}:${name}`;
      // Neutron checks attribute read rules only where one is defined (`might_not_exist`).
      if (!spec.visible || !this.policy.has(rule)) continue;
      const check = this.policy.rule(rule)!;
      const verdict = this.policy.evaluate(check, creds, undefined);
      if (verdict === false) excluded.add(name);
      else if (verdict === undefined) rowAttributes.push({ name, check });
    }
    const getRule = this.policy.rule(`get_${served.definition.name}`);
    const rowRule =
      getRule && this.policy.evaluate(getRule, creds, undefined) === true ? undefined : (getRule ?? { type: 'never' as const });
    plan = { excluded, ...(rowRule ? { rowRule } : {}), rowAttributes };
    if (this.plans.size > 1000) this.plans.clear();
    this.plans.set(key, plan);
    return plan;
  }

  /** True when rows need no per-row work for this plan (render and send as they are). */
  static isStatic(plan: ReadPlan): boolean {
    return !plan.rowRule && plan.rowAttributes.length === 0;
  }

  /** Drops rows the caller may not see and attributes it may not read, by the plan. */
  async filterRows(ctx: Context, served: ServedResource, plan: ReadPlan, rows: Row[]): Promise<Row[]> {
    if (PolicyEnforcer.isStatic(plan)) return rows;
    const checks = [plan.rowRule ?? ALWAYS, ...plan.rowAttributes.map((a) => a.check)];
    const verdicts = await this.verdicts(ctx, served.definition.name, checks, rows);
    return rows.filter((row, i) => {
      const [visible, ...attributes] = verdicts[i]!;
      if (!visible) return false;
      plan.rowAttributes.forEach(({ name }, j) => {
        if (!attributes[j]) delete row[name];
      });
      return true;
    });
  }

  /**
   * Removes attributes the caller may not read from rows it may see (create and update
   * responses: Neutron strips them there too, without hiding the row).
   */
  async stripAttributes(ctx: Context, served: ServedResource, rows: Row[]): Promise<Row[]> {
    const plan = this.readPlan(ctx, served);
    if (plan.excluded.size === 0 && plan.rowAttributes.length === 0) return rows;
    const verdicts = await this.verdicts(
      ctx,
      served.definition.name,
      plan.rowAttributes.map((a) => a.check),
      rows,
    );
    rows.forEach((row, i) => {
      for (const name of plan.excluded) delete row[name];
      plan.rowAttributes.forEach(({ name }, j) => {
        if (!verdicts[i]![j]) delete row[name];
      });
    });
    return rows;
  }

  /** Evaluates a check for each row. */
  private async passes(ctx: Context, check: Check, resource: string, rows: Row[]): Promise<boolean[]> {
    return (await this.verdicts(ctx, resource, [check], rows)).map(([verdict]) => verdict!);
  }

  /**
   * Evaluates checks for each row. Rows are first checked on their own attributes; only rows
   * whose outcome depends on a parent (a port not the caller's: is its network?) have their
   * parents loaded, in one query per parent kind.
   */
  private async verdicts(ctx: Context, resource: string, checks: readonly Check[], rows: readonly Row[]): Promise<boolean[][]> {
    const creds = this.credentials(ctx);
    const results: Verdict[][] = rows.map((values) => checks.map((check) => this.policy.evaluate(check, creds, { resource, values })));
    const pending = results.flatMap((verdicts, i) => (verdicts.includes(undefined) ? [i] : []));
    if (pending.length > 0) {
      const refs = this.policy.references({ type: 'and', checks: [...checks] }, resource);
      const targets = await this.withParents(
        ctx,
        resource,
        refs,
        pending.map((i) => rows[i]!),
      );
      pending.forEach((rowIndex, j) => {
        results[rowIndex] = checks.map((check) => this.policy.evaluate(check, creds, targets[j]));
      });
    }
    return results.map((verdicts) => verdicts.map((v) => v === true));
  }

  /** Rows as policy targets with the parents their rules name (read as admin: the rules decide). */
  private async withParents(ctx: Context, resource: string, refs: RuleReferences, rows: readonly Row[]): Promise<PolicyTarget[]> {
    const parents = new Map<string, Map<string, Row>>();
    for (const [parent, fields] of refs.parents) {
      const byId = new Map<string, Row>();
      parents.set(parent, byId);
      const served = ctx.runtime.resources.get(parent);
      const ids = [...new Set(rows.map((r) => r[`${parent}_id`]).filter((id): id is string => typeof id === 'string'))];
      if (!served || ids.length === 0) continue;
      const found = (await served.table.findMany(ctx.elevated(), {
        where: [inArray(served.table.column('id'), ids)],
        fields: ['id', ...fields],
      })) as Row[];
      for (const row of found) byId.set(row.id as string, row);
    }
    return rows.map((values) => ({
      resource,
      values,
      parents: Object.fromEntries([...parents].map(([name, byId]) => [name, byId.get(values[`${name}_id`] as string)])),
    }));
  }
}
