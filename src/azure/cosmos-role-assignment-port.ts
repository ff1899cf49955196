import { parseArmId } from '../arm/resource-id';
import type { CallBudget } from '../engine/call-budget';
import type { CosmosSqlRoleAssignmentPort, ExistingCosmosSqlRoleAssignment } from '../engine/ports';
import { isArmCallError } from '../errors';
import { armCall } from './arm-call-error';
import { budgetOf } from './call-options';
import type { ArmClientPool } from './clients';
import { deleteResource, writeResource } from './long-running-write';
import { armRequester } from './resource-action';
import { DEFAULT_POLL_INTERVAL_MS } from './resource-port';

/**
 * Cosmos DB SQL role assignments (Azure/azure-rest-api-specs specification/cosmos-db/resource-manager/
 * Microsoft.DocumentDB/stable/2024-11-15/rbac.json, commit c9388702): SqlResources_ListSqlRoleAssignments
 * (GET, not paged: `nextLinkName: null`) and SqlResources_CreateUpdateSqlRoleAssignment (PUT
 * `{properties: {roleDefinitionId, scope, principalId}}`, x-ms-long-running-operation: 200 or 202).
 */
export const COSMOS_API_VERSION = '2024-11-15';

export class ArmCosmosRoleAssignmentPort implements CosmosSqlRoleAssignmentPort {
  constructor(
    private readonly clients: ArmClientPool,
    private readonly options: { pollIntervalMs?: number } = {},
  ) {}

  private poll() {
    return this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  async list(accountId: string, call: CallBudget | AbortSignal): Promise<ExistingCosmosSqlRoleAssignment[]> {
    const account = parseArmId(accountId);
    const arm = armRequester(this.clients.for(account.subscriptionId!).resources, this.clients.connection.endpoint, {
      budget: budgetOf(call),
      pollIntervalMs: this.poll(),
    });
    const rows = await armCall(`list SQL role assignments of ${accountId}`, () =>
      arm.list(`${account.id}/sqlRoleAssignments`, COSMOS_API_VERSION),
    );
    return rows.flatMap((r) => toExisting(r) ?? []);
  }

  async get(accountId: string, name: string, call: CallBudget | AbortSignal): Promise<ExistingCosmosSqlRoleAssignment | undefined> {
    const account = parseArmId(accountId);
    const id = `${account.id}/sqlRoleAssignments/${name}`;
    const arm = armRequester(this.clients.for(account.subscriptionId!).resources, this.clients.connection.endpoint, {
      budget: budgetOf(call),
      pollIntervalMs: this.poll(),
    });
    try {
      return toExisting(await armCall(`GET ${id}`, () => arm.get(id, COSMOS_API_VERSION)));
    } catch (e) {
      if (isArmCallError(e) && e.isNotFound) return undefined;
      throw e;
    }
  }

  /**
   * SqlResources_DeleteSqlRoleAssignment (2024-11-15; example CosmosDBSqlRoleAssignmentDelete.json at
   * Azure/azure-rest-api-specs ffbb1960: 200, 202 with Azure-AsyncOperation and Location, or 204 when none).
   * It takes the account's lock like a PUT, so a concurrent write on the account is refused (412): the
   * caller removes them one at a time.
   */
  async remove(accountId: string, name: string, call: CallBudget | AbortSignal): Promise<'removed' | 'absent'> {
    const account = parseArmId(accountId);
    const id = `${account.id}/sqlRoleAssignments/${name}`;
    return armCall(`DELETE ${id}`, () =>
      deleteResource(this.clients.for(account.subscriptionId!).resources, this.clients.connection.endpoint, id, COSMOS_API_VERSION, {
        budget: budgetOf(call),
        pollIntervalMs: this.poll(),
      }),
    );
  }

  async create(
    input: { accountId: string; name: string; roleDefinitionId: string; scope: string; principalId: string },
    call: CallBudget | AbortSignal,
  ): Promise<{ status: 'created' | 'exists'; id?: string }> {
    const account = parseArmId(input.accountId);
    const id = `${account.id}/sqlRoleAssignments/${input.name}`;
    try {
      const written = await armCall(`PUT ${id}`, () =>
        writeResource(
          this.clients.for(account.subscriptionId!).resources,
          this.clients.connection.endpoint,
          'PUT',
          id,
          COSMOS_API_VERSION,
          {
            properties: { roleDefinitionId: input.roleDefinitionId, scope: input.scope, principalId: input.principalId },
          },
          { budget: budgetOf(call), pollIntervalMs: this.poll() },
        ),
      );
      return { status: 'created', id: typeof written.id === 'string' ? written.id : id };
    } catch (e) {
      // The same role, scope and principal under another assignment name (inferred: Cosmos DB answers
      // 409 Conflict): someone, or an earlier run, already granted it.
      if (isArmCallError(e) && e.status === 409) return { status: 'exists' };
      throw e;
    }
  }
}

function toExisting(r: Record<string, unknown>): ExistingCosmosSqlRoleAssignment | undefined {
  const p = (r.properties ?? {}) as { roleDefinitionId?: unknown; scope?: unknown; principalId?: unknown };
  return typeof p.roleDefinitionId === 'string' && typeof p.scope === 'string' && typeof p.principalId === 'string'
    ? {
        roleDefinitionId: p.roleDefinitionId,
        scope: p.scope,
        principalId: p.principalId,
        ...(typeof r.name === 'string' ? { name: r.name } : {}),
      }
    : undefined;
}
