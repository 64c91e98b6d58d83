import { BadRequest, HTTPBadRequest, NeutronError } from '../errors/neutron-error.js';
import type { ListOptions, ListPage, SortKey } from '../resources/resource-table.js';
import type { ServedResource } from '../runtime.js';

const RESERVED = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);
const TAG_FILTERS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

/** A parsed list request plus what building pagination links needs. */
export interface ListQuery extends ListOptions {
  /** The request's parameters in their order, without marker and page_reverse. */
  readonly linkParams: ReadonlyArray<readonly [string, string]>;
}

/**
 * Parses `GET /v2.0/<collection>` query parameters the way Neutron's API layer does: filters
 * on any filterable attribute (repeated = OR), `fields`, `sort_key`/`sort_dir`, `limit`
 * (capped by `pagination_max_limit`), `marker`, `page_reverse`. Unknown filters and sort keys
 * are a 400, as with Neutron's `filter-validation` and `sort-key-validation`.
 */
export function parseListQuery(params: URLSearchParams, resource: ServedResource, maxLimit: number, taggable: boolean): ListQuery {
  const filters: Record<string, string[]> = {};
  const fields: string[] = [];
  const sortKeys: string[] = [];
  const sortDirs: string[] = [];
  let limit: number | undefined;
  let marker: string | undefined;
  let pageReverse = false;
  const linkParams: Array<[string, string]> = [];
  const invalidFilters: string[] = [];

  for (const [key, value] of params) {
    if (key !== 'marker' && key !== 'page_reverse') linkParams.push([key, value]);
    switch (key) {
      case 'fields':
        fields.push(value);
        break;
      case 'sort_key':
        sortKeys.push(value);
        break;
      case 'sort_dir':
        sortDirs.push(value);
        break;
      case 'limit':
        if (!/^\d+$/.test(value)) {
          throw BadRequest({ resource: 'limit', msg: `Limit must be an integer 0 or greater and not '${value}'` });
        }
        limit = Number(value);
        break;
      case 'marker':
        marker = value;
        break;
      case 'page_reverse':
        pageReverse = value.toLowerCase() === 'true';
        break;
      default: {
        if (RESERVED.has(key)) break;
        const spec = resource.specs.get(key);
        // A binding's own filters may be query parameters that are not attributes (a time window).
        const known =
          (TAG_FILTERS.has(key) && taggable) || (spec !== undefined && spec.filter) || resource.table.options.filters?.[key] !== undefined;
        if (!known) {
          if (!invalidFilters.includes(key)) invalidFilters.push(key);
          break;
        }
        (filters[key] ??= []).push(value);
      }
    }
  }
  if (invalidFilters.length > 0) {
    throw HTTPBadRequest({ message: `['${invalidFilters.join("', '")}'] is invalid attribute for filtering` });
  }
  if ('tenant_id' in filters && 'project_id' in filters) {
    throw new NeutronError(400, 'TenantIdProjectIdFilterConflict', 'Both tenant_id and project_id passed as filters.');
  }
  if (sortKeys.length !== sortDirs.length) {
    throw HTTPBadRequest({ message: 'The number of sort_keys and sort_dirs must be same' });
  }
  const badKeys = sortKeys.filter((k) => !resource.specs.get(k)?.sort);
  if (badKeys.length > 0) {
    throw HTTPBadRequest({ message: `['${badKeys.join("', '")}'] is invalid attribute for sort_keys` });
  }
  const badDirs = sortDirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length > 0) {
    throw HTTPBadRequest({
      message: `['${badDirs.join("', '")}'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`,
    });
  }
  if (maxLimit > 0) limit = limit && limit > 0 ? Math.min(limit, maxLimit) : maxLimit;
  const sorts: SortKey[] = sortKeys.map((key, i) => ({
    key: key === 'tenant_id' ? 'project_id' : key,
    direction: sortDirs[i] as 'asc' | 'desc',
  }));
  return {
    filters,
    ...(fields.length > 0 ? { fields } : {}),
    sorts,
    ...(limit !== undefined && limit > 0 ? { limit } : {}),
    ...(marker !== undefined ? { marker } : {}),
    pageReverse,
    linkParams,
  };
}

/**
 * Neutron's pagination links: `next` unless a short forward page, `previous` unless a short
 * reverse page (so a first page has both, as the reference server shows).
 */
export function paginationLinks(baseUrl: string, query: ListQuery, page: ListPage): Array<{ rel: 'next' | 'previous'; href: string }> {
  if (query.limit === undefined || page.firstId === undefined || page.lastId === undefined) return [];
  const links: Array<{ rel: 'next' | 'previous'; href: string }> = [];
  const short = page.count < query.limit;
  const href = (extra: Array<[string, string]>) =>
    `${baseUrl}?${new URLSearchParams([...query.linkParams, ...extra] as Array<[string, string]>).toString()}`;
  if (!(short && !query.pageReverse)) links.push({ rel: 'next', href: href([['marker', page.lastId]]) });
  if (!(short && query.pageReverse)) {
    links.push({
      rel: 'previous',
      href: href([
        ['marker', page.firstId],
        ['page_reverse', 'True'],
      ]),
    });
  }
  return links;
}
