/**
 * @nucleon/core — what every Nucleon plugin stands on: plugin descriptors and loading, the
 * extension and event registries, the attribute-map machinery, the DB layer and the Neutron
 * v2.0 API.
 */
export * from './attributes/attribute.js';
export * from './attributes/dns.js';
export * from './attributes/python-repr.js';
export * from './attributes/request-body.js';
export * from './attributes/validators.js';
export * from './config/config.js';
export * from './config/core-options.js';
export * from './config/options.js';
export * from './context/context.js';
export * from './db/columns.js';
export * from './db/database.js';
export * from './db/errors.js';
export * from './db/migrations.js';
export * from './db/read-cache.js';
export * as coreSchema from './db/schema.js';
export * from './definitions/constants.js';
export * from './definitions/core-plugin.js';
export * from './definitions/extensions.js';
export * from './definitions/network.js';
export * from './definitions/port.js';
export * from './definitions/security-group.js';
export * from './definitions/subnet.js';
export * from './errors/neutron-error.js';
export * from './events/registry.js';
export * from './events/resource-change.js';
export * from './extensions/define-extension.js';
export * from './extensions/registry.js';
export * from './net/ip.js';
export * from './net/mac.js';
export * from './outbox/outbox.js';
export * from './plugins/define-plugin.js';
export * from './policy/base-rules.js';
export * from './policy/enforcer.js';
export * from './policy/policy.js';
export * from './policy/rule-language.js';
export * from './plugins/loader.js';
export * from './plugins/service-manager.js';
export * from './quotas/quota-engine.js';
export * from './resources/define-resource.js';
export * from './resources/resource-table.js';
export * from './resources/tags.js';
export { NOAUTH_PROJECT_ID } from './auth/noauth.js';
export { identityV3Url, KeystoneUnavailable, KeystoneValidator, type KeystoneOptions, type TokenIdentity } from './auth/keystone.js';
export { KeystoneSession, KeystoneSignInError, type KeystoneCredentials } from './auth/keystone-session.js';
export { buildApp } from './api/app.js';
export * from './runtime.js';
export * from './server.js';
export { CORE_VERSION } from './version.js';
