import type { RoleAssignment } from '@azure/arm-authorization';
import { subscriptionOf } from '../arm/resource-id';
import { type FoundRoleDefinition, type LookupCall, type RoleDefinitionLookup, roleGuidFromDefinitionId } from '../config';
import type { CallBudget } from '../engine/call-budget';
import type { ExistingRoleAssignment, RoleAssignmentPort } from '../engine/ports';
import { ArmCallError, isArmCallError } from '../errors';
import { armCall } from './arm-call-error';
import { sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';
import { type AppSelf, createdByApp } from './user-assigned-identity-port';

/** Role assignments and role-definition lookups through `@azure/arm-authorization`. */
export class ArmRoleAssignmentPort implements RoleAssignmentPort, RoleDefinitionLookup {
  /** `self`: who the app is, so an assignment ARM records as created by it is marked `createdByUs`. */
  constructor(
    private readonly clients: ArmClientPool,
    private readonly self?: () => Promise<AppSelf>,
  ) {}

  async listForPrincipal(subscriptionId: string, principalId: string, call: CallBudget | AbortSignal): Promise<ExistingRoleAssignment[]> {
    return armCall(`list role assignments of ${principalId}`, async () => {
      const found: ExistingRoleAssignment[] = [];
      const self = await this.appSelf();
      const pages = this.clients
        .for(subscriptionId)
        .authorization.roleAssignments.listForSubscription({ filter: `principalId eq '${principalId}'`, ...sdkOptions(call) });
      for await (const a of pages) {
        const existing = toExisting(a, self);
        if (existing) found.push(existing);
      }
      return found;
    });
  }

  async get(assignmentId: string, call: CallBudget | AbortSignal): Promise<ExistingRoleAssignment | undefined> {
    try {
      const found = await armCall(`GET ${assignmentId}`, () =>
        this.clients.for(subscriptionOf(assignmentId)).authorization.roleAssignments.getById(assignmentId, sdkOptions(call)),
      );
      return toExisting(found, await this.appSelf());
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
  }

  /** RoleAssignments_DeleteById (authorization 2022-04-01: 200 with the deleted assignment, 204 when there is none). */
  async remove(assignmentId: string, call: CallBudget | AbortSignal): Promise<'removed' | 'absent'> {
    let status = 0;
    await armCall(`DELETE ${assignmentId}`, () =>
      this.clients
        .for(subscriptionOf(assignmentId))
        .authorization.roleAssignments.deleteById(assignmentId, { ...sdkOptions(call), onResponse: (r) => void (status = r.status) }),
    );
    return status === 204 ? 'absent' : 'removed';
  }

  /** Who the app is, to recognise its own assignments; when that cannot be read, nothing is proven ours. */
  private async appSelf(): Promise<AppSelf> {
    // The list itself still goes ahead, as it did before removals existed.
    return this.self ? this.self().catch((): AppSelf => ({})) : {};
  }

  async create(
    input: { scope: string; name: string; roleDefinitionId: string; principalId: string; description: string },
    call: CallBudget | AbortSignal,
  ): Promise<{ status: 'created' | 'exists'; id?: string }> {
    const subscriptionId = subscriptionOf(input.scope);
    let status = 0;
    try {
      const created = await armCall(`PUT role assignment ${input.name} at ${input.scope}`, () =>
        this.clients.for(subscriptionId).authorization.roleAssignments.create(
          input.scope,
          input.name,
          {
            roleDefinitionId: input.roleDefinitionId,
            principalId: input.principalId,
            // The documented mitigation for replication delay on brand-new identities.
            principalType: 'ServicePrincipal',
            description: input.description,
          },
          { ...sdkOptions(call), onResponse: (r) => void (status = r.status) },
        ),
      );
      return { status: status === 201 ? 'created' : 'exists', id: created.id };
    } catch (e) {
      // The same grant under another name: someone (or an earlier run) already did it.
      if (isArmCallError(e, 'RoleAssignmentExists')) return { status: 'exists' };
      throw e;
    }
  }

  async getRoleDefinition(scope: string, guid: string, call?: LookupCall): Promise<FoundRoleDefinition | undefined> {
    try {
      const def = await armCall(`get role definition ${guid}`, () =>
        this.clients.for(subscriptionOf(scope)).authorization.roleDefinitions.get(scope, guid, call ? sdkOptions(call) : {}),
      );
      return def.id && def.name ? { id: def.id, name: def.name, roleName: def.roleName, permissions: def.permissions } : undefined;
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
  }

  async findRoleDefinitionByName(scope: string, roleName: string, call?: LookupCall): Promise<FoundRoleDefinition | undefined> {
    const subscriptionId = subscriptionOf(scope);
    return armCall(`find role definition '${roleName}'`, async () => {
      const filter = `roleName eq '${roleName.replace(/'/g, "''")}'`;
      for await (const def of this.clients
        .for(subscriptionId)
        .authorization.roleDefinitions.list(scope, { filter, ...(call ? sdkOptions(call) : {}) })) {
        if (def.id && def.name) return { id: def.id, name: def.name, roleName: def.roleName, permissions: def.permissions };
      }
      return undefined;
    });
  }
}

function toExisting(a: RoleAssignment, self: AppSelf): ExistingRoleAssignment | undefined {
  const guid = a.roleDefinitionId ? roleGuidFromDefinitionId(a.roleDefinitionId) : undefined;
  if (!a.scope || !guid) return undefined;
  return {
    scope: a.scope,
    roleDefinitionGuid: guid,
    ...(a.name ? { name: a.name } : {}),
    ...(a.id ? { id: a.id } : {}),
    ...(a.principalId ? { principalId: a.principalId } : {}),
    ...(a.description ? { description: a.description } : {}),
    createdByUs: createdByApp(a.createdBy, self),
  };
}
