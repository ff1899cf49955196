import { randomUUID } from 'node:crypto';
import { isWithinScope } from '../../../src/arm/resource-id';
import { ArmError, notFound, requireApiVersion } from '../arm-error';
import { authorize } from '../authorization';
import { type EmulatorState, type Json, key, type LongRunningOperation } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';
import { operationDurationMs, settleOperations } from './operations';

/**
 * Cosmos DB SQL (data-plane) role definitions and assignments, children of a database account
 * (Azure/azure-rest-api-specs specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/rbac.json,
 * commit c9388702): SqlResources_GetSqlRoleDefinition / _ListSqlRoleDefinitions, _GetSqlRoleAssignment,
 * _ListSqlRoleAssignments (not pageable: `nextLinkName: null`) and _CreateUpdateSqlRoleAssignment
 * (x-ms-long-running-operation; 200 or 202, and the 202 has no body). rbac.json `$ref`s the 1 MB
 * cosmos-db.json, so traffic is checked against `@azure/arm-cosmosdb`'s models (rp-models.ts), which are
 * generated from it. Example bodies: examples/CosmosDBSqlRoleAssignmentCreateUpdate.json, ...Get.json.
 *
 * Inferred (no source states it): a principal Entra does not know is refused with 400 BadRequest naming
 * it, and the same (role, scope, principal) under a second assignment id with 409 Conflict; the built-in
 * definitions 00000000-0000-0000-0000-000000000001 (Data Reader) and ...0002 (Data Contributor) exist
 * in every account (Learn: cosmos-db/how-to-setup-rbac).
 *
 * The account's lock: Cosmos DB runs one SQL role assignment write (PUT or DELETE, both long-running:
 * rbac.json SqlResources_DeleteSqlRoleAssignment answers 202 or 204) at a time per account, and refuses
 * another while one is in flight with 412 PreconditionFailed, "There is another user operation in progress
 * which requires an exclusive lock on [<account>]. Please retry after sometime." (quoted in
 * hashicorp/terraform-provider-azurerm issues 15842 and 17233, where parallel assignments on one account
 * failed so). Here the lock is held from the write's 202 until its operation ends; the assignment appears
 * (or goes) only then, so a list during the write does not show it done.
 *
 * `scope` is "the data plane resource path for which access is being granted": the account, a database
 * (`/dbs/{db}`) or a container (`/dbs/{db}/colls/{container}`) (Learn: cosmos-db/how-to-setup-rbac).
 * Anything else under the account (`/dbs/x/colls/y/docs/z`, a trailing slash) is refused with 400 here
 * (stricter than a source states). Databases and containers are not modelled, so their existence is not checked.
 */
export const COSMOS_CHILD_ROUTE =
  /^(\/subscriptions\/([^/]+)\/resourceGroups\/[^/]+\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+)\/(sqlRoleAssignments|sqlRoleDefinitions)(?:\/([^/]+))?$/i;
export const COSMOS_ACCOUNT_TYPE = 'Microsoft.DocumentDB/databaseAccounts';
const API_VERSIONS = ['2024-11-15'];
const BUILTIN_DEFINITIONS: Record<string, { roleName: string; dataActions: string[] }> = {
  '00000000-0000-0000-0000-000000000001': {
    roleName: 'Cosmos DB Built-in Data Reader',
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read',
    ],
  },
  '00000000-0000-0000-0000-000000000002': {
    roleName: 'Cosmos DB Built-in Data Contributor',
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/*',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/*',
    ],
  },
};

function definitionBody(accountId: string, guid: string): Json {
  const def = BUILTIN_DEFINITIONS[guid]!;
  return {
    id: `${accountId}/sqlRoleDefinitions/${guid}`,
    name: guid,
    type: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions',
    properties: {
      roleName: def.roleName,
      type: 'BuiltInRole',
      assignableScopes: [accountId],
      permissions: [{ dataActions: def.dataActions, notDataActions: [] }],
    },
  };
}

/** How long a SQL role assignment write holds the account's lock at realistic speed (assumed: no source gives a figure). */
const REALISTIC_WRITE_MS = 20_000;

/** Cosmos DB's answer to a second write while one holds the account's lock. */
function accountLocked(accountId: string): ArmError {
  return new ArmError(
    412,
    'PreconditionFailed',
    `There is another user operation in progress which requires an exclusive lock on [${accountId.split('/').pop()}]. Please retry after sometime.\r\nActivityId: ${randomUUID()}, Microsoft.Azure.Documents.Common/2.14.0`,
  );
}

/** The SQL role assignment write in flight on the account, if any (it holds the account's lock). */
function writeInFlight(ctx: HandlerContext, accountId: string): LongRunningOperation | undefined {
  settleOperations(ctx);
  const prefix = `${key(accountId)}/sqlroleassignments/`;
  for (const op of ctx.state.operations.values()) if (op.status === 'InProgress' && op.resourceKey.startsWith(prefix)) return op;
  return undefined;
}

/** A data-plane scope Cosmos DB accepts: the account itself, `/dbs/{db}`, or `/dbs/{db}/colls/{container}`. */
function validScope(scope: string, accountId: string): boolean {
  if (!isWithinScope(scope, accountId) || scope.endsWith('/')) return false;
  const below = scope.slice(accountId.length);
  return below === '' || /^\/dbs\/[^/\\#?]+(\/colls\/[^/\\#?]+)?$/i.test(below);
}

/**
 * Starts a write that holds the account's lock until it ends, then applies it; answers 202 with the
 * operation's Azure-AsyncOperation monitor (no body).
 */
function lockedWrite(
  ctx: HandlerContext,
  req: EmulatorRequest,
  account: { id: string; body: Json },
  subscriptionId: string,
  id: string,
  apply: () => void,
): EmulatorResponse {
  const op: LongRunningOperation = {
    id: randomUUID(),
    // Not the assignment's own key: settling an operation stamps provisioningState on the resource it
    // names, which a SqlRoleAssignmentGetResults does not have. Still under the account's prefix (the lock).
    resourceKey: `${key(id)}#write`,
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + operationDurationMs(ctx, { realisticWriteMs: REALISTIC_WRITE_MS }),
    onSucceeded: apply,
  };
  ctx.state.operations.set(op.id, op);
  const location = String(account.body.location ?? 'westeurope')
    .replace(/\s+/g, '')
    .toLowerCase();
  return {
    status: 202,
    headers: {
      'Azure-AsyncOperation': `${ctx.baseUrl}/subscriptions/${subscriptionId}/providers/Microsoft.DocumentDB/locations/${location}/operationsStatus/${op.id}?api-version=${req.apiVersion}`,
    },
  };
}

export function cosmosAssignments(state: EmulatorState, accountId: string): Json[] {
  const prefix = `${key(accountId)}/sqlroleassignments/`;
  return [...state.resources.entries()].filter(([k]) => k.startsWith(prefix)).map(([, r]) => r.body);
}

export function handleCosmosChild(
  ctx: HandlerContext,
  req: EmulatorRequest,
  accountPath: string,
  subscriptionId: string,
  kind: string,
  name: string | undefined,
): EmulatorResponse {
  requireApiVersion(req, API_VERSIONS, `databaseAccounts/${kind}`);
  const account = ctx.state.resource(accountPath);
  if (!account || String(account.body.type).toLowerCase() !== COSMOS_ACCOUNT_TYPE.toLowerCase())
    throw notFound(COSMOS_ACCOUNT_TYPE, accountPath.split('/').pop()!, accountPath.split('/')[4]);
  const accountId = account.id;
  const type = `${COSMOS_ACCOUNT_TYPE}/${kind.toLowerCase() === 'sqlroledefinitions' ? 'sqlRoleDefinitions' : 'sqlRoleAssignments'}`;
  const access = (verb: string) => ({ action: `${type}/${verb}`, scope: accountId });
  if (type.endsWith('sqlRoleDefinitions')) {
    if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'The emulator serves the built-in SQL role definitions only.');
    authorize(ctx.state, req.principal, access('read'));
    if (!name) return { status: 200, body: { value: Object.keys(BUILTIN_DEFINITIONS).map((g) => definitionBody(accountId, g)) } };
    if (!BUILTIN_DEFINITIONS[name.toLowerCase()]) throw new ArmError(404, 'NotFound', `The SQL role definition '${name}' was not found.`);
    return { status: 200, body: definitionBody(accountId, name.toLowerCase()) };
  }
  if (!name) {
    if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
    authorize(ctx.state, req.principal, access('read'));
    return { status: 200, body: { value: cosmosAssignments(ctx.state, accountId) } };
  }
  const id = `${accountId}/sqlRoleAssignments/${name}`;
  const existing = ctx.state.resource(id);
  switch (req.method) {
    case 'GET':
      authorize(ctx.state, req.principal, access('read'));
      if (!existing) throw new ArmError(404, 'NotFound', `The SQL role assignment '${name}' was not found.`);
      return { status: 200, body: existing.body };
    case 'PUT': {
      authorize(ctx.state, req.principal, access('write'));
      if (writeInFlight(ctx, accountId)) throw accountLocked(accountId);
      const p = (req.body?.properties ?? {}) as Json;
      if (typeof p.roleDefinitionId !== 'string' || typeof p.scope !== 'string' || typeof p.principalId !== 'string') {
        throw new ArmError(400, 'BadRequest', 'roleDefinitionId, scope and principalId are required.');
      }
      const definition = /\/sqlRoleDefinitions\/([^/]+)$/i.exec(p.roleDefinitionId);
      if (!definition || !isWithinScope(p.roleDefinitionId, accountId) || !BUILTIN_DEFINITIONS[definition[1]!.toLowerCase()]) {
        throw new ArmError(400, 'BadRequest', `The SQL role definition '${p.roleDefinitionId}' does not exist in account '${accountId}'.`);
      }
      if (!validScope(p.scope, accountId))
        throw new ArmError(
          400,
          'BadRequest',
          `The scope '${p.scope}' is not the database account '${accountId}', one of its databases (/dbs/{db}) or containers (/dbs/{db}/colls/{container}).`,
        );
      if (!ctx.state.directory.isReplicated(p.principalId)) {
        throw new ArmError(
          400,
          'BadRequest',
          `The principal with ID '${p.principalId}' was not found in the AAD tenant '${ctx.state.tenantId}'.`,
        );
      }
      const duplicate = cosmosAssignments(ctx.state, accountId).find(
        (a) =>
          a.name.toLowerCase() !== name.toLowerCase() &&
          String(a.properties.principalId).toLowerCase() === p.principalId.toLowerCase() &&
          key(a.properties.roleDefinitionId) === key(p.roleDefinitionId as string) &&
          key(a.properties.scope) === key(p.scope as string),
      );
      if (duplicate)
        throw new ArmError(
          409,
          'Conflict',
          `A SQL role assignment with the same role definition, scope and principal already exists (${duplicate.name}).`,
        );
      const body: Json = {
        id,
        name,
        type,
        properties: { roleDefinitionId: p.roleDefinitionId, scope: p.scope, principalId: p.principalId },
      };
      return lockedWrite(ctx, req, account, subscriptionId, id, () => ctx.state.resources.set(key(id), { id, body }));
    }
    case 'DELETE':
      authorize(ctx.state, req.principal, access('delete'));
      if (writeInFlight(ctx, accountId)) throw accountLocked(accountId);
      if (!existing) return { status: 204 };
      return lockedWrite(ctx, req, account, subscriptionId, id, () => ctx.state.deleteResource(id));
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
  }
}

/**
 * Someone else's SQL role assignment write in flight on the account for `ms` (a person's, another
 * delivery's): it holds the account's lock, so writes meanwhile get 412 as they would in Azure.
 */
export function beginForeignCosmosWrite(state: EmulatorState, accountId: string, ms: number): LongRunningOperation {
  const op: LongRunningOperation = {
    id: randomUUID(),
    resourceKey: `${key(accountId)}/sqlroleassignments/${randomUUID()}#write`,
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + ms,
  };
  state.operations.set(op.id, op);
  return op;
}
