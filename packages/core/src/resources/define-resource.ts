import { attr, type ApiShape, type AttributeMap, type CreateShape, type UpdateShape } from '../attributes/attribute.js';
import { NeutronError } from '../errors/neutron-error.js';
import type { PolicyRules } from '../policy/policy.js';

/** The REST verbs a resource may serve. */
export type Verb = 'list' | 'show' | 'create' | 'update' | 'delete';

/** Neutron's length limits (neutron_lib.db.constants). */
export const NAME_MAX_LEN = 255;
export const DESCRIPTION_MAX_LEN = 255;
export const PROJECT_ID_MAX_LEN = 255;

/** `id`, `project_id` and `tenant_id`: every resource has them. */
const identityAttributes = {
  id: attr.uuid().sortable(),
  project_id: attr.string(PROJECT_ID_MAX_LEN).post().optional().sortable(),
  // tenant_id is project_id under its old name; it shares the column.
  tenant_id: attr.string(PROJECT_ID_MAX_LEN).post().optional().sortable().computed(),
};

/** Neutron's standard attributes: description, tags, timestamps and revision number. */
const standardAttributes = {
  description: attr.string(DESCRIPTION_MAX_LEN).post().put().default('').sortable().ext('standard-attr-description'),
  tags: attr.json<string[]>().computed().ext('standard-attr-tag'),
  created_at: attr.timestamp().sortable().ext('standard-attr-timestamp'),
  updated_at: attr.timestamp().sortable().ext('standard-attr-timestamp'),
  revision_number: attr.integer().sortable().ext('standard-attr-revisions'),
};

type Identity = typeof identityAttributes;
type Standard = typeof standardAttributes;

/** What a resource definition declares; see {@link defineResource}. */
export interface ResourceOptions<M extends AttributeMap, S extends boolean> {
  /** Singular name, as in bodies (`network`) and event names. */
  name: string;
  /** Plural name, as in list bodies (`networks`). */
  collection: string;
  /** Human name in messages (`Network`, `Floating IP`); defaults to the capitalised name. */
  label?: string;
  /** Not-found message template with `{id}`; defaults to `<label> {id} could not be found.` */
  notFoundMessage?: string;
  /** Exception type for not-found; defaults to `<Label without spaces>NotFound`. */
  notFoundType?: string;
  /** URL prefix for service resources (`/metering`). */
  pathPrefix?: string;
  /** URL segment; defaults to the collection with `_` turned into `-` when `pathPrefix` is set. */
  path?: string;
  /** Listed by `GET /v2.0/` (networks, subnets, ports). */
  core?: boolean;
  /** Adds Neutron's standard attributes (description, tags, timestamps, revision number). */
  standardAttributes?: S;
  /** Serves `tags` and the tags sub-resource (default: with standard attributes). */
  taggable?: boolean;
  /**
   * `revision_number` right after create. Neutron's create transaction for networks, ports,
   * routers and security groups also writes a child row (segment, binding, rules) that bumps
   * the parent once, so those start at 1; the rest start at 0.
   */
  initialRevision?: number;
  /** The resource's own attributes (extension attributes tagged with `.ext(alias)`). */
  attributes: M;
  /** Verbs served; defaults to all five. */
  verbs?: readonly Verb[];
  /** Member actions: `PUT /routers/{id}/add_router_interface`. */
  actions?: Readonly<Record<string, 'GET' | 'PUT' | 'POST'>>;
  /**
   * Accepts bulk creates (default true). Neutron builds extension resources with
   * `allow_bulk=False` unless they ask (routers and floating IPs do not).
   */
  bulk?: boolean;
  /**
   * Default policy rules for the resource, by Neutron's names (`get_network`,
   * `create_network:shared`, `add_router_interface`); operators override them in `policy.yaml`.
   * Actions without a rule fall back to the `default` rule (admin or owner).
   */
  policies?: PolicyRules;
}

/** A resource definition: the single source of its validation, DB columns and API types. */
export interface ResourceDefinition<M extends AttributeMap = AttributeMap> {
  readonly name: string;
  readonly collection: string;
  readonly label: string;
  readonly path: string;
  readonly pathPrefix: string;
  readonly core: boolean;
  readonly hasStandardAttributes: boolean;
  readonly taggable: boolean;
  readonly initialRevision: number;
  readonly attributes: M;
  readonly verbs: readonly Verb[];
  readonly actions: Readonly<Record<string, 'GET' | 'PUT' | 'POST'>>;
  /** Whether bulk creates are accepted (also subject to `[DEFAULT] allow_bulk`). */
  readonly bulk: boolean;
  /** Default policy rules (see {@link ResourceOptions.policies}). */
  readonly policies: PolicyRules;
  /** The resource's not-found error. */
  notFound(id: string | null): NeutronError;
}

type Definition<M extends AttributeMap, S extends boolean> = ResourceDefinition<
  Identity & (S extends false ? {} : Omit<Standard, keyof M>) & M
>;

/**
 * Declares a resource: its names, URL and attribute map. Identity attributes (`id`,
 * `project_id`, `tenant_id`) are always added, standard attributes unless disabled.
 */
export function defineResource<const M extends AttributeMap, S extends boolean = true>(options: ResourceOptions<M, S>): Definition<M, S> {
  const label = options.label ?? options.name.charAt(0).toUpperCase() + options.name.slice(1);
  const notFoundType = options.notFoundType ?? `${label.replace(/\s+/g, '')}NotFound`;
  const notFoundMessage = options.notFoundMessage ?? `${label} {id} could not be found.`;
  const withStandard = options.standardAttributes !== false;
  const pathPrefix = options.pathPrefix ?? '';
  const taggable = withStandard && options.taggable !== false;
  // A resource may redefine a standard attribute (ports accept tags on POST); it keeps its place.
  const standard = Object.fromEntries(
    Object.entries(standardAttributes).filter(([name]) => !(name in options.attributes) && (taggable || name !== 'tags')),
  );
  return {
    name: options.name,
    collection: options.collection,
    label,
    pathPrefix,
    path: options.path ?? (pathPrefix ? options.collection.replace(/_/g, '-') : options.collection),
    core: options.core ?? false,
    hasStandardAttributes: withStandard,
    taggable,
    initialRevision: options.initialRevision ?? 0,
    attributes: {
      ...identityAttributes,
      ...options.attributes,
      ...(withStandard ? standard : {}),
    } as unknown as Definition<M, S>['attributes'],
    verbs: options.verbs ?? ['list', 'show', 'create', 'update', 'delete'],
    actions: options.actions ?? {},
    bulk: options.bulk ?? true,
    policies: options.policies ?? {},
    notFound: (id) => new NeutronError(404, notFoundType, notFoundMessage.replace('{id}', id ?? 'None')),
  };
}

/** The response type of a resource. */
export type ResourceOf<R extends ResourceDefinition> = ApiShape<R['attributes']>;
/** The validated POST body of a resource. */
export type CreateBody<R extends ResourceDefinition> = CreateShape<R['attributes']>;
/** The validated PUT body of a resource. */
export type UpdateBody<R extends ResourceDefinition> = UpdateShape<R['attributes']>;
