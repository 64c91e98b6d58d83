/**
 * neutron-lib's DNS validators (`api/validators/dns.py`) and the `dns-integration` converter,
 * with Neutron's messages: `dns_name` of ports (`type:dns_host_name`), `dns_name` of floating IPs
 * (`type:fip_dns_host_name`) and `dns_domain` of networks and floating IPs (`type:dns_domain_name`).
 */
import { InvalidInput } from '../errors/neutron-error.js';
import { Attribute, type Converter, type Validator } from './attribute.js';
import { pyStr } from './python-repr.js';

/** Longest FQDN Neutron stores (neutron-lib's `FQDN_FIELD_SIZE`). */
export const FQDN_MAX_LEN = 255;
/** `[DEFAULT] dns_domain`'s default, dotted (neutron-lib's `DNS_DOMAIN_DEFAULT`). */
export const DNS_DOMAIN_DEFAULT = 'openstacklocal.';
/** Placeholders a label may be (`dns-integration-domain-keywords`); neutron-lib's regex accepts them always. */
export const DNS_LABEL_KEYWORDS = ['project_id', 'project_name', 'user_name', 'user_id'] as const;

// Python's `$` also matches before a final newline; `re.match` anchors at the start.
const DNS_LABEL_RE = new RegExp(`^([a-z0-9-]{1,63}|${DNS_LABEL_KEYWORDS.map((k) => `<${k}>`).join('|')})\\n?$`);
const ALL_NUMERIC_RE = /^[0-9]+\n?$/;

/** Python's `len()` of a string: code points, not UTF-16 units. */
function pyLen(value: string): number {
  return Array.from(value).length;
}

/** `convert_string_to_case_insensitive`: lower-cases strings, refuses anything else. */
export const toCaseInsensitive: Converter = (value) => {
  if (typeof value !== 'string') throw InvalidInput({ error_message: `Input value ${pyStr(value)} must be string type` });
  return value.toLowerCase();
};

/** `_validate_dns_format`: RFC 1123 labels, a trailing '.' marks an FQDN. */
function dnsFormatReason(data: string, maxLen: number): string | undefined {
  if (!data) return undefined;
  const reason = ((): string | undefined => {
    const trimmed = data.endsWith('.') ? data.slice(0, -1) : data;
    if (pyLen(trimmed) > maxLen) return `'${trimmed}' exceeds the ${maxLen} character FQDN limit`;
    const labels = trimmed.split('.');
    for (const label of labels) {
      if (!label) return 'Encountered an empty component';
      if (label.endsWith('-') || label.startsWith('-')) return `Name '${label}' must not start or end with a hyphen`;
      if (!DNS_LABEL_RE.test(label)) {
        return `Name '${label}' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen`;
      }
    }
    // RFC 1123 hints that a TLD can't be all numeric.
    const last = labels[labels.length - 1]!;
    if (labels.length > 1 && ALL_NUMERIC_RE.test(last)) return `TLD '${last}' must not be all numeric`;
    return undefined;
  })();
  return reason === undefined ? undefined : `'${data}' not a valid PQDN or FQDN. Reason: ${reason}`;
}

/** `_get_dns_domain_config`: `[DEFAULT] dns_domain` with its trailing dot ('' when unset). */
export function dottedDnsDomain(configured: string): string {
  if (!configured) return '';
  return configured.endsWith('.') ? configured : `${configured}.`;
}

/**
 * Whether ports' `dns_name` is used (Neutron's `_get_request_dns_name`): only when `[DEFAULT]
 * dns_domain` is set to something other than its default; otherwise a requested name is ignored
 * and host names are derived from the addresses.
 */
export function portDnsNamesUsed(configured: string): boolean {
  const domain = dottedDnsDomain(configured);
  return domain !== '' && domain !== DNS_DOMAIN_DEFAULT;
}

/** `_validate_dns_name_with_dns_domain`: the FQDN a name makes with `[DEFAULT] dns_domain` must fit. */
function dnsNameWithDomainReason(dnsName: string, configured: string): string | undefined {
  const domain = dottedDnsDomain(configured);
  const higherLabels = domain ? `.${domain}` : domain;
  const higherLen = pyLen(higherLabels);
  const nameLen = pyLen(dnsName);
  if (!dnsName.endsWith('.')) {
    if (nameLen + higherLen > FQDN_MAX_LEN) {
      return (
        `The dns_name passed is a PQDN and its size is '${nameLen}'. The dns_domain option in neutron.conf is set to ` +
        `${configured}, with a length of '${higherLen}'. When the two are concatenated to form a FQDN (with a '.' at ` +
        `the end), the resulting length exceeds the maximum size of '${FQDN_MAX_LEN}'`
      );
    }
    return undefined;
  }
  if (nameLen <= higherLen || !dnsName.endsWith(higherLabels)) {
    return (
      `The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain option in neutron.conf, ` +
      `that has been set to '${configured}'. It must also include one or more valid DNS labels to the left of '${configured}'`
    );
  }
  return undefined;
}

/**
 * `validate_dns_name` for a port's `dns_name`, given `[DEFAULT] dns_domain` as configured: the
 * format, then (when the names are used) the length of the FQDN it makes with that domain.
 */
export function dnsNameReason(data: string, configuredDomain: string, maxLen = FQDN_MAX_LEN): string | undefined {
  const reason = dnsFormatReason(data, maxLen);
  if (reason) return reason;
  if (data && portDnsNamesUsed(configuredDomain)) return dnsNameWithDomainReason(data, configuredDomain);
  return undefined;
}

/**
 * `type:dns_host_name` as an attribute validator: the checks that do not depend on the
 * configuration (all of them under the default `[DEFAULT] dns_domain`); the plugin storing
 * the name adds the domain checks with {@link dnsNameReason}.
 */
export const validateDnsName: Validator = (value) => dnsFormatReason(value as string, FQDN_MAX_LEN);

/** `validate_fip_dns_name` (`type:fip_dns_host_name`): a relative name that leaves room for a domain. */
export const validateFipDnsName: Validator = (value) => {
  if (typeof value !== 'string') return `'${pyStr(value)}' is not a valid string`;
  if (!value) return undefined;
  if (value.endsWith('.')) return `'${value}' is a FQDN. It should be a relative domain name`;
  const reason = dnsFormatReason(value, FQDN_MAX_LEN);
  if (reason) return reason;
  const length = pyLen(value);
  if (length > FQDN_MAX_LEN - 3) {
    return `'${value}' contains ${length} characters. Adding a domain name will cause it to exceed the maximum length of a FQDN of '${FQDN_MAX_LEN}'`;
  }
  return undefined;
};

/** `validate_dns_domain` (`type:dns_domain_name`): an FQDN that leaves room for a sub-domain. */
export const validateDnsDomain: Validator = (value) => {
  if (typeof value !== 'string') return `'${pyStr(value)}' is not a valid string`;
  if (!value) return undefined;
  if (!value.endsWith('.')) return `'${value}' is not a FQDN`;
  const reason = dnsFormatReason(value, FQDN_MAX_LEN);
  if (reason) return reason;
  const length = pyLen(value);
  if (length > FQDN_MAX_LEN - 2) {
    return `'${value}' contains ${length} characters. Adding a sub-domain will cause it to exceed the maximum length of a FQDN of '${FQDN_MAX_LEN}'`;
  }
  return undefined;
};

/**
 * A `dns-integration` string attribute: lower-cased (`convert_string_to_case_insensitive`), then
 * checked by the DNS validator only (Neutron sets no separate string length limit on these).
 */
export function dnsAttribute(validator: Validator): Attribute<string, 'string'> {
  return new Attribute<string, 'string'>({ kind: 'string', converters: [toCaseInsensitive], validators: [validator] });
}
