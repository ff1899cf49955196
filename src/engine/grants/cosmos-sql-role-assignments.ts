import { sameArmId } from '../../arm/resource-id';
import { AutopilotError, isArmCallError } from '../../errors';
import { roleAssignmentName } from '../assignment-name';
import type { CallBudget } from '../call-budget';
import type { EnginePorts, ExistingCosmosSqlRoleAssignment } from '../ports';
import { type BackoffSettings, withBackoff } from '../retry';
import type { ActionRecord, CosmosSqlRoleAssignmentPlan, Plan } from '../types';
import { creates, type GrantAction, type GrantKind, sameId } from './grant-kind';

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
export function cosmosAssignmentName(grant: { scope: string; roleDefinitionGuid: string }, principalId: string): string {
  return roleAssignmentName(`cosmos-sql|${grant.scope}`, principalId, grant.roleDefinitionGuid);
}

/**
 * A brand-new principal not yet replicated: RBAC answers `PrincipalNotFound`; Cosmos DB answers a 400
 * naming the principal (inferred from its error text, "...principal ... not found in the AAD tenant");
 * both are retried with the same bounded backoff.
 */
export function cosmosPrincipalNotReplicated(e: unknown): boolean {
  return (
    isArmCallError(e, 'PrincipalNotFound') ||
    (isArmCallError(e) && e.status === 400 && /principal.*(not (be )?found|does not exist)/i.test(e.message))
  );
}

/**
 * Cosmos DB runs one SQL role assignment write per account at a time and refuses another meanwhile with
 * 412 PreconditionFailed, "There is another user operation in progress which requires an exclusive lock
 * on [<account>]. Please retry after sometime." (hashicorp/terraform-provider-azurerm issues 15842 and
 * 17233). The product writes one account's assignments one after another; a 412 then means someone
 * else's write (another delivery, a person) holds the lock, and clears when it ends: retried, bounded.
 */
export function cosmosAccountLocked(e: unknown): boolean {
  return isArmCallError(e) && e.status === 412;
}

/**
 * Runs `write` for each item, one account at a time: in order within an account (Cosmos DB's lock),
 * accounts side by side. Settles every item, as Promise.allSettled would, in the items' order.
 */
export async function perAccountInSequence<T extends { accountId: string }, R>(
  items: readonly T[],
  write: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  const byAccount = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = item.accountId.toLowerCase();
    byAccount.set(k, [...(byAccount.get(k) ?? []), i]);
  });
  await Promise.all(
    [...byAccount.values()].map(async (indexes) => {
      for (const i of indexes) {
        try {
          results[i] = { status: 'fulfilled', value: await write(items[i]!) };
        } catch (reason) {
          results[i] = { status: 'rejected', reason };
        }
      }
    }),
  );
  return results;
}

const lastSegment = (id: string) => id.split('/').filter(Boolean).pop()?.toLowerCase() ?? '';

/** An SQL role assignment as listed, with the account it was listed from. */
export interface ObservedCosmosSqlRoleAssignment extends ExistingCosmosSqlRoleAssignment {
  accountId: string;
}

export interface CosmosGrantContext {
  plan: Plan;
  principalId?: string;
  principalIsNew: boolean;
}

const matches = (o: ObservedCosmosSqlRoleAssignment, d: CosmosSqlRoleAssignmentPlan, principalId: string) =>
  sameId(o.principalId, principalId) &&
  sameArmId(o.accountId, d.accountId) &&
  lastSegment(o.roleDefinitionId) === d.roleDefinitionGuid &&
  sameArmId(o.scope, d.scope);

/** ARM proves the product made it for this principal: it carries the name only the product gives it. */
const madeByUs = (o: ObservedCosmosSqlRoleAssignment, principalId: string) =>
  o.name !== undefined &&
  o.name.toLowerCase() === cosmosAssignmentName({ scope: o.scope, roleDefinitionGuid: lastSegment(o.roleDefinitionId) }, principalId);

/** Cosmos DB SQL role assignments: one list call per account of the desired grants. */
export const cosmosSqlGrants: GrantKind<CosmosGrantContext, CosmosSqlRoleAssignmentPlan, ObservedCosmosSqlRoleAssignment> = {
  desired: (context) => context.plan.dataPlaneRoleAssignments ?? [],

  async observe(ports, context, budget) {
    const desired = cosmosSqlGrants.desired(context);
    if (desired.length === 0) return [];
    const port = ports.cosmosRoleAssignments;
    if (!port) throw new AutopilotError('CosmosUnavailable', 'the plan has Cosmos DB data-plane grants but the app has no port for them');
    if (!context.principalId || context.principalIsNew) return [];
    const accounts = [...new Map(desired.map((p) => [p.accountId.toLowerCase(), p.accountId])).values()];
    const lists = await Promise.all(
      accounts.map(async (accountId) => (await port.list(accountId, budget)).map((e) => ({ ...e, accountId }))),
    );
    return lists.flat();
  },

  diff(desired, observed, { plan, principalId }) {
    const held = (d: CosmosSqlRoleAssignmentPlan) => principalId !== undefined && observed.some((o) => matches(o, d, principalId));
    const actions: GrantAction<CosmosSqlRoleAssignmentPlan, ObservedCosmosSqlRoleAssignment>[] = desired
      .filter((d) => !held(d))
      .map((d) => ({ kind: 'create', grant: d, owner: { principalId, resourceId: plan.resourceId, rule: plan.rule, source: d.source } }));
    if (!principalId) return actions;
    for (const o of observed) {
      if (!sameId(o.principalId, principalId) || !madeByUs(o, principalId) || desired.some((d) => matches(o, d, principalId))) continue;
      actions.push({ kind: 'remove', grant: o, owner: { principalId } });
    }
    return actions;
  },
};

/** The desired data-plane grants the principal does not hold yet (read-only). */
export async function missingCosmosGrants(
  context: CosmosGrantContext,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<CosmosSqlRoleAssignmentPlan[]> {
  return creates(cosmosSqlGrants.diff(cosmosSqlGrants.desired(context), await cosmosSqlGrants.observe(ports, context, budget), context));
}

/** Makes every missing data-plane grant, one account's one at a time; returns the failures (the caller reports a partial apply) and what is held afterwards. */
export async function grantCosmosRoles(
  missing: readonly CosmosSqlRoleAssignmentPlan[],
  principalId: string,
  ports: EnginePorts,
  backoff: BackoffSettings,
  budget: CallBudget,
  actions: ActionRecord[],
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<{ failures: unknown[]; stillMissing: CosmosSqlRoleAssignmentPlan[] }> {
  // One account's writes one after another (its lock); replication delays and someone else's lock retried, bounded.
  const results = await perAccountInSequence(missing, (p) =>
    withBackoff(
      `Cosmos DB role ${p.roleDisplayName} on ${p.scope}`,
      () =>
        ports.cosmosRoleAssignments!.create(
          {
            accountId: p.accountId,
            name: cosmosAssignmentName(p, principalId),
            roleDefinitionId: cosmosRoleDefinitionId(p.accountId, p.roleDefinitionGuid),
            scope: p.scope,
            principalId,
          },
          budget,
        ),
      (e) => cosmosPrincipalNotReplicated(e) || cosmosAccountLocked(e),
      backoff,
      budget,
      onRetry,
    ),
  );
  const failures: unknown[] = [];
  const stillMissing: CosmosSqlRoleAssignmentPlan[] = [];
  results.forEach((r, i) => {
    const p = missing[i]!;
    if (r.status === 'rejected') {
      failures.push(r.reason);
      stillMissing.push(p);
      return;
    }
    const roleDefinitionId = cosmosRoleDefinitionId(p.accountId, p.roleDefinitionGuid);
    actions.push(
      r.value.status === 'created'
        ? {
            kind: 'cosmos-role-assigned',
            accountId: p.accountId,
            scope: p.scope,
            roleDefinitionId,
            role: p.roleDisplayName,
            assignmentId: r.value.id,
          }
        : { kind: 'cosmos-role-already-assigned', accountId: p.accountId, scope: p.scope, roleDefinitionId, role: p.roleDisplayName },
    );
  });
  return { failures, stillMissing };
}
