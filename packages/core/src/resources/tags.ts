import { and, eq, inArray } from 'drizzle-orm';
import { validateUniqueStrings } from '../attributes/validators.js';
import type { Context } from '../context/context.js';
import { tags as tagsTable } from '../db/schema.js';
import { InvalidInput, TagNotFound } from '../errors/neutron-error.js';
import type { AnyResourceTable as ResourceTable } from './resource-table.js';

/** Longest tag Neutron accepts. */
export const MAX_TAG_LEN = 255;
const validateTagList = validateUniqueStrings(MAX_TAG_LEN);

/** Checks one tag from a URL (`PUT /networks/{id}/tags/{tag}`). */
export function checkTag(tag: string): void {
  if (tag.length > MAX_TAG_LEN) throw InvalidInput({ error_message: `'${tag}' exceeds maximum length of ${MAX_TAG_LEN}` });
}

/** Checks a `{"tags": [...]}` body and returns its list. */
export function tagsFromBody(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || !('tags' in body)) throw InvalidInput({ error_message: 'Invalid tags body' });
  const list = (body as { tags: unknown }).tags;
  const reason = validateTagList(list);
  if (reason) throw InvalidInput({ error_message: reason });
  return list as string[];
}

/** The tags of a resource, sorted. */
export async function listTags(ctx: Context, resourceId: string): Promise<string[]> {
  const rows = await ctx.db.select({ tag: tagsTable.tag }).from(tagsTable).where(eq(tagsTable.resourceId, resourceId));
  return rows.map((r) => r.tag).sort();
}

/** Adds tags (idempotent) and bumps the resource's revision when anything changed. */
export async function addTags(ctx: Context, table: ResourceTable, resourceId: string, tags: readonly string[]): Promise<void> {
  if (tags.length === 0) return;
  const added = await ctx.db
    .insert(tagsTable)
    .values(tags.map((tag) => ({ resourceId, resourceType: table.resource.name, tag })))
    .onConflictDoNothing()
    .returning({ tag: tagsTable.tag });
  if (added.length > 0) await table.bumpRevision(ctx, resourceId);
}

/** Replaces all tags of a resource. */
export async function replaceTags(ctx: Context, table: ResourceTable, resourceId: string, tags: readonly string[]): Promise<void> {
  await ctx.db.delete(tagsTable).where(eq(tagsTable.resourceId, resourceId));
  await addTags(ctx, table, resourceId, tags);
  await table.bumpRevision(ctx, resourceId);
}

/** Removes one tag; `TagNotFound` when it was not there. */
export async function removeTag(ctx: Context, table: ResourceTable, resourceId: string, tag: string): Promise<void> {
  const removed = await ctx.db
    .delete(tagsTable)
    .where(and(eq(tagsTable.resourceId, resourceId), inArray(tagsTable.tag, [tag])))
    .returning({ tag: tagsTable.tag });
  if (removed.length === 0) throw TagNotFound({ tag });
  await table.bumpRevision(ctx, resourceId);
}

/** Removes every tag of a resource. */
export async function removeAllTags(ctx: Context, table: ResourceTable, resourceId: string): Promise<void> {
  const removed = await ctx.db.delete(tagsTable).where(eq(tagsTable.resourceId, resourceId)).returning({ tag: tagsTable.tag });
  if (removed.length > 0) await table.bumpRevision(ctx, resourceId);
}
