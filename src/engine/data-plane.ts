import { sameArmId } from '../arm/resource-id';
import { AutopilotError, isArmCallError } from '../errors';
import { roleAssignmentName } from './assignment-name';
import { type DaprContext, decideClientIds, identityCount } from './dapr';
import type { CallBudget } from './call-budget';
import type { EnginePorts } from './ports';
import { type BackoffSettings, withBackoff } from './retry';
import type { ActionRecord, CosmosSqlRoleAssignmentPlan, IdentityState, Plan, PrincipalDescription } from './types';

/**
 * The second kind of grant: Cosmos DB SQL (data-plane) role assignments, children of the account
 * (`{account}/sqlRoleAssignments/{id}`, PUT with roleDefinitionId, scope and principalId; Azure/azure-rest-api-specs
 * cosmos-db stable/2024-11-15 rbac.json). Same discipline as RBAC grants: deterministic names, presence
 * checked first (one list per account), PrincipalNotFound retried while Entra replicates.
 */

/** The account-scoped id of a Cosmos SQL role definition (built-in ones exist in every account). */
export function cosmosRoleDefinitionId(accountId: string, guid: string): string {
  return `${accountId}/sqlRoleDefinitions/${guid}`;
}

/** Distinct from an RBAC assignment's name for the same triple, so the two kinds never collide. */
export function cosmosAssignmentName(plan: CosmosSqlRoleAssignmentPlan, principalId: string): string {
  return roleAssignmentName(`cosmos-sql|${plan.scope}`, principalId, plan.roleDefinitionGuid);
}

const lastSegment = (id: string) => id.split('/').filter(Boolean).pop()?.toLowerCase() ?? '';

/**
 * A brand-new principal not yet replicated: RBAC answers `PrincipalNotFound`; Cosmos DB answers a 400
 * naming the principal (inferred from its error text, "...principal ... not found in the AAD tenant");
 * both are retried with the same bounded backoff.
 */
export function cosmosPrincipalNotReplicated(e: unknown): boolean {
  return isArmCallError(e, 'PrincipalNotFound') || (isArmCallError(e) && e.status === 400 && /principal.*(not (be )?found|does not exist)/i.test(e.message));
}

/** Marks which data-plane grants the principal already holds (one list call per account). Read-only. */
export async function markCosmosPresent(plan: Plan, principalId: string | undefined, ports: EnginePorts, budget: CallBudget, options: { principalIsNew: boolean }): Promise<void> {
  const list = plan.dataPlaneRoleAssignments ?? [];
  if (list.length === 0) return;
  if (!ports.cosmosRoleAssignments) throw new AutopilotError('CosmosUnavailable', 'the plan has Cosmos DB data-plane grants but the app has no port for them');
  if (!principalId || options.principalIsNew) {
    for (const p of list) p.present = false;
    return;
  }
  const accounts = [...new Map(list.map((p) => [p.accountId.toLowerCase(), p.accountId])).values()];
  const existing = new Map(await Promise.all(accounts.map(async (a) => [a.toLowerCase(), await ports.cosmosRoleAssignments!.list(a, budget)] as const)));
  for (const p of list) {
    p.present = (existing.get(p.accountId.toLowerCase()) ?? []).some(
      (e) => e.principalId.toLowerCase() === principalId.toLowerCase() && lastSegment(e.roleDefinitionId) === p.roleDefinitionGuid && sameArmId(e.scope, p.scope),
    );
  }
}

/** Grants every missing data-plane role; returns the failures (the caller reports a partial apply). */
export async function grantCosmosRoles(
  plan: Plan,
  principalId: string,
  ports: EnginePorts,
  backoff: BackoffSettings,
  budget: CallBudget,
  actions: ActionRecord[],
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<unknown[]> {
  const missing = (plan.dataPlaneRoleAssignments ?? []).filter((p) => !p.present);
  const results = await Promise.allSettled(
    missing.map((p) =>
      withBackoff(
        `Cosmos DB role ${p.roleDisplayName} on ${p.accountId}`,
        () =>
          ports.cosmosRoleAssignments!.create(
            { accountId: p.accountId, name: cosmosAssignmentName(p, principalId), roleDefinitionId: cosmosRoleDefinitionId(p.accountId, p.roleDefinitionGuid), scope: p.scope, principalId },
            budget,
          ),
        cosmosPrincipalNotReplicated,
        backoff,
        budget,
        onRetry,
      ),
    ),
  );
  const failures: unknown[] = [];
  results.forEach((r, i) => {
    const p = missing[i]!;
    if (r.status === 'rejected') return void failures.push(r.reason);
    p.present = true;
    const roleDefinitionId = cosmosRoleDefinitionId(p.accountId, p.roleDefinitionGuid);
    actions.push(
      r.value.status === 'created'
        ? { kind: 'cosmos-role-assigned', accountId: p.accountId, scope: p.scope, roleDefinitionId, role: p.roleDisplayName, assignmentId: r.value.id }
        : { kind: 'cosmos-role-already-assigned', accountId: p.accountId, scope: p.scope, roleDefinitionId, role: p.roleDisplayName },
    );
  });
  return failures;
}

/**
 * After the grants: decides each component's azureClientId from the identity the workload now holds,
 * and writes it where the decision is `write`. Returns the failures.
 */
export async function applyDaprClientIds(
  plan: Plan,
  context: DaprContext | undefined,
  grantee: PrincipalDescription | undefined,
  identity: IdentityState,
  ports: EnginePorts,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<unknown[]> {
  if (!plan.dapr || !context) return [];
  decideClientIds(plan, context, plan.resourceId, grantee, identityCount(identity));
  const failures: unknown[] = [];
  for (const component of plan.dapr.components) {
    const decision = component.clientId;
    if (decision?.action !== 'write' || !decision.clientId) continue;
    try {
      await ports.dapr!.setAzureClientId(component.id, decision.clientId, budget);
      actions.push({ kind: 'dapr-client-id-written', componentId: component.id, clientId: decision.clientId });
      component.clientId = { ...decision, action: 'none', detail: `azureClientId set to ${decision.clientId}` };
    } catch (e) {
      failures.push(e);
    }
  }
  return failures;
}
