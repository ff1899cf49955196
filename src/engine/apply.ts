import { subscriptionOf } from '../arm/resource-id';
import { roleDefinitionIdFor } from '../config';
import { ArmCallError, AutopilotError, isArmCallError, ResourceGoneError } from '../errors';
import { roleAssignmentName } from './assignment-name';
import type { CallBudget } from './call-budget';
import type { DaprContext } from './dapr';
import { verifyGrantTargets } from './grant-targets';
import { grantCosmosRoles, missingCosmosGrants } from './grants/cosmos-sql-role-assignments';
import { applyDaprClientIds } from './grants/dapr-client-ids';
import {
  type AssessedRoleAssignment,
  assessRoleAssignments,
  type ResolvedRoleAssignment,
  resolveRoles,
  roleAssignmentDescription,
} from './grants/role-assignments';
import type { ObservedGrants } from './plan-report';
import type { EnginePorts, UserAssignedIdentity } from './ports';
import { type BackoffSettings, withBackoff } from './retry';
import type {
  ActionRecord,
  IdentityState,
  Plan,
  PlanBlocker,
  PrincipalDescription,
  ResourceState,
  WorkloadIdentityFacts,
  WorkloadIdentityResult,
} from './types';
import { applyWorkloadIdentities } from './workload-identity';

export interface ApplySettings {
  /** PrincipalNotFound right after an identity is created: Entra replication delay. */
  principalNotFoundBackoff: BackoffSettings;
  /** 409 AnotherOperationInProgress and similar on the identity write. */
  conflictBackoff: BackoffSettings;
  onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
}

/** How one apply runs inside a delivery: what came before it. */
export interface ApplyControl {
  /** Every action is appended here as it happens, so a failure or hand-off still reports what was done. */
  actions?: ActionRecord[];
  /** The principal was created earlier in this remediation (a resumed one): it holds no role yet. */
  principalIsNew?: boolean;
  /** What the Dapr step read (components, the environment's apps), for the azureClientId decisions. */
  dapr?: DaprContext;
}

export interface ApplyResult {
  principalId?: string;
  /** The principal that got the roles, with what the writes made known (objectId, clientId). */
  grantee?: PrincipalDescription;
  identityAfter: string;
  actions: ActionRecord[];
  /** What was observed of the plan's grants, as they stand after applying. */
  observed: ObservedGrants;
  /** Follow-ups the workload still needs (not opted in, or failed): the outcome is `pending`, never remediated. */
  pending?: PlanBlocker[];
  /** AKS workload identity: what each service account got. */
  workloadIdentities?: WorkloadIdentityResult[];
}

function principalFromIdentity(plan: Plan, identity: IdentityState | undefined, ua: UserAssignedIdentity | undefined): string | undefined {
  const source = plan.principal;
  switch (source.kind) {
    case 'existing':
      return source.principalId;
    case 'system-assigned-after-write':
      return identity?.principalId;
    case 'user-assigned':
      return (
        ua?.principalId ??
        source.principalId ??
        identity?.userAssigned.find((u) => u.id.toLowerCase() === source.identityId.toLowerCase())?.principalId
      );
    case 'workload-identities':
      return undefined;
  }
}

/** The plan's grantee, completed with what applying learnt: the new principal's ids. */
function granteeAfter(
  plan: Plan,
  principalId: string | undefined,
  identity: IdentityState | undefined,
  ua: UserAssignedIdentity | undefined,
): PrincipalDescription | undefined {
  if (!plan.grantee) return undefined;
  const uaId = plan.principal.kind === 'user-assigned' ? plan.principal.identityId : plan.grantee.identityId;
  const attached = uaId ? identity?.userAssigned.find((u) => u.id.toLowerCase() === uaId.toLowerCase()) : undefined;
  return {
    ...plan.grantee,
    objectId: principalId ?? plan.grantee.objectId,
    clientId: plan.grantee.clientId ?? ua?.clientId ?? attached?.clientId,
    identityId: plan.grantee.identityId ?? ua?.id ?? attached?.id,
  };
}

/** A busy resource (409), or a stale ETag (412 PreconditionFailed): both re-read and write again. */
const retryableConflict = (e: unknown) => isArmCallError(e) && (e.status === 409 || e.status === 412) && e.transient;
const principalNotReplicated = (e: unknown) => isArmCallError(e, 'PrincipalNotFound');

/**
 * Applies a plan through the ports: ensure the user-assigned identity, write the identity, then grant
 * every missing role, in parallel, retrying replication delays with bounded backoff.
 */
export async function applyPlan(
  plan: Plan,
  resource: ResourceState,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  control: ApplyControl = {},
): Promise<ApplyResult> {
  const actions: ActionRecord[] = control.actions ?? [];
  // Roles first: a role that cannot be resolved, or is refused, must stop the remediation before any write.
  const resolved = await resolveRoles(plan, ports, budget);
  // Likewise every scope a tag chose: it must exist, be of a declared type and consent, before any write.
  await verifyGrantTargets(plan, ports, budget);
  if (plan.workloadIdentities) return applyWorkloadIdentityPlan(plan, resource, resolved, ports, settings, budget, control, actions);
  const ua = await ensureUserAssignedIdentity(plan, ports, budget, actions);
  const identity = await writeIdentity(plan, resource, ports, settings, budget, actions);
  const pending = await runFollowUps(plan, resource, ports, budget, actions);
  const principalId = principalFromIdentity(plan, identity, ua);
  const grantee = granteeAfter(plan, principalId, identity, ua);
  const done = { principalId, grantee, identityAfter: identity?.type ?? resource.identity.type, actions, pending };
  if (!principalId) {
    if (plan.roleAssignments.length === 0 && (plan.dataPlaneRoleAssignments ?? []).length === 0)
      return { ...done, observed: { roleAssignments: [] } };
    throw new AutopilotError('PrincipalMissing', `the identity of ${plan.resourceId} reports no principalId, so no role can be granted`);
  }
  const principalIsNew = control.principalIsNew === true || plan.principal.kind === 'system-assigned-after-write' || ua?.created === true;
  const { observed, failures } = await grantAll(
    plan,
    { resolved, principalId, principalIsNew, grantee, identity: identity ?? resource.identity, dapr: control.dapr },
    ports,
    settings,
    budget,
    actions,
  );
  const result: ApplyResult = { ...done, observed };
  if (failures.length > 0) throw new PartialApplyError(result, failures);
  return result;
}

async function ensureUserAssignedIdentity(
  plan: Plan,
  ports: EnginePorts,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<UserAssignedIdentity | undefined> {
  if (!plan.userAssignedIdentity) return undefined;
  const ua = await ports.userAssignedIdentities.ensure(plan.userAssignedIdentity, budget);
  actions.push({
    kind: ua.created ? 'user-assigned-identity-created' : 'user-assigned-identity-reused',
    identityId: ua.id,
    principalId: ua.principalId,
  });
  return ua;
}

/** The plan's identity write, if any (re-read and rebuilt when someone else changed the resource meanwhile). */
async function writeIdentity(
  plan: Plan,
  resource: ResourceState,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<IdentityState | undefined> {
  if (plan.identity.action !== 'write') return undefined;
  const target = plan.identity.to;
  const identity = await writeWithReread(
    'identity write',
    resource,
    ports,
    settings,
    budget,
    (current) => ports.resources.writeIdentity(current, target, budget),
    (fresh) => {
      // Changed meanwhile into something the product must not write (secrets added, group stopped).
      const hard = fresh.blockers.filter((b) => !b.waivedBy);
      if (hard.length > 0)
        throw new AutopilotError(hard[0]!.code, `${resource.id} can no longer be written: ${hard.map((b) => b.detail).join('; ')}`);
      return undefined;
    },
  );
  actions.push({ kind: 'identity-written', from: plan.identity.from, to: identity.type, principalId: identity.principalId });
  return identity;
}

/** What the grants are for: the principal, and what the Dapr step needs to decide azureClientId. */
interface Grantee {
  resolved: readonly ResolvedRoleAssignment[];
  principalId: string;
  principalIsNew: boolean;
  grantee?: PrincipalDescription;
  identity: IdentityState;
  dapr?: DaprContext;
}

/** Every kind of grant in turn: Azure roles, then Cosmos DB data-plane roles, then the Dapr components' azureClientId. */
async function grantAll(
  plan: Plan,
  to: Grantee,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<{ observed: ObservedGrants; failures: unknown[] }> {
  const roles = await grantRoles(plan, to.resolved, to.principalId, to.principalIsNew, ports, settings, budget, actions);
  const missing = await missingCosmosGrants({ plan, principalId: to.principalId, principalIsNew: to.principalIsNew }, ports, budget);
  const cosmos = await grantCosmosRoles(missing, to.principalId, ports, settings.principalNotFoundBackoff, budget, actions, (e, n, d) =>
    settings.onRetry?.('Cosmos DB role assignment', e, n, d),
  );
  const dapr = await applyDaprClientIds(plan, to.dapr, to.grantee, to.identity, ports, budget, actions);
  return {
    observed: { roleAssignments: roles.assessed, missingDataPlane: cosmos.stillMissing, daprClientIds: dapr.decisions },
    failures: [...roles.failures, ...cosmos.failures, ...dapr.failures],
  };
}

/**
 * A write of the resource, retried on a busy resource (409) or a stale ETag (412): someone else changed
 * it, so it is read again and the write rebuilt from that read (a GET-modify-PUT then sends their change
 * back rather than reverting it, and carries the new ETag). `onFresh` judges each new read: it may
 * refuse (throw), or return what makes the write unnecessary.
 */
async function writeWithReread<T>(
  what: string,
  resource: ResourceState,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  write: (current: ResourceState) => Promise<T>,
  onFresh: (fresh: ResourceState) => T | undefined,
): Promise<T> {
  let current = resource;
  let attempt = 0;
  return withBackoff(
    what,
    async () => {
      if (attempt++ > 0) {
        const fresh = await ports.resources.read(resource.id, budget);
        if (!fresh) throw new ResourceGoneError(resource.id);
        const settled = onFresh(fresh);
        if (settled !== undefined) return settled;
        current = fresh;
      }
      return write(current);
    },
    retryableConflict,
    settings.conflictBackoff,
    budget,
    (e, n, d) => settings.onRetry?.(what, e, n, d),
  );
}

/**
 * Grants every role of `resolved` the principal does not hold yet, in parallel, retrying Entra's
 * replication delay (PrincipalNotFound) with bounded backoff. Returns what is held afterwards (`present`)
 * and the failures; every grant made is appended to `actions` as it happens.
 */
export async function grantRoles(
  plan: Plan,
  resolved: readonly ResolvedRoleAssignment[],
  principalId: string,
  principalIsNew: boolean,
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<{ assessed: AssessedRoleAssignment[]; failures: unknown[] }> {
  // `resolved` is shared by every principal of the plan (one per service account); presence is per principal.
  const { actions: diff } = await assessRoleAssignments({ plan, resolved, principalId, principalIsNew }, ports, budget);
  const missing = diff.flatMap((a) => (a.kind === 'create' ? [a] : []));
  const results = await Promise.allSettled(
    missing.map(({ grant: r, owner }) =>
      withBackoff(
        `role assignment ${r.roleDisplayName} at ${r.scope}`,
        () =>
          ports.roleAssignments.create(
            {
              scope: r.scope,
              name: roleAssignmentName(r.scope, principalId, r.roleDefinitionGuid),
              roleDefinitionId: roleDefinitionIdFor(r.roleDefinitionGuid, subscriptionOf(r.scope)),
              principalId,
              description: roleAssignmentDescription({ rule: owner.rule!, source: owner.source!, resourceId: owner.resourceId! }),
            },
            budget,
          ),
        principalNotReplicated,
        settings.principalNotFoundBackoff,
        budget,
        (e, n, d) => settings.onRetry?.('role assignment', e, n, d),
      ),
    ),
  );
  const failures: unknown[] = [];
  const stillMissing = new Set<ResolvedRoleAssignment>();
  results.forEach((result, i) => {
    const r = missing[i]!.grant;
    if (result.status === 'rejected') {
      failures.push(result.reason);
      stillMissing.add(r);
      return;
    }
    actions.push(
      result.value.status === 'created'
        ? {
            kind: 'role-assigned',
            scope: r.scope,
            roleDefinitionId: r.roleDefinitionId,
            role: r.roleDisplayName,
            assignmentId: result.value.id ?? '',
          }
        : { kind: 'role-already-assigned', scope: r.scope, roleDefinitionId: r.roleDefinitionId, role: r.roleDisplayName },
    );
  });
  return { assessed: resolved.map((r) => ({ ...r, present: !stillMissing.has(r) })), failures };
}

/**
 * AKS workload identity: the cluster write the rule opted in to (re-read and retried on a conflict or a
 * stale ETag, like the identity write), then each service account's identity, credential and roles.
 */
async function applyWorkloadIdentityPlan(
  plan: Plan,
  resource: ResourceState,
  resolved: readonly ResolvedRoleAssignment[],
  ports: EnginePorts,
  settings: ApplySettings,
  budget: CallBudget,
  control: ApplyControl,
  actions: ActionRecord[],
): Promise<ApplyResult> {
  let facts: WorkloadIdentityFacts = resource.workloadIdentity ?? { oidcIssuerEnabled: false, workloadIdentityEnabled: false };
  const change = plan.clusterChange;
  if (change) {
    facts = await writeWithReread(
      'cluster workload identity write',
      resource,
      ports,
      settings,
      budget,
      (current) => ports.resources.enableWorkloadIdentity(current, change, budget),
      // Someone else enabled it meanwhile: nothing left to write.
      (fresh) =>
        fresh.workloadIdentity?.oidcIssuerEnabled && fresh.workloadIdentity.workloadIdentityEnabled ? fresh.workloadIdentity : undefined,
    );
    actions.push({
      kind: 'cluster-workload-identity-enabled',
      oidcIssuer: change.enableOidcIssuer,
      workloadIdentity: change.enableWorkloadIdentity,
      issuer: facts.issuerUrl,
    });
  }
  const { results, failures } = await applyWorkloadIdentities(
    plan.resourceId,
    plan.workloadIdentities!,
    facts,
    ports,
    settings,
    budget,
    actions,
    (principalId, principalIsNew) =>
      grantRoles(plan, resolved, principalId, principalIsNew || control.principalIsNew === true, ports, settings, budget, actions),
  );
  // The roles are per service account (in `results`); the plan's list shows them resolved, not held by one principal.
  const result: ApplyResult = {
    identityAfter: resource.identity.type,
    actions,
    observed: { roleAssignments: resolved.map((r) => ({ ...r, present: false })) },
    workloadIdentities: results,
  };
  if (failures.length > 0) throw new PartialApplyError(result, failures);
  return result;
}

/**
 * Right after the identity write: runs each follow-up the rule opted in to (the plan keeps an opted-in
 * one without a write too, so a redelivery finishes what a failed or timed-out step left). One that is
 * not opted in, or fails, is returned as pending with its remedy; the grants still go ahead, since the
 * identity exists on the model.
 */
async function runFollowUps(
  plan: Plan,
  resource: ResourceState,
  ports: EnginePorts,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<PlanBlocker[]> {
  const pending: PlanBlocker[] = [];
  for (const step of plan.followUps ?? []) {
    if (!step.run) {
      if (step.onlyIfNeeded && !(await ports.resources.followUpNeeded(resource, step.code, budget))) continue;
      pending.push({ code: step.code, detail: step.detail, remedy: step.remedy });
      continue;
    }
    try {
      const done = await ports.resources.runFollowUp(resource, step.code, budget);
      if (done) actions.push({ kind: 'follow-up-done', code: step.code, detail: done });
    } catch (e) {
      // Out of time too: pending, not a transient failure, so the outcome never says more than Azure did.
      const why = budget.signal.aborted ? 'the remediation ran out of time' : e instanceof Error ? e.message : String(e);
      pending.push({ code: step.code, detail: `${step.detail}; the attempt failed: ${why}`, remedy: step.remedy });
    }
  }
  return pending;
}

/** Some grants failed after others succeeded: the outcome keeps both. */
export class PartialApplyError extends AutopilotError {
  constructor(
    readonly partial: ApplyResult,
    readonly failures: unknown[],
  ) {
    const first = failures[0];
    super(
      first instanceof AutopilotError ? first.code : 'RoleAssignmentFailed',
      `${failures.length} role assignment(s) failed: ${failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ')}`,
    );
  }
}

export function isTransient(e: unknown): boolean {
  if (e instanceof PartialApplyError) return e.failures.some(isTransient);
  if (e instanceof ArmCallError) return e.transient;
  return e instanceof AutopilotError && (e.code === 'DeadlineExceeded' || e.code === 'ThrottledPastHandOff');
}
