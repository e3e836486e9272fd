// RFC 7386 JSON Merge Patch, and the JSON Pointers (RFC 6901) the fleet config reports in: apply a patch, list
// the keys a patch sets, and list what changed between two documents. Plain JSON values only.
import { isDeepStrictEqual } from 'node:util';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isJsonObject = (v: unknown): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * RFC 7386 section 2: an object patch merges member by member into an object target (`null` removes the
 * member); any other patch value replaces the target whole. Returns a new value; the inputs are not changed.
 */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const result: JsonObject = isJsonObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** One JSON Pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`). */
export const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');
export const pointer = (path: readonly string[]): string => path.map((k) => `/${pointerToken(k)}`).join('');
export const pointerPath = (p: string): string[] =>
  p === ''
    ? []
    : p
        .slice(1)
        .split('/')
        .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));

/** The value at `path`, or undefined. */
export function valueAt(doc: Json | undefined, path: readonly string[]): Json | undefined {
  let node = doc;
  for (const key of path) {
    if (!isJsonObject(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** The pointers of the leaves a patch sets or removes (an object member is a leaf unless it is an object). */
export function patchLeaves(patch: Json, path: string[] = []): string[] {
  if (!isJsonObject(patch)) return [pointer(path)];
  return Object.entries(patch).flatMap(([k, v]) =>
    isJsonObject(v) && Object.keys(v).length > 0 ? patchLeaves(v, [...path, k]) : [pointer([...path, k])],
  );
}

export interface Change {
  pointer: string;
  /** Absent: the key was added. */
  before?: Json;
  /** Absent: the key was removed. */
  after?: Json;
}

/** What differs between two documents, as pointers: objects on both sides are compared member by member. */
export function changes(before: Json | undefined, after: Json | undefined, path: string[] = []): Change[] {
  if (isJsonObject(before) && isJsonObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    return keys.flatMap((k) => changes(before[k], after[k], [...path, k]));
  }
  if (before === undefined && after === undefined) return [];
  if (before !== undefined && after !== undefined && isDeepStrictEqual(before, after)) return [];
  return [
    {
      pointer: pointer(path),
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    },
  ];
}

/**
 * A merge patch that turns `from` into `to` (members only in `from` become `null`). Used to read a document
 * kept in the earlier "full sections" form as the patch that yields the same sections.
 */
export function mergePatchBetween(from: Json, to: Json): Json {
  if (!isJsonObject(from) || !isJsonObject(to)) return structuredClone(to);
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const before = from[key];
    if (before === undefined) patch[key] = structuredClone(value);
    else if (isJsonObject(before) && isJsonObject(value)) {
      const inner = mergePatchBetween(before, value) as JsonObject;
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (!isDeepStrictEqual(before, value)) patch[key] = structuredClone(value);
  }
  return patch;
}
