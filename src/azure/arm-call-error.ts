import { isRestError } from '@azure/core-rest-pipeline';
import { ArmCallError, AutopilotError } from '../errors';

/** Conflicts that clear by themselves once the resource's current operation ends. */
const TRANSIENT_CONFLICTS = new Set(['AnotherOperationInProgress', 'OperationNotAllowed', 'Conflict', 'RetryableError']);

/**
 * Maps the SDK's RestError to ArmCallError. Transient: throttling, server errors, replication delay
 * (PrincipalNotFound), timeouts and "busy" conflicts. Everything else (403, 400, 404) is permanent.
 */
export function toArmCallError(e: unknown, what: string): unknown {
  if (e instanceof AutopilotError) return e;
  if (isRestError(e)) {
    const status = e.statusCode;
    const code = e.code ?? (status ? `Http${status}` : 'RequestFailed');
    const transient =
      status === undefined ||
      status === 408 ||
      status === 429 ||
      status >= 500 ||
      code === 'PrincipalNotFound' ||
      (status === 409 && TRANSIENT_CONFLICTS.has(code));
    return new ArmCallError(code, `${what}: ${e.message}`, status, transient, { cause: e });
  }
  // The remediation's deadline: an SDK AbortError, or the AbortSignal.timeout reason itself.
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return new ArmCallError('DeadlineExceeded', `${what}: aborted at the deadline`, undefined, true, { cause: e });
  // A failed LRO surfaces from core-lro as a plain Error without code or status.
  // Permanent: a resource provider that failed the operation will most likely fail it again.
  if (e instanceof Error) return new ArmCallError('OperationFailed', `${what}: ${e.message}`, undefined, false, { cause: e });
  return e;
}

export async function armCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toArmCallError(e, what);
  }
}
