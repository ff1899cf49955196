import { isRestError } from '@azure/core-rest-pipeline';
import { ArmCallError, AutopilotError, type MissingPermission } from '../errors';
import { LongRunningOperationFailed } from './long-running-write';

/**
 * Conflicts that clear by themselves once the resource's current operation ends. Not the generic
 * `Conflict` or Compute's `OperationNotAllowed` (quota, a VM being deleted): those stay until a person acts.
 */
const TRANSIENT_CONFLICTS = new Set(['AnotherOperationInProgress', 'RetryableError', 'OperationPreempted']);
/** Codes an RP puts in a Failed/Canceled operation that are worth another attempt later. */
const TRANSIENT_OPERATION_FAILURES =
  /^(InternalServerError|InternalOperationError|RetryableError|AnotherOperationInProgress|OperationPreempted|ServerTimeout|ServiceUnavailable|TooManyRequests)$/i;

/** What the resource provider being called knows about its own conflicts (from its type module). */
export interface ConflictKnowledge {
  isBusyConflict?(status: number, code: string, message: string): boolean;
}

/**
 * ARM names the refused action and scope in a 403's message:
 * AuthorizationFailed: "... does not have authorization to perform action '<action>' over scope '<scope>' ...";
 * LinkedAuthorizationFailed: "... does not have permission to perform action(s) '<action>' on the linked
 * scope(s) '<scope>' ..." (Learn: role-based-access-control/troubleshooting; Azure/aad-pod-identity#511).
 */
export function missingPermission(code: string, message: string): MissingPermission | undefined {
  const linked = /perform action(?:\(s\))? '([^']+)' on (?:the )?linked scope(?:\(s\))? '([^']+)'/i.exec(message);
  if (code === 'LinkedAuthorizationFailed' && linked) return { action: linked[1]!, scope: linked[2]!, linked: true };
  const direct = /perform action '([^']+)' over scope '([^']+)'/i.exec(message);
  if (code === 'AuthorizationFailed' && direct) return { action: direct[1]!, scope: direct[2]!, linked: false };
  return undefined;
}

/**
 * Maps the SDK's RestError to ArmCallError. Transient: throttling, server errors, replication delay
 * (PrincipalNotFound), timeouts and "busy" conflicts (generic ones, and the called RP's own from its
 * type module). Everything else (403, 400, 404) is permanent; a 403 carries the permission ARM refused.
 */
export function toArmCallError(e: unknown, what: string, rp: ConflictKnowledge = {}): unknown {
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
      // If-Match no longer holds: someone changed the resource since our read; reading again clears it.
      status === 412 ||
      (status === 409 && (TRANSIENT_CONFLICTS.has(code) || rp.isBusyConflict?.(status, code, e.message) === true));
    return new ArmCallError(code, `${what}: ${e.message}`, status, transient, {
      cause: e,
      permission: status === 403 ? missingPermission(code, e.message) : undefined,
    });
  }
  // The remediation's deadline: an SDK AbortError, or the AbortSignal.timeout reason itself.
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'))
    return new ArmCallError('DeadlineExceeded', `${what}: aborted at the deadline`, undefined, true, { cause: e });
  // A failed LRO surfaces from core-lro as a plain Error without code or status.
  if (e instanceof LongRunningOperationFailed) {
    // Canceled usually means a later write superseded ours; internal errors pass. Anything else the RP
    // failed it will most likely fail again.
    const transient = /^cancel/i.test(e.status) || TRANSIENT_OPERATION_FAILURES.test(e.code ?? '');
    return new ArmCallError(e.code ?? 'OperationFailed', `${what}: ${e.message}`, undefined, transient, { cause: e });
  }
  if (e instanceof Error) return new ArmCallError('OperationFailed', `${what}: ${e.message}`, undefined, false, { cause: e });
  return e;
}

export async function armCall<T>(what: string, call: () => Promise<T>, rp?: ConflictKnowledge): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toArmCallError(e, what, rp);
  }
}
