import { createHash } from 'node:crypto';

/**
 * Who is calling the HTTP API. With App Service authentication (Easy Auth) in front, App Service
 * validates the Entra token and passes its claims as `x-ms-client-principal`: Base64 of
 * `{ auth_typ, claims: [{ typ, val }], name_typ, role_typ }` (Learn: "Work with user identities in
 * Azure App Service authentication", Decode the client principal header). App roles arrive as claims
 * of type `role_typ`, which is `roles` for Entra ID.
 */
export interface Caller {
  kind: 'principal' | 'function-key';
  /** Entra object id of the caller, or a digest of the function key: what the rate limit counts by. */
  id: string;
  roles: ReadonlySet<string>;
}

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';
const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
/** Real headers are a few KB; a token with hundreds of groups still fits. */
const MAX_HEADER_CHARS = 32 * 1024;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export type PrincipalResult = { ok: true; caller: Caller } | { ok: false; detail: string };

/** Decodes `x-ms-client-principal`; anything that is not the documented shape is refused, never guessed. */
export function readClientPrincipal(header: string, principalIdHeader?: string | null): PrincipalResult {
  if (header.length > MAX_HEADER_CHARS)
    return { ok: false, detail: `${CLIENT_PRINCIPAL_HEADER} is longer than ${MAX_HEADER_CHARS} characters` };
  if (!BASE64.test(header)) return { ok: false, detail: `${CLIENT_PRINCIPAL_HEADER} is not Base64` };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return { ok: false, detail: `${CLIENT_PRINCIPAL_HEADER} is not Base64-encoded JSON` };
  }
  const claims = (body as { claims?: unknown } | null)?.claims;
  if (!Array.isArray(claims) || !claims.every((c) => typeof c?.typ === 'string' && typeof c?.val === 'string')) {
    return { ok: false, detail: `${CLIENT_PRINCIPAL_HEADER} has no claims array of {typ, val} strings` };
  }
  const roleType = (body as { role_typ?: unknown }).role_typ;
  const roleTypes = new Set([...ROLE_CLAIMS, ...(typeof roleType === 'string' && roleType ? [roleType] : [])]);
  const typed = claims as Array<{ typ: string; val: string }>;
  const objectId = typed.find((c) => OBJECT_ID_CLAIMS.includes(c.typ))?.val ?? principalIdHeader ?? undefined;
  if (!objectId) return { ok: false, detail: `${CLIENT_PRINCIPAL_HEADER} names no caller (no object id claim)` };
  return {
    ok: true,
    caller: {
      kind: 'principal',
      id: `oid:${objectId.toLowerCase()}`,
      roles: new Set(typed.filter((c) => roleTypes.has(c.typ)).map((c) => c.val)),
    },
  };
}

/** With role checks off the host's function key is the only credential; callers are told apart by its digest. */
export function functionKeyCaller(key: string | null | undefined): Caller {
  const id = key ? `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : 'anonymous';
  return { kind: 'function-key', id, roles: new Set() };
}
