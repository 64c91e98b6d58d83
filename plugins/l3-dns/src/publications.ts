import { attr, bindTable, columnsOf, defineExtension, defineResource, type ResourceOf } from '@nucleon/core';
import { pgTable } from 'drizzle-orm/pg-core';
import type { RecordSet } from './drivers/driver.js';

/** Where each named floating IP's records stand: what should be published and whether it is. */
export const dnsPublication = defineResource({
  name: 'dns_publication',
  collection: 'dns_publications',
  label: 'DNS publication',
  standardAttributes: false,
  verbs: ['list', 'show'],
  attributes: {
    floatingip_id: attr.uuid().filterable(),
    fqdn: attr.string(255).sortable(),
    records: attr.json<RecordSet[]>(),
    /** PENDING until every change reached DNS, ACTIVE after, ERROR (still retried) with the error. */
    status: attr.enum(['PENDING', 'ACTIVE', 'ERROR']).sortable(),
    last_error: attr.string().nullable(),
    updated_at: attr.timestamp().sortable(),
  },
  policies: { get_dns_publication: 'rule:admin_only' },
});

/** A publication as the API returns it. */
export type DnsPublication = ResourceOf<typeof dnsPublication>;

/** `GET /v2.0/dns_publications`: the admin's view of DNS records and their delivery. */
export const dnsStatusExtension = defineExtension({
  alias: 'nucleon-dns-status',
  name: 'DNS publication status',
  description: 'Admin view of the DNS records of floating IPs and whether they reached the DNS server.',
  updated: '2026-11-27T00:00:00-00:00',
  resources: [dnsPublication],
});

/** One row per named floating IP, written with it; its `id` is the floating IP's. */
export const dnsPublications = pgTable('dns_publications', columnsOf(dnsPublication));

export const dnsPublicationsTable = bindTable(dnsPublication, dnsPublications);
