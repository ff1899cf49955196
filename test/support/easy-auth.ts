import { randomUUID } from 'node:crypto';

/** App settings of an app with App Service authentication on (App Service sets WEBSITE_AUTH_ENABLED). */
export const EASY_AUTH_ON = { WEBSITE_AUTH_ENABLED: 'True' } as const;

/**
 * `x-ms-client-principal` as App Service authentication sends it: Base64 of
 * `{auth_typ, claims: [{typ, val}], name_typ, role_typ}` (Learn: configure-authentication-user-identities).
 */
export function clientPrincipal(options: { roles?: string[]; objectId?: string } = {}): string {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: options.objectId ?? randomUUID() },
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
    { typ: 'aud', val: 'api://identity-autopilot' },
    ...(options.roles ?? []).map((r) => ({ typ: 'roles', val: r })),
  ];
  return Buffer.from(
    JSON.stringify({ auth_typ: 'aad', claims, name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', role_typ: 'roles' }),
  ).toString('base64');
}

/** A caller holding both app roles, for tests about what the API does rather than who may call it. */
export const OPERATOR_PRINCIPAL = clientPrincipal({
  roles: ['Remediation.Read', 'Remediation.Apply'],
  objectId: '5e3c0a8f-3c55-4d2e-9a77-1f2f0a9d6b11',
});
