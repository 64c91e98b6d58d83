import { describe, expect, test } from 'vitest';
import { NeutronError } from '../errors/neutron-error.js';
import { attr, toBoolean, toInteger } from './attribute.js';
import { pyRepr } from './python-repr.js';
import { convertValue, parseCreateItem, parseUpdateItem, unwrapCreateBody } from './request-body.js';
import { validateFixedIps, validateHostRoutes, validateIpPools, validateNameservers, validateUuidList } from './validators.js';

function thrown(fn: () => unknown): NeutronError {
  try {
    fn();
  } catch (error) {
    return error as NeutronError;
  }
  throw new Error('did not throw');
}

describe('converters', () => {
  test("convert_to_boolean and convert_to_int accept what Neutron's do", () => {
    expect([true, 'True', 'false', '1', 0].map(toBoolean)).toEqual([true, true, false, true, false]);
    expect(thrown(() => toBoolean('maybe')).message).toBe("Invalid input for operation: 'maybe' cannot be converted to boolean.");
    expect([3, '42', ' 7 '].map(toInteger)).toEqual([3, 42, 7]);
    expect(thrown(() => toInteger(null)).message).toBe("Invalid input for operation: 'None' is not an integer.");
  });
});

describe('validators', () => {
  test('addresses', () => {
    const ip = attr.ip();
    expect(convertValue('gateway_ip', ip.spec, '2001:DB8::1')).toBe('2001:db8::1');
    expect(thrown(() => convertValue('gateway_ip', ip.spec, '10.0.0.256')).message).toBe(
      "Invalid input for gateway_ip. Reason: '10.0.0.256' is not a valid IP address.",
    );
    expect(thrown(() => convertValue('gateway_ip', ip.spec, '010.0.0.1')).message).toContain('is not a valid IP address');
    expect(convertValue('mac', attr.mac().spec, 'FA-16-3E-00-00-01')).toBe('fa:16:3e:00:00:01');
    expect(thrown(() => convertValue('mac', attr.mac().spec, '00:00:00:00:00:00')).type).toBe('HTTPBadRequest');
  });

  test('compound validators', () => {
    expect(validateIpPools([{ start: '10.0.0.2', end: '10.0.0.9' }])).toBeUndefined();
    expect(validateIpPools([{ start: '10.0.0.2' }])).toBe(
      "Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: {'start'}",
    );
    expect(validateNameservers(['1.1.1.1', 'x'])).toBe("'x' is not a valid nameserver. 'x' is not a valid IP address");
    expect(validateHostRoutes([{ destination: '10.0.0.0/8', nexthop: '10.1.1.1' }])).toBeUndefined();
    expect(validateHostRoutes([{ destination: '127.0.0.0/8', nexthop: '10.1.1.1' }])).toBe("'127.0.0.0/8' is not a routable CIDR");
    expect(validateFixedIps([{ ip_address: '10.0.0.1' }, { ip_address: '10.0.0.1' }])).toBe("Duplicate IP address '10.0.0.1'");
    expect(validateUuidList(['x'])).toBe("'x' is not a valid UUID");
  });

  test('python-style rendering of values in messages', () => {
    expect(pyRepr([null, true, 'a', 1, { k: 'v' }])).toBe("[None, True, 'a', 1, {'k': 'v'}]");
  });
});

describe('request bodies', () => {
  const specs = new Map(
    Object.entries({
      name: attr.string(10).post().put().default(''),
      size: attr.integer().post(),
      status: attr.string(),
      project_id: attr.string().post().optional(),
      tenant_id: attr.string().post().optional().computed(),
    }).map(([k, v]) => [k, v.spec]),
  );

  test('POST: unknown, not allowed, required, then values — the first problem wins', () => {
    expect(thrown(() => parseCreateItem({ size: 1, colour: 'red' }, specs, 'p')).message).toBe("Unrecognized attribute(s) 'colour'");
    expect(thrown(() => parseCreateItem({ size: 1, status: 'x' }, specs, 'p')).message).toBe("Attribute 'status' not allowed in POST");
    expect(thrown(() => parseCreateItem({}, specs, 'p')).message).toBe("Failed to parse request. Required attribute 'size' not specified");
    expect(parseCreateItem({ size: '2' }, specs, 'p')).toEqual({ size: 2, name: '', project_id: 'p', tenant_id: 'p' });
    expect(thrown(() => parseCreateItem({ size: 1 }, specs, undefined)).message).toBe(
      'Running without keystone AuthN requires that tenant_id is specified',
    );
  });

  test('PUT: read-only attributes are refused', () => {
    expect(thrown(() => parseUpdateItem({ status: 'x' }, specs)).message).toBe('Cannot update read-only attribute status');
    expect(parseUpdateItem({ name: 'n' }, specs)).toEqual({ name: 'n' });
  });

  test('wrappers', () => {
    expect(unwrapCreateBody({ widget: { a: 1 } }, { name: 'widget', collection: 'widgets' })).toEqual({ bulk: false, items: [{ a: 1 }] });
    expect(unwrapCreateBody({ widgets: [{}, {}] }, { name: 'widget', collection: 'widgets' }).items).toHaveLength(2);
    expect(thrown(() => unwrapCreateBody([], { name: 'widget', collection: 'widgets' })).message).toBe(
      "Unable to find 'widget' in request body",
    );
  });
});
