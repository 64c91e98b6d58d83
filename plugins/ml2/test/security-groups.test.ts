import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMl2();
});
afterAll(() => server?.close());

function project(name: string) {
  return { 'x-project-id': name };
}

describe('the default security group', () => {
  test('is created on first use with Neutron default rules, exactly once under concurrency', async () => {
    const headers = project('fresh-project');
    const lists = await Promise.all(Array.from({ length: 10 }, () => server.request('GET', '/v2.0/security-groups', undefined, headers)));
    for (const list of lists) expect(list.status).toBe(200);
    const groups = (await server.request('GET', '/v2.0/security-groups?project_id=fresh-project')).body.security_groups;
    expect(groups).toHaveLength(1);
    const [group] = groups;
    expect(group).toMatchObject({ name: 'default', description: 'Default security group', stateful: true, revision_number: 1 });
    const rules = group.security_group_rules.map((r: any) => [r.direction, r.ethertype, r.remote_group_id === group.id, r.protocol]);
    expect(rules.sort()).toEqual([
      ['egress', 'IPv4', false, null],
      ['egress', 'IPv6', false, null],
      ['ingress', 'IPv4', true, null],
      ['ingress', 'IPv6', true, null],
    ]);
  });

  test('concurrent first port creates of a new project share one default group', async () => {
    const net = await create(server, 'networks', 'network', { shared: true });
    await create(server, 'subnets', 'subnet', { network_id: net.id, ip_version: 4, cidr: '10.5.0.0/24' });
    const headers = project('racing-project');
    const ports = await Promise.all(
      Array.from({ length: 8 }, () => server.request('POST', '/v2.0/ports', { port: { network_id: net.id } }, headers)),
    );
    expect(ports.every((p) => p.status === 201)).toBe(true);
    expect(new Set(ports.map((p) => p.body.port.security_groups[0])).size).toBe(1);
    const groups = (await server.request('GET', '/v2.0/security-groups?project_id=racing-project&name=default')).body.security_groups;
    expect(groups).toHaveLength(1);
  });

  test('cannot be renamed; another group cannot be called default', async () => {
    const headers = project('rename-project');
    const [group] = (await server.request('GET', '/v2.0/security-groups', undefined, headers)).body.security_groups;
    const rename = await server.request('PUT', `/v2.0/security-groups/${group.id}`, { security_group: { name: 'other' } }, headers);
    expect(neutronError(rename)).toEqual({
      type: 'SecurityGroupCannotUpdateDefault',
      message: 'Updating default security group not allowed.',
      detail: '',
    });
    const described = await server.request(
      'PUT',
      `/v2.0/security-groups/${group.id}`,
      { security_group: { description: 'mine' } },
      headers,
    );
    expect(described.body.security_group.description).toBe('mine');
    const named = await server.request('POST', '/v2.0/security-groups', { security_group: { name: 'Default' } }, headers);
    expect(named.status).toBe(409);
    expect(neutronError(named)).toEqual({
      type: 'SecurityGroupDefaultAlreadyExists',
      message: 'Default security group already exists.',
      detail: '',
    });
  });
});

describe('security groups and rules', () => {
  test('a new group has two egress rules; rules are validated and deduplicated', async () => {
    const group = await create(server, 'security-groups', 'security_group', { name: 'web', description: 'web' });
    expect(group).toMatchObject({ name: 'web', stateful: true, revision_number: 1, tags: [] });
    expect(group.security_group_rules.map((r: any) => [r.direction, r.ethertype]).sort()).toEqual([
      ['egress', 'IPv4'],
      ['egress', 'IPv6'],
    ]);
    const ssh = {
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    };
    const rule = await create(server, 'security-group-rules', 'security_group_rule', ssh);
    expect(rule).toMatchObject({ ...ssh, normalized_cidr: '0.0.0.0/0', remote_group_id: null, description: '', revision_number: 0 });
    expect(rule.tags).toBeUndefined();
    const duplicate = await server.request('POST', '/v2.0/security-group-rules', { security_group_rule: { ...ssh, protocol: '6' } });
    expect(neutronError(duplicate)).toEqual({
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${rule.id}.`,
      detail: '',
    });
    const icmp = await create(server, 'security-group-rules', 'security_group_rule', {
      security_group_id: group.id,
      direction: 'ingress',
      protocol: 'icmp',
      remote_ip_prefix: '10.0.0.1/8',
    });
    expect(icmp).toMatchObject({ ethertype: 'IPv4', port_range_min: null, remote_ip_prefix: '10.0.0.1/8', normalized_cidr: '10.0.0.0/8' });
    const shown = (await server.request('GET', `/v2.0/security-groups/${group.id}`)).body.security_group;
    expect(shown.revision_number).toBe(3);
    expect(shown.security_group_rules).toHaveLength(4);
  });

  test('rule errors match Neutron', async () => {
    const group = await create(server, 'security-groups', 'security_group', { name: 'errors' });
    const base = { security_group_id: group.id, direction: 'ingress' };
    const cases: Array<[object, number, string, string?]> = [
      [{ protocol: 'bogus' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [
        { protocol: 'tcp', port_range_min: 100, port_range_max: 10 },
        400,
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      ],
      [{ port_range_min: 22, port_range_max: 22 }, 400, 'SecurityGroupProtocolRequiredWithPorts'],
      [
        { protocol: 'tcp', port_range_min: 70000, port_range_max: 70000 },
        400,
        'SecurityGroupInvalidPortValue',
        'Invalid value for port 70000',
      ],
      [{ protocol: 'icmp', port_range_max: 3 }, 400, 'SecurityGroupMissingIcmpType'],
      [{ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 400, 'SecurityGroupInvalidProtocolForPort'],
      [
        { ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' },
        400,
        'SecurityGroupRuleParameterConflict',
        'Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8',
      ],
      [
        { ethertype: 'IPv5' },
        400,
        'SecurityGroupRuleInvalidEtherType',
        "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6'].",
      ],
      [{ remote_ip_prefix: 'nonsense' }, 400, 'InvalidCIDR', 'Invalid CIDR nonsense given as IP prefix.'],
      [
        { direction: 'sideways' },
        400,
        'HTTPBadRequest',
        "Invalid input for direction. Reason: 'sideways' is not in ['ingress', 'egress'].",
      ],
      [{ security_group_id: '00000000-0000-0000-0000-000000000000' }, 404, 'SecurityGroupNotFound'],
    ];
    for (const [body, status, type, message] of cases) {
      const response = await server.request('POST', '/v2.0/security-group-rules', { security_group_rule: { ...base, ...body } });
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(neutronError(response).type, JSON.stringify(body)).toBe(type);
      if (message) expect(neutronError(response).message).toBe(message);
    }
    const protocol = await server.request('POST', '/v2.0/security-group-rules', { security_group_rule: { ...base, protocol: 'bogus' } });
    // Neutron's order (capture 104): its protocol map's, with icmpv6 after ipv6-icmp.
    expect(neutronError(protocol).message).toBe(
      "Security group rule protocol bogus not supported. Only protocol values [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.",
    );
    const noUpdate = await server.request('PUT', `/v2.0/security-group-rules/${group.security_group_rules[0].id}`, {
      security_group_rule: {},
    });
    expect(noUpdate.status).toBe(404);
  });

  test('a group in use by a port cannot be deleted; deleting a group takes its rules', async () => {
    const group = await create(server, 'security-groups', 'security_group', { name: 'used' });
    const net = await create(server, 'networks', 'network', {});
    const port = await create(server, 'ports', 'port', { network_id: net.id, security_groups: [group.id] });
    const inUse = await server.request('DELETE', `/v2.0/security-groups/${group.id}`);
    expect(neutronError(inUse)).toEqual({ type: 'SecurityGroupInUse', message: `Security Group ${group.id} in use.`, detail: '' });
    const updated = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { security_groups: [] } });
    expect(updated.body.port.revision_number).toBe(2);
    expect((await server.request('DELETE', `/v2.0/security-groups/${group.id}`)).status).toBe(204);
    const rules = await server.request('GET', `/v2.0/security-group-rules?security_group_id=${group.id}`);
    expect(rules.body.security_group_rules).toEqual([]);
  });

  test('deleting a rule bumps its group', async () => {
    const group = await create(server, 'security-groups', 'security_group', { name: 'bump' });
    const ruleId = group.security_group_rules[0].id;
    expect((await server.request('DELETE', `/v2.0/security-group-rules/${ruleId}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/security-groups/${group.id}`)).body.security_group.revision_number).toBe(2);
    expect(neutronError(await server.request('DELETE', `/v2.0/security-group-rules/${ruleId}`))).toEqual({
      type: 'SecurityGroupRuleNotFound',
      message: `Security group rule ${ruleId} does not exist`,
      detail: '',
    });
  });
});
