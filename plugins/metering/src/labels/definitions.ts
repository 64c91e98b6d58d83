import {
  attr,
  defineExtension,
  defineResource,
  NAME_MAX_LEN,
  parseCidr,
  pyStr,
  PROJECT_ID_MAX_LEN,
  type CreateBody,
  type ResourceOf,
  type Validator,
} from '@nucleon/core';

/** neutron-lib's LONG_DESCRIPTION_FIELD_SIZE: metering labels take longer descriptions. */
const LONG_DESCRIPTION_MAX_LEN = 1024;

/**
 * neutron-lib's `type:subnet(_or_none)`: a prefix with its length; an IPv4 prefix with host bits
 * set, or a bare address, is refused with the prefix Neutron recommends instead.
 */
const validateSubnet: Validator = (value) => {
  if (value === null) return undefined;
  const text = typeof value === 'string' ? value : '';
  const bare = text.includes('/') ? undefined : parseCidr(`${text}/${text.includes(':') ? 128 : 32}`);
  const cidr = parseCidr(text) ?? bare;
  if (!cidr || /\s/.test(text)) return `'${pyStr(value)}' is not a valid IP subnet`;
  if (bare || (cidr.version === 4 && cidr.text !== text))
    return `'${pyStr(value)}' isn't a recognized IP subnet cidr, '${cidr.text}' is recommended`;
  return undefined;
};

/** `project_id` and `tenant_id` exist on rules (policy reads them) but Neutron never shows them. */
const hiddenIdentity = {
  project_id: attr.string(PROJECT_ID_MAX_LEN).post().optional().hidden(),
  tenant_id: attr.string(PROJECT_ID_MAX_LEN).post().optional().hidden().computed(),
};

/** Metering labels (`/v2.0/metering/metering-labels`): create, show, list, delete — no update. */
export const meteringLabel = defineResource({
  name: 'metering_label',
  collection: 'metering_labels',
  pathPrefix: '/metering',
  label: 'Metering label',
  notFoundType: 'MeteringLabelNotFound',
  notFoundMessage: 'Metering label {id} does not exist',
  standardAttributes: false,
  verbs: ['list', 'show', 'create', 'delete'],
  attributes: {
    name: attr.string(NAME_MAX_LEN).post().default('').sortable(),
    description: attr.string(LONG_DESCRIPTION_MAX_LEN).post().default('').sortable(),
    /** Applies to every project's routers, not only its own project's (admins only create labels). */
    shared: attr.boolean().post().default(false).sortable(),
  },
  policies: {
    create_metering_label: 'rule:admin_only',
    get_metering_label: 'rule:admin_only',
    delete_metering_label: 'rule:admin_only',
  },
});

/** Metering label rules (`/v2.0/metering/metering-label-rules`): create, show, list, delete. */
export const meteringLabelRule = defineResource({
  name: 'metering_label_rule',
  collection: 'metering_label_rules',
  pathPrefix: '/metering',
  label: 'Metering label rule',
  notFoundType: 'MeteringLabelRuleNotFound',
  notFoundMessage: 'Metering label rule {id} does not exist',
  standardAttributes: false,
  verbs: ['list', 'show', 'create', 'delete'],
  attributes: {
    ...hiddenIdentity,
    metering_label_id: attr.uuid().post().sortable(),
    direction: attr.enum(['ingress', 'egress']).post().sortable(),
    // Deprecated by metering_source_and_destination_fields, still accepted (never with the two below).
    remote_ip_prefix: attr.string().nullable().post().default(null).sortable().validate(validateSubnet),
    source_ip_prefix: attr
      .string()
      .nullable()
      .post()
      .default(null)
      .sortable()
      .validate(validateSubnet)
      .ext('metering_source_and_destination_fields'),
    destination_ip_prefix: attr
      .string()
      .nullable()
      .post()
      .default(null)
      .sortable()
      .validate(validateSubnet)
      .ext('metering_source_and_destination_fields'),
    excluded: attr.boolean().post().default(false).sortable(),
  },
  policies: {
    create_metering_label_rule: 'rule:admin_only',
    get_metering_label_rule: 'rule:admin_only',
    delete_metering_label_rule: 'rule:admin_only',
  },
});

/** A metering label as the API returns it. */
export type MeteringLabel = ResourceOf<typeof meteringLabel>;
/** A validated metering label POST body. */
export type MeteringLabelCreate = CreateBody<typeof meteringLabel>;
/** A metering label rule as the API returns it. */
export type MeteringLabelRule = ResourceOf<typeof meteringLabelRule>;
/** A validated metering label rule POST body. */
export type MeteringLabelRuleCreate = CreateBody<typeof meteringLabelRule>;

/** Neutron's metering extensions, with their names and timestamps. */
export const meteringExtensions = [
  defineExtension({
    alias: 'metering',
    name: 'Neutron Metering',
    description: 'Neutron Metering extension.',
    updated: '2013-06-12T10:00:00-00:00',
    resources: [meteringLabel, meteringLabelRule],
  }),
  defineExtension({
    alias: 'metering_source_and_destination_fields',
    name: 'Neutron Metering with source and destination filtering',
    description: 'Neutron Metering extension that enables the use of source and destination IP prefixes to create metering label rules.',
    updated: '2020-08-21T08:12:00-00:00',
    requires: ['metering'],
  }),
];

declare module '@nucleon/core' {
  interface EventResources {
    metering_label: MeteringLabel;
    metering_label_rule: MeteringLabelRule;
  }
}
