import type { PolicyRules } from './policy.js';

/**
 * The rules every resource's defaults build on: Neutron's (Zed) legacy base rules, which
 * Neutron enforces while `enforce_new_defaults` is off. Resource rules live with each resource
 * (`defineResource({ policies })`); plugins add theirs the same way.
 */
export const baseRules: PolicyRules = {
  context_is_admin: 'role:admin',
  owner: 'tenant_id:%(tenant_id)s',
  admin_or_owner: 'rule:context_is_admin or rule:owner',
  context_is_advsvc: 'role:advsvc',
  network_owner: 'tenant_id:%(network:tenant_id)s',
  admin_or_network_owner: 'rule:context_is_admin or rule:network_owner',
  admin_owner_or_network_owner: 'rule:owner or rule:admin_or_network_owner',
  sg_owner: 'tenant_id:%(security_group:tenant_id)s',
  admin_only: 'rule:context_is_admin',
  regular_user: '',
  shared: 'field:networks:shared=True',
  external: 'field:networks:router:external=True',
  network_device: 'field:port:device_owner=~^network:',
  default: 'rule:admin_or_owner',
  // Quotas: a project reads its own; only admins list all or change them.
  get_quota: 'rule:admin_or_owner',
  update_quota: 'rule:admin_only',
  delete_quota: 'rule:admin_only',
};
