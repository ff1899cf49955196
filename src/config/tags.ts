/** Azure tag names are case-insensitive; values are compared as stored unless a caller says otherwise. */
export function tagValue(tags: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (!tags) return undefined;
  if (Object.hasOwn(tags, name)) return tags[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(tags)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}
