import { describe, expect, it } from 'vitest';
import { baseRules } from './base-rules.js';
import { Policy, type Credentials, type PolicyTarget } from './policy.js';
import { parseRule, ruleText, RuleSyntaxError } from './rule-language.js';

const singular = (name: string) => ({ networks: 'network', ports: 'port' })[name] ?? name;
const member = (project: string, roles = ['member', 'reader']): Credentials => ({
  project_id: project,
  tenant_id: project,
  roles,
  is_admin: false,
});
const admin: Credentials = { project_id: 'admin-project', tenant_id: 'admin-project', roles: ['admin'], is_admin: true };

function build(extra: Record<string, string> = {}) {
  const { policy, problems } = Policy.build(
    [
      { source: 'base', rules: baseRules },
      {
        source: 'test',
        rules: {
          get_network: 'rule:admin_or_owner or rule:shared or rule:external',
          get_port: 'rule:admin_owner_or_network_owner',
          'create_port:device_owner': 'not rule:network_device or rule:admin_or_network_owner',
          ...extra,
        },
      },
    ],
    singular,
  );
  expect(problems).toEqual([]);
  return policy;
}

describe('the rule language', () => {
  it('parses checks, precedence and parentheses as oslo.policy does', () => {
    expect(parseRule('')).toEqual({ type: 'always' });
    expect(parseRule('@')).toEqual({ type: 'always' });
    expect(parseRule('!')).toEqual({ type: 'never' });
    expect(ruleText(parseRule('rule:a or rule:b and not role:Admin'))).toBe('(rule:a or (rule:b and not role:admin))');
    expect(ruleText(parseRule('(rule:a or rule:b) and rule:c'))).toBe('((rule:a or rule:b) and rule:c)');
    expect(parseRule('tenant_id:%(network:tenant_id)s')).toEqual({ type: 'generic', kind: 'tenant_id', targetKey: 'network:tenant_id' });
    expect(parseRule('((tenant_id:%(tenant_id)s))')).toEqual({ type: 'generic', kind: 'tenant_id', targetKey: 'tenant_id' });
    expect(parseRule('field:networks:router:external=True')).toMatchObject({
      type: 'field',
      resource: 'networks',
      field: 'router:external',
      value: 'True',
    });
    expect(parseRule('is_admin:True')).toEqual({ type: 'generic', kind: 'is_admin', literal: 'True' });
  });

  it('refuses what does not parse, saying why', () => {
    for (const bad of ['rule:a or', '(rule:a', 'rule:a)', 'and rule:a', 'rule:a rule:b', 'nocolon', 'http://example.com']) {
      expect(() => parseRule(bad), bad).toThrow(RuleSyntaxError);
    }
    expect(() => parseRule('(rule:a')).toThrow('missing ")"');
  });
});

describe('evaluating rules', () => {
  const network = (values: Record<string, unknown>): PolicyTarget => ({ resource: 'network', values });

  it('owner, admin, shared and external', () => {
    const policy = build();
    expect(policy.check('get_network', member('a'), network({ tenant_id: 'a', shared: false }))).toBe(true);
    expect(policy.check('get_network', member('b'), network({ tenant_id: 'a', shared: false }))).toBe(false);
    expect(policy.check('get_network', member('b'), network({ project_id: 'a', shared: true }))).toBe(true);
    expect(policy.check('get_network', member('b'), network({ project_id: 'a', shared: false, 'router:external': true }))).toBe(true);
    expect(policy.check('get_network', admin, network({ project_id: 'a' }))).toBe(true);
  });

  it('answers without a target when the caller alone decides, and says when the row does', () => {
    const policy = build();
    expect(policy.check('admin_only', admin)).toBe(true);
    expect(policy.check('admin_only', member('a'))).toBe(false);
    expect(policy.check('get_network', admin)).toBe(true);
    expect(policy.check('get_network', member('a'))).toBeUndefined();
    expect(policy.check('create_port:device_owner', member('a'))).toBeUndefined();
  });

  it("reads a parent's attributes: the network owner of a port, a shared network", () => {
    const policy = build();
    const port = (parent: Record<string, unknown> | undefined, values: Record<string, unknown> = {}): PolicyTarget => ({
      resource: 'port',
      values: { tenant_id: 'b', network_id: 'n1', ...values },
      parents: { network: parent },
    });
    expect(policy.check('get_port', member('a'), port({ tenant_id: 'a' }))).toBe(true);
    expect(policy.check('get_port', member('c'), port({ tenant_id: 'a' }))).toBe(false);
    expect(policy.check('get_port', member('c'), port(undefined))).toBe(false);
    expect(policy.check('create_port:device_owner', member('b'), port({ tenant_id: 'a' }, { device_owner: 'compute:nova' }))).toBe(true);
    expect(policy.check('create_port:device_owner', member('b'), port({ tenant_id: 'a' }, { device_owner: 'network:dhcp' }))).toBe(false);
    expect(policy.check('create_port:device_owner', member('a'), port({ tenant_id: 'a' }, { device_owner: 'network:dhcp' }))).toBe(true);
    expect(policy.references(policy.rule('get_port'), 'port')).toEqual({
      own: new Set(['tenant_id', 'network_id', 'project_id']),
      parents: new Map([['network', new Set(['tenant_id'])]]),
    });
  });

  it('undefined rules fall back to `default` (failing without one) and are reported as warnings', () => {
    const policy = build();
    expect(policy.check('update_widget', member('a'), { resource: 'widget', values: { tenant_id: 'a' } })).toBe(true);
    expect(policy.check('update_widget', member('b'), { resource: 'widget', values: { tenant_id: 'a' } })).toBe(false);
    const {
      policy: broken,
      problems,
      warnings,
    } = Policy.build([{ source: 'x', rules: { a: 'rule:missing or role:admin', b: 'rule:a and' } }], singular);
    expect(problems).toEqual(['x: cannot parse policy rule "rule:a and": unexpected end']);
    expect(warnings).toEqual(['policy rule a refers to undefined rule missing']);
    expect(broken.check('a', admin)).toBe(true);
    expect(broken.check('a', member('a'))).toBe(false);
  });

  it('roles compare case-insensitively; literal checks compare as Python prints values', () => {
    const policy = build({ r: 'role:Member', l: 'is_admin:True', p: "project_id:'a'" });
    expect(policy.check('r', member('a'))).toBe(true);
    expect(policy.check('l', admin)).toBe(true);
    expect(policy.check('l', member('a'))).toBe(false);
    expect(policy.check('p', member('a'))).toBe(true);
    expect(policy.check('p', member('b'))).toBe(false);
  });
});
