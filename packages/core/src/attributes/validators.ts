/**
 * Neutron-lib's compound validators (`type:ip_pools`, `type:nameservers`, `type:hostroutes`,
 * `type:fixed_ips`, `type:uuid_list`, …) with their messages, for attribute maps.
 */
import { InvalidInput } from '../errors/neutron-error.js';
import { canonicalIp, parseCidr } from '../net/ip.js';
import { ipAddressReason, isUuid, type Converter, type Validator } from './attribute.js';
import { pyRepr, pyStr } from './python-repr.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pySet(keys: readonly string[]): string {
  return `{${keys.map((k) => pyRepr(k)).join(', ')}}`;
}

/** `_verify_dict_keys` with strict key equality. */
function verifyKeys(expected: readonly string[], value: unknown): string | undefined {
  if (!isObject(value)) {
    return `Invalid input. '${pyStr(value)}' must be a dictionary with keys: ${pySet(expected)}`;
  }
  const provided = Object.keys(value);
  if (provided.length !== expected.length || !expected.every((k) => k in value)) {
    return `Validation of dictionary's keys failed. Expected keys: ${pySet(expected)} Provided keys: ${pySet(provided)}`;
  }
  return undefined;
}

/** `validate_route_cidr`: a CIDR without host bits, not loopback. */
function routeCidrReason(value: unknown): string | undefined {
  const cidr = parseCidr(value);
  if (!cidr || cidr.hostBitsSet) return `'${pyStr(value)}' is not a valid CIDR`;
  if ((cidr.version === 4 && cidr.text.startsWith('127.')) || (cidr.version === 6 && cidr.text === '::1/128')) {
    return `'${pyStr(value)}' is not a routable CIDR`;
  }
  return undefined;
}

/** An allocation pool. */
export interface AllocationPool {
  start: string;
  end: string;
}
/** A host route. */
export interface HostRoute {
  destination: string;
  nexthop: string;
}
/** One `fixed_ips` entry of a port request. */
export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

/** `type:ip_pools`. */
export const validateIpPools: Validator = (value) => {
  if (!Array.isArray(value)) return `Invalid data format for IP pool: '${pyStr(value)}'`;
  for (const pool of value) {
    const reason = verifyKeys(['start', 'end'], pool) ?? ipAddressReason(pool.start) ?? ipAddressReason(pool.end);
    if (reason) return reason;
  }
  return undefined;
};

/** `convert_allocation_pools_to_canonical_format`. */
export const canonicalPools: Converter = (value) => {
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw InvalidInput({ error_message: 'Invalid data format for allocation pools' });
  }
  return value.map((pool) =>
    Object.fromEntries(Object.entries(pool).map(([k, v]) => [k, typeof v === 'string' ? (canonicalIp(v) ?? v) : v])),
  );
};

/** `convert_none_to_empty_list`. */
export const noneToEmptyList: Converter = (value) => (value === null ? [] : value);

/** `type:nameservers`. */
export const validateNameservers: Validator = (value) => {
  if (!Array.isArray(value)) return `Invalid data format for nameserver: '${pyStr(value)}'`;
  const seen = new Set<string>();
  for (const host of value) {
    const reason = ipAddressReason(host);
    if (reason) return `'${pyStr(host)}' is not a valid nameserver. ${reason}`;
    if (seen.has(host)) return `Duplicate nameserver '${host}'`;
    seen.add(host);
  }
  return undefined;
};

/** `type:hostroutes`. */
export const validateHostRoutes: Validator = (value) => {
  if (!Array.isArray(value)) return `Invalid data format for hostroute: '${pyStr(value)}'`;
  const seen = new Set<string>();
  for (const route of value) {
    const reason = verifyKeys(['destination', 'nexthop'], route) ?? routeCidrReason(route.destination) ?? ipAddressReason(route.nexthop);
    if (reason) return reason;
    const key = `${route.destination}|${route.nexthop}`;
    if (seen.has(key)) return `Duplicate hostroute '${pyRepr(route)}'`;
    seen.add(key);
  }
  return undefined;
};

/** `type:fixed_ips`. */
export const validateFixedIps: Validator = (value) => {
  if (!Array.isArray(value)) return `Invalid data format for fixed IP: '${pyStr(value)}'`;
  const seen = new Set<string>();
  for (const entry of value) {
    if (!isObject(entry)) return `Invalid data format for fixed IP: '${pyStr(entry)}'`;
    if ('ip_address' in entry) {
      if (seen.has(String(entry.ip_address))) return `Duplicate IP address '${pyStr(entry.ip_address)}'`;
      const reason = ipAddressReason(entry.ip_address);
      if (reason) return reason;
      seen.add(String(entry.ip_address));
    }
    if ('subnet_id' in entry && !isUuid(entry.subnet_id)) return `'${pyStr(entry.subnet_id)}' is not a valid UUID`;
  }
  return undefined;
};

/** Canonical addresses and lower-case ids in `fixed_ips` requests. */
export const canonicalFixedIps: Converter = (value) =>
  Array.isArray(value)
    ? value.map((entry) =>
        isObject(entry)
          ? {
              ...entry,
              ...(typeof entry.ip_address === 'string' ? { ip_address: canonicalIp(entry.ip_address) ?? entry.ip_address } : {}),
              ...(typeof entry.subnet_id === 'string' ? { subnet_id: entry.subnet_id.toLowerCase() } : {}),
            }
          : entry,
      )
    : value;

/** `type:uuid_list`. */
export const validateUuidList: Validator = (value) => {
  if (!Array.isArray(value)) return `'${pyStr(value)}' is not a list`;
  const duplicates = value.filter((v, i) => value.indexOf(v) !== i);
  if (duplicates.length > 0) return `Duplicate items in the list: '${duplicates.map(pyStr).join(', ')}'`;
  for (const item of value) if (!isUuid(item)) return `'${pyStr(item)}' is not a valid UUID`;
  return undefined;
};

/** `type:list_of_unique_strings` with a maximum length. */
export function validateUniqueStrings(maxLength: number): Validator {
  return (value) => {
    if (!Array.isArray(value)) return `'${pyStr(value)}' is not a list`;
    const duplicates = value.filter((v, i) => value.indexOf(v) !== i);
    if (duplicates.length > 0) return `Duplicate items in the list: '${duplicates.map(pyStr).join(', ')}'`;
    for (const item of value) {
      if (typeof item !== 'string') return `'${pyStr(item)}' is not a valid string`;
      if (item.length > maxLength) return `'${item}' exceeds maximum length of ${maxLength}`;
    }
    return undefined;
  };
}

/** `type:dict_or_none`. */
export const validateDictOrNone: Validator = (value) =>
  value === null || isObject(value) ? undefined : `'${pyStr(value)}' is not a dictionary`;
