import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { HttpAccessSettings } from '../settings/settings';
import { type Caller, CLIENT_PRINCIPAL_HEADER, functionKeyCaller, readClientPrincipal } from './caller';
import { problem } from './problem';
import type { RateLimiter } from './rate-limit';

/** What an operation needs. */
export type Permission = 'read' | 'plan' | 'apply';

export const APP_ROLES = { read: 'Remediation.Read', apply: 'Remediation.Apply' } as const;

/**
 * The app roles that grant each permission. Plan is a read (it changes nothing) that reveals no more
 * than an apply would, so either role allows it; apply does not imply ledger reads.
 */
const ROLES_FOR: Record<Permission, readonly string[]> = {
  read: [APP_ROLES.read],
  plan: [APP_ROLES.read, APP_ROLES.apply],
  apply: [APP_ROLES.apply],
};

const BEARER = { 'www-authenticate': 'Bearer' };

/**
 * Identifies the caller and counts the call against its rate limit. A response means: answer it
 * and stop. Runs before the body is read, so a refused caller costs nothing else.
 */
export function admit(
  request: HttpRequest,
  settings: HttpAccessSettings,
  limiter: RateLimiter,
): { caller: Caller } | { response: HttpResponseInit } {
  let caller: Caller;
  if (!settings.roleChecks) {
    caller = functionKeyCaller(request.headers.get('x-functions-key') ?? request.query.get('code'));
  } else {
    const header = request.headers.get(CLIENT_PRINCIPAL_HEADER);
    // Without App Service authentication on the app anyone can send the header, so it proves nothing.
    if (!settings.easyAuthEnabled) {
      return {
        response: problem(
          401,
          'Unauthenticated',
          'role checks are on (AUTOPILOT_HTTP_ROLE_CHECKS) but App Service authentication is not enabled on this app, so no caller can be identified',
          {},
          BEARER,
        ),
      };
    }
    if (!header)
      return {
        response: problem(
          401,
          'Unauthenticated',
          'sign in with Microsoft Entra ID: a function key alone is not enough while role checks are on',
          {},
          BEARER,
        ),
      };
    const principal = readClientPrincipal(header, request.headers.get('x-ms-client-principal-id'));
    if (!principal.ok) return { response: problem(401, 'Unauthenticated', principal.detail, {}, BEARER) };
    caller = principal.caller;
  }
  const taken = limiter.take(caller.id);
  if (!taken.allowed) {
    return {
      response: problem(
        429,
        'TooManyRequests',
        `too many calls from this caller; retry after ${taken.retryAfterSeconds} s`,
        {},
        { 'retry-after': String(taken.retryAfterSeconds) },
      ),
    };
  }
  return { caller };
}

/** A 403 when the caller lacks the app role the operation needs; undefined when it may go on. */
export function authorize(caller: Caller, permission: Permission, settings: HttpAccessSettings): HttpResponseInit | undefined {
  if (!settings.roleChecks) return undefined;
  const roles = ROLES_FOR[permission];
  if (roles.some((r) => caller.roles.has(r))) return undefined;
  return problem(403, 'MissingAppRole', `this operation needs the app role ${roles.join(' or ')}`);
}
