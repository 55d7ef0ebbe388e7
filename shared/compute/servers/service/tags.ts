// Server tags (Nova's instance tags, nova/api/openstack/compute/server_tags.py and objects/tag.py, 2.26):
// kept on the server record (`tags`, unique and sorted, as Nova's tags table returns them by its primary
// key), changed with ETag-conditional writes, every rule checked against the version being replaced.
// Not pushed to Azure: Nova's tags are read back only through this API, the server views and the list
// filters, and Azure's tag limits (50 per resource, Jacket's own identifying tags among them) differ.
// A tag change leaves updated_at alone, as Nova's Tag objects are written apart from the instance.
import type { Services } from '../../../services';
import { badRequest, notFound } from '../../../http/errors';
import { checkInstanceState, serverRepo, type ServerRecord, type VmState } from '../model';
import type { Stored } from '../../../store/tables';

/** objects.instance.MAX_TAG_COUNT */
export const MAX_TAG_COUNT = 50;
/** parameter_types.tag */
export const TAG_SCHEMA = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
/** ServerTagsController._check_instance_in_valid_state */
const TAG_VM_STATES: VmState[] = ['active', 'paused', 'suspended', 'stopped'];

export const tagsOf = (s: ServerRecord): string[] => s.tags ?? [];
const sorted = (tags: Iterable<string>) => [...new Set(tags)].sort();

/** Python's repr of a str, as jsonschema words its messages. */
const pyRepr = (s: string) => (s.includes("'") && !s.includes('"') ? `"${s.replace(/\\/g, '\\\\')}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

/** The URL's tag against parameter_types.tag, in the controller's words (400). */
export function checkTag(tag: string): void {
  let err: string | undefined;
  if (tag.length < TAG_SCHEMA.minLength) err = `${pyRepr(tag)} is too short`;
  else if (tag.length > TAG_SCHEMA.maxLength) err = `${pyRepr(tag)} is too long`;
  else if (!new RegExp(TAG_SCHEMA.pattern).test(tag)) err = `${pyRepr(tag)} does not match '${TAG_SCHEMA.pattern}'`;
  if (err) throw badRequest(`Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${err}`);
}

/**
 * Read-modify-write of the record's tags: `change` sees the current version (state checked first, with
 * `method` as Nova's action name) and returns the new tags, or undefined to write nothing. A refusal is
 * thrown from inside and ends the attempt; a lost race re-reads and checks again.
 */
async function changeTags(s: Services, cur: Stored<ServerRecord>, method: string, change: (tags: string[]) => string[] | undefined): Promise<string[]> {
  let result = tagsOf(cur.value);
  const stored = await serverRepo(s).update(cur.partitionKey, cur.rowKey, (v) => {
    checkInstanceState(v, method, { vm: TAG_VM_STATES });
    const next = change(tagsOf(v));
    result = next ?? tagsOf(v);
    return next === undefined ? undefined : { ...v, tags: next };
  });
  if (!stored) throw notFound(`Instance ${cur.value.id} could not be found.`);
  return result;
}

/** PUT /servers/{id}/tags/{tag}: true when added (201), false when the server had it (204). */
export async function addTag(s: Services, cur: Stored<ServerRecord>, tag: string): Promise<boolean> {
  checkInstanceState(cur.value, 'update tag', { vm: TAG_VM_STATES });
  checkTag(tag);
  let added = false;
  await changeTags(s, cur, 'update tag', (tags) => {
    added = false;
    // Nova counts before looking for the tag: a server at the limit refuses even a tag it has.
    if (tags.length >= MAX_TAG_COUNT) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAG_COUNT}`);
    if (tags.includes(tag)) return undefined;
    added = true;
    return sorted([...tags, tag]);
  });
  return added;
}

/** PUT /servers/{id}/tags: replaces the set (TagList.create: duplicates collapse). */
export async function replaceTags(s: Services, cur: Stored<ServerRecord>, tags: string[]): Promise<string[]> {
  checkInstanceState(cur.value, 'update tags', { vm: TAG_VM_STATES });
  return changeTags(s, cur, 'update tags', () => sorted(tags));
}

/** DELETE /servers/{id}/tags/{tag}: 404 InstanceTagNotFound when the server lacks it. */
export async function removeTag(s: Services, cur: Stored<ServerRecord>, tag: string): Promise<void> {
  checkInstanceState(cur.value, 'delete tag', { vm: TAG_VM_STATES });
  await changeTags(s, cur, 'delete tag', (tags) => {
    if (!tags.includes(tag)) throw notFound(`Instance ${cur.value.id} has no tag '${tag}'`);
    return tags.filter((t) => t !== tag);
  });
}

/** DELETE /servers/{id}/tags */
export async function removeAllTags(s: Services, cur: Stored<ServerRecord>): Promise<void> {
  checkInstanceState(cur.value, 'delete tags', { vm: TAG_VM_STATES });
  await changeTags(s, cur, 'delete tags', (tags) => (tags.length ? [] : undefined));
}

/** The list filters (db instance_get_all_by_filters): tags (all), tags-any, not-tags (not all), not-tags-any (none). */
export function tagFilter(kind: 'tags' | 'tags-any' | 'not-tags' | 'not-tags-any', wanted: string[]): (s: ServerRecord) => boolean {
  return (s) => {
    const have = new Set(tagsOf(s));
    const all = wanted.every((t) => have.has(t));
    const any = wanted.some((t) => have.has(t));
    switch (kind) {
      case 'tags':
        return all;
      case 'tags-any':
        return any;
      case 'not-tags':
        return !all;
      case 'not-tags-any':
        return !any;
    }
  };
}
