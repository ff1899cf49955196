const globCache = new Map<string, RegExp>();

/** `*` and `?` globs, case-insensitive like resource group names themselves. */
export function globMatches(glob: string, value: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'is');
    globCache.set(glob, re);
  }
  return re.test(value);
}
