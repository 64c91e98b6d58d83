import { HTTPBadRequest, NeutronError } from '../errors/neutron-error.js';
import type { AttributeSpec } from './attribute.js';

/** The attributes a request is checked against: name → spec, in the resource's order. */
export type AttributeSpecs = ReadonlyMap<string, AttributeSpec>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs an attribute's converters then validators on one value (Neutron's `convert_values`). */
export function convertValue(name: string, spec: AttributeSpec, value: unknown): unknown {
  if (value === null && spec.nullable) return null;
  let converted = value;
  for (const convert of spec.converters) converted = convert(converted);
  for (const validate of spec.validators) {
    const reason = validate(converted);
    if (reason !== undefined) throw HTTPBadRequest({ message: `Invalid input for ${name}. Reason: ${reason}.` });
  }
  return converted;
}

function rejectUnknown(item: Record<string, unknown>, specs: AttributeSpecs): void {
  const unknown = Object.keys(item).filter((key) => !specs.has(key));
  if (unknown.length > 0) throw HTTPBadRequest({ message: `Unrecognized attribute(s) '${unknown.join(', ')}'` });
}

/**
 * `project_id` and `tenant_id` name the same thing; either may be given, both must agree,
 * and the caller's project is the default (Neutron's `populate_project_info`).
 */
function populateProject(item: Record<string, unknown>, projectId: string | undefined): void {
  if ('tenant_id' in item && !('project_id' in item)) item.project_id = item.tenant_id;
  else if ('project_id' in item && !('tenant_id' in item)) item.tenant_id = item.project_id;
  if (item.project_id !== item.tenant_id) throw HTTPBadRequest({ message: "'project_id' and 'tenant_id' do not match" });
  if (item.project_id === undefined) {
    if (projectId === undefined) {
      throw HTTPBadRequest({ message: 'Running without keystone AuthN requires that tenant_id is specified' });
    }
    item.project_id = projectId;
    item.tenant_id = projectId;
  }
}

/**
 * Validates one POST item: unknown attributes, attributes not allowed in POST, required ones,
 * defaults, then conversion and validation in attribute order, as Neutron's API layer does.
 */
export function parseCreateItem(raw: unknown, specs: AttributeSpecs, projectId: string | undefined): Record<string, unknown> {
  if (!isPlainObject(raw)) throw HTTPBadRequest({ message: 'Body contains invalid data' });
  const item: Record<string, unknown> = { ...raw };
  rejectUnknown(item, specs);
  populateProject(item, projectId);
  for (const [name, spec] of specs) {
    if (name === 'project_id' || name === 'tenant_id') continue;
    if (name in item) {
      if (!spec.allowPost) throw HTTPBadRequest({ message: `Attribute '${name}' not allowed in POST` });
    } else if (spec.allowPost) {
      if (spec.default) {
        const value = spec.default.value;
        item[name] = typeof value === 'function' ? (value as () => unknown)() : structuredClone(value);
      } else if (!spec.optional) {
        throw HTTPBadRequest({ message: `Failed to parse request. Required attribute '${name}' not specified` });
      }
    }
  }
  // Defaults are trusted; only what the client sent is converted and validated.
  for (const [name, spec] of specs) {
    if (name in raw) item[name] = convertValue(name, spec, item[name]);
  }
  return item;
}

/** Validates one PUT body: unknown attributes, read-only ones, then conversion and validation. */
export function parseUpdateItem(raw: unknown, specs: AttributeSpecs): Record<string, unknown> {
  if (!isPlainObject(raw)) throw HTTPBadRequest({ message: 'Body contains invalid data' });
  const item: Record<string, unknown> = { ...raw };
  rejectUnknown(item, specs);
  for (const name of Object.keys(item)) {
    if (!specs.get(name)!.allowPut) throw HTTPBadRequest({ message: `Cannot update read-only attribute ${name}` });
  }
  for (const [name, spec] of specs) {
    if (name in item) item[name] = convertValue(name, spec, item[name]);
  }
  return item;
}

/**
 * Unwraps `{"network": {...}}` (one item) or `{"networks": [...]}` (bulk). Bulk is all or
 * nothing; the caller runs every item in one transaction.
 */
export function unwrapCreateBody(body: unknown, resource: { name: string; collection: string }): { bulk: boolean; items: unknown[] } {
  if (isPlainObject(body)) {
    if (resource.collection in body && Array.isArray(body[resource.collection])) {
      const items = body[resource.collection] as unknown[];
      if (items.length === 0) throw HTTPBadRequest({ message: 'Resources required' });
      return { bulk: true, items };
    }
    if (resource.name in body) return { bulk: false, items: [body[resource.name]] };
  }
  throw HTTPBadRequest({ message: `Unable to find '${resource.name}' in request body` });
}

/** Unwraps `{"network": {...}}` of a PUT. */
export function unwrapUpdateBody(body: unknown, resource: { name: string }): unknown {
  if (isPlainObject(body) && resource.name in body) return body[resource.name];
  throw HTTPBadRequest({ message: `Unable to find '${resource.name}' in request body` });
}

/** True for errors a client caused (any `NeutronError` below 500). */
export function isClientError(error: unknown): error is NeutronError {
  return error instanceof NeutronError && error.status < 500;
}
