import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import { type EmulatorState, type Json, key } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';
import { type Creator, creatorOf, SEED_CREATOR, UA_TYPE } from './user-assigned-identities';

/**
 * Federated identity credentials of user-assigned identities, as ManagedIdentity.json 2024-11-30
 * (FederatedIdentityCredentials_List/Get/CreateOrUpdate/Delete, examples FederatedIdentityCredential*.json)
 * and Learn "Important considerations and restrictions for federated identity credentials"
 * (entra/workload-id/workload-identity-federation-considerations, "Errors" table) describe them.
 */
export const FIC_TYPE = `${UA_TYPE}/federatedIdentityCredentials`;

/** `{identity id}/federatedIdentityCredentials[/{name}]`. */
export const FIC_PATH =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+)\/federatedIdentityCredentials(?:\/([^/]+))?$/i;

/** The spec's path pattern for the credential name (3-120, first character alphanumeric). */
const NAME_PATTERN = /^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$/;
/** Learn: "A maximum of 20 federated identity credentials can be added to an application or user-assigned managed identity." */
export const MAX_CREDENTIALS = 20;
/** Learn (federated credential configuration): issuer, subject and the audience are at most 600 characters. */
const MAX_FIELD = 600;

/** The credentials of each identity, by the identity's key; not in `resources` (Resource Graph does not list them). */
export function credentialsOf(state: EmulatorState, identityId: string): Map<string, Json> {
  let map = state.federatedCredentials.get(key(identityId));
  if (!map) state.federatedCredentials.set(key(identityId), (map = new Map()));
  return map;
}

function badRequest(message: string): ArmError {
  // The HTTP status and message are Learn's; the error code is not documented (inferred).
  return new ArmError(400, 'BadRequest', message);
}

/** What a PUT body must be (Learn's "Errors" table and the configuration considerations). */
function checkProperties(input: Json | undefined): { issuer: string; subject: string; audiences: string[] } {
  const p = input?.properties;
  if (!p || typeof p !== 'object' || Object.keys(p).length === 0)
    throw badRequest('Federated Identity Credential from HTTP body has empty properties');
  const { issuer, subject, audiences } = p as Json;
  if (typeof issuer !== 'string' || typeof subject !== 'string' || !issuer || !subject)
    throw badRequest('Federated Identity Credential from HTTP body has empty properties');
  if (!Array.isArray(audiences) || audiences.length !== 1 || typeof audiences[0] !== 'string')
    throw badRequest('Federated identity credentials must have exactly one audience.');
  if (issuer.length > MAX_FIELD || subject.length > MAX_FIELD || audiences[0].length > MAX_FIELD)
    throw badRequest(`Federated identity credential issuer, subject and audience are limited to ${MAX_FIELD} characters.`);
  // Learn: "Wildcard characters aren't supported in any federated identity credential property value."
  if ([issuer, subject, audiences[0]].some((v) => v.includes('*')))
    throw badRequest('Wildcard characters are not supported in federated identity credential properties.');
  // Learn: the issuer must match the token's `iss` claim; a URL with leading or trailing whitespace blocks the exchange. Stricter: refused here.
  if (!/^https:\/\/\S+$/.test(issuer)) throw badRequest(`The issuer '${issuer}' must be an https URL.`);
  return { issuer, subject, audiences: [audiences[0]] };
}

export function handleFederatedCredential(
  ctx: HandlerContext,
  req: EmulatorRequest,
  identityId: string,
  name: string | undefined,
): EmulatorResponse {
  const state = ctx.state;
  const scope = name ? `${identityId}/federatedIdentityCredentials/${name}` : identityId;
  const access = (verb: string) => ({ action: `${FIC_TYPE}/${verb}`, scope });
  const identity = state.resource(identityId);
  const parentMissing = () => new ArmError(404, 'ParentResourceNotFound', "The parent user-assigned identity doesn't exist.");
  if (!name) {
    if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on '${FIC_TYPE}'.`);
    authorize(state, req.principal, access('read'));
    if (!identity) throw parentMissing();
    return { status: 200, body: { value: [...credentialsOf(state, identityId).values()] } };
  }
  const credentials = credentialsOf(state, identityId);
  const existing = credentials.get(name.toLowerCase());
  switch (req.method) {
    case 'GET':
      authorize(state, req.principal, access('read'));
      if (!identity) throw parentMissing();
      if (!existing) throw new ArmError(404, 'ResourceNotFound', `The federated identity credential '${name}' was not found.`);
      return { status: 200, body: existing };
    case 'PUT': {
      authorize(state, req.principal, access('write'));
      if (!identity) throw parentMissing();
      if (!NAME_PATTERN.test(name)) throw badRequest(`Federated Identity Credential name '${name}' is invalid.`);
      const props = checkProperties(req.body as Json | undefined);
      // Learn "Concurrent updates aren't supported": concurrent writes under one identity fail with 409.
      // How long Azure's detection window is is not documented; the emulator treats any write within
      // `ficWriteWindowMs` of the previous one on the same identity as concurrent (stricter than Azure).
      const now = Date.now();
      const busyUntil = state.ficWriteBusyUntil.get(key(identityId)) ?? 0;
      if (now < busyUntil) {
        throw new ArmError(
          409,
          'Conflict',
          'Concurrent write request to federated identity credential resources under the same user-assigned identity has been denied.',
        );
      }
      const others = [...credentials.values()].filter((c) => c.name.toLowerCase() !== name.toLowerCase());
      if (others.some((c) => c.properties.issuer === props.issuer && c.properties.subject === props.subject)) {
        throw badRequest('Issuer and subject combination already exists for this Managed Identity.');
      }
      if (!existing && credentials.size >= MAX_CREDENTIALS) {
        throw badRequest(
          `A maximum of ${MAX_CREDENTIALS} federated identity credentials can be added to a user-assigned managed identity.`,
        );
      }
      state.ficWriteBusyUntil.set(key(identityId), now + state.ficWriteWindowMs);
      const creator = creatorOf(req.principal);
      const at = new Date().toISOString();
      const body: Json = {
        id: `${identity.id}/federatedIdentityCredentials/${existing?.name ?? name}`,
        name: existing?.name ?? name,
        type: FIC_TYPE,
        properties: props,
        // ProxyResource carries ARM's systemData (common-types v4); the name is immutable once created (Learn).
        systemData: {
          createdBy: existing?.systemData.createdBy ?? creator.by,
          createdByType: existing?.systemData.createdByType ?? creator.byType,
          createdAt: existing?.systemData.createdAt ?? at,
          lastModifiedBy: creator.by,
          lastModifiedByType: creator.byType,
          lastModifiedAt: at,
        },
      };
      credentials.set(name.toLowerCase(), body);
      return { status: existing ? 200 : 201, body };
    }
    case 'DELETE':
      authorize(state, req.principal, access('delete'));
      if (!existing) return { status: 204 };
      credentials.delete(name.toLowerCase());
      return { status: 200 };
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on '${FIC_TYPE}'.`);
  }
}

/**
 * Seeds a credential directly (test set-up: someone else's credential on an identity). `createdBy`: a
 * person's name (createdByType User, the default), or a Creator (`creatorOf(emulator.appPrincipal)`
 * seeds one as if the app had made it).
 */
export function seedFederatedCredential(
  state: EmulatorState,
  identityId: string,
  name: string,
  properties: { issuer: string; subject: string; audiences?: string[] },
  createdBy: string | Creator = SEED_CREATOR.by,
): Json {
  const creator: Creator = typeof createdBy === 'string' ? { by: createdBy, byType: 'User' } : createdBy;
  const at = new Date().toISOString();
  const body: Json = {
    id: `${identityId}/federatedIdentityCredentials/${name}`,
    name,
    type: FIC_TYPE,
    properties: {
      issuer: properties.issuer,
      subject: properties.subject,
      audiences: properties.audiences ?? ['api://AzureADTokenExchange'],
    },
    systemData: {
      createdBy: creator.by,
      createdByType: creator.byType,
      createdAt: at,
      lastModifiedBy: creator.by,
      lastModifiedByType: creator.byType,
      lastModifiedAt: at,
    },
  };
  credentialsOf(state, identityId).set(name.toLowerCase(), body);
  return body;
}
