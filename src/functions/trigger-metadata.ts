/**
 * A whole number from trigger metadata as the Functions Node.js worker delivers it. The host sends
 * 64-bit values (a queue message's DequeueCount) as TypedData `int` (sint64), and the worker decodes
 * them with @grpc/proto-loader without the `longs` option, so `@azure/functions` hands the handler a
 * Long's fields ({ low, high, unsigned }), not a number: `Number(long)` is NaN. Unit tests that build
 * an InvocationContext by hand pass a plain number; test/functions-host feeds that shape through the
 * library's own conversion.
 */
export function triggerMetadataInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  if (value && typeof value === 'object' && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: unknown; high: unknown };
    if (typeof low === 'number' && typeof high === 'number') return high * 2 ** 32 + (low >>> 0);
  }
  return undefined;
}

/** A time from trigger metadata (a queue message's InsertionTime: an ISO string, or a Date), as ISO. */
export function triggerMetadataTime(value: unknown): string | undefined {
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value.replace(/^"|"$/g, '')) : NaN;
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}
