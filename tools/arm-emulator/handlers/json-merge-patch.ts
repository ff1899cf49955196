import type { Json } from '../state';

/** RFC 7396 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  const result: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof result[k] === 'object' &&
      result[k] !== null &&
      !Array.isArray(result[k])
    ) {
      result[k] = mergePatch(result[k] as Json, v as Json);
    } else result[k] = structuredClone(v);
  }
  return result;
}
