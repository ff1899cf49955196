import { AbortError, type AbortSignalLike } from '@azure/abort-controller';

/**
 * Waits, unless the signal fires first; then rejects with an AbortError, which the adapters map to
 * a transient DeadlineExceeded.
 */
export function abortableSleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortError('The wait was cut short by the remediation deadline.');
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
