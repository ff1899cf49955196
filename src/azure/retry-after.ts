/**
 * `Retry-After` in milliseconds, when it holds a number of seconds (ARM and Resource Graph send
 * seconds, never an HTTP date); undefined otherwise. 0 stays 0: callers decide what "now" means.
 */
export function retryAfterMs(header: string | undefined | null): number | undefined {
  if (header === undefined || header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
