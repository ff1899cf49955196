import { roleAssignmentName } from './assignment-name';
import type { CallBudget } from './call-budget';
import { toOutcomeError } from './findings';
import { cosmosAssignmentName } from './grants/cosmos-sql-role-assignments';
import { sameId } from './grants/grant-kind';
import { roleAssignmentOwner } from './grants/role-assignments';
import { recordsOwner } from './identity-owner';
import type { EnginePorts, ExistingCosmosSqlRoleAssignment, ExistingRoleAssignment, FederatedCredential } from './ports';
import type { OutcomeError } from './types';
import { federatedCredentialName } from './workload-identity';

/**
 * Removing what the product made, for every lifecycle path (clean-up after a delete, revocation, orphans).
 * A removal names the object and the owner it was made for; right before its DELETE the object is read
 * afresh (one GET) and removed only when what ARM shows proves it the product's, for that owner:
 * - an Azure role assignment: ARM's `createdBy` is the app, its description names the owner's resource,
 *   and its name is the deterministic one for (scope, principal, role), which holds the principal id, so
 *   a re-created resource (new principal) never matches an old assignment's name, nor the reverse;
 * - a Cosmos DB SQL role assignment: its principal, and the deterministic name only the product gives;
 * - a federated credential: `systemData.createdBy` is the app, and the name is the product's for the cluster;
 * - a user-assigned identity: `systemData.createdBy` is the app, and the owner record names the owner.
 * Anything else is kept and reported (`kept`), whatever tags or description it carries: those anyone
 * who may write the object can copy. Nothing here decides WHAT to remove; callers do (see cleanup.ts).
 */

export const REMOVAL_KINDS = ['role-assignment', 'cosmos-sql-role-assignment', 'federated-credential', 'user-assigned-identity'] as const;
export type RemovalKind = (typeof REMOVAL_KINDS)[number];

/** Whom the object must prove it was made for. */
export interface RemovalOwner {
  /** The workload it was made for (for a federated credential: the cluster). */
  resourceId: string;
  /** The principal that holds it (role assignments, Cosmos SQL role assignments). */
  principalId?: string;
  /** For a user-assigned identity: the owner recorded on it (a resource id, `<cluster>#serviceaccount:ns/name`, `rule:<name>`). */
  identityOwner?: string;
}

export type Removal =
  | { kind: 'role-assignment'; assignmentId: string; owner: RemovalOwner; reason: string }
  | { kind: 'cosmos-sql-role-assignment'; accountId: string; name: string; owner: RemovalOwner; reason: string }
  | { kind: 'federated-credential'; identityId: string; name: string; owner: RemovalOwner; reason: string }
  | { kind: 'user-assigned-identity'; identityId: string; owner: RemovalOwner; reason: string };

export const REMOVAL_STATUSES = ['removed', 'absent', 'kept', 'failed'] as const;

/**
 * What became of one object a lifecycle path looked at: `removed` (ARM deleted it), `absent` (already
 * gone: a redelivery, or someone else removed it), `kept` (not proven ours for this owner, or still in
 * use: reported, never deleted), `failed` (the DELETE or its proof read failed; `detail` says how).
 */
export interface RemovalRecord {
  kind: RemovalKind;
  /** The object's ARM id. */
  id: string;
  status: (typeof REMOVAL_STATUSES)[number];
  /** Why it was a candidate (e.g. `resource deleted`). */
  reason: string;
  /** Why it was kept, or how it failed. */
  detail?: string;
  principalId?: string;
  /** Role assignments: the role definition GUID and the scope. */
  roleDefinitionGuid?: string;
  scope?: string;
}

export interface RemovalResult {
  records: RemovalRecord[];
  errors: OutcomeError[];
}

/** The id of a removal's object. */
export function removalId(r: Removal): string {
  switch (r.kind) {
    case 'role-assignment':
      return r.assignmentId;
    case 'cosmos-sql-role-assignment':
      return `${r.accountId}/sqlRoleAssignments/${r.name}`;
    case 'federated-credential':
      return `${r.identityId}/federatedIdentityCredentials/${r.name}`;
    case 'user-assigned-identity':
      return r.identityId;
  }
}

/**
 * Executes removals one at a time, in the order given (callers put an identity after its credentials
 * and role assignments; Cosmos DB takes an account lock per write, and credential writes on one
 * identity conflict, so one at a time is also what ARM allows). A failure is recorded and the rest go on.
 */
export async function executeRemovals(removals: readonly Removal[], ports: EnginePorts, budget: CallBudget): Promise<RemovalResult> {
  const records: RemovalRecord[] = [];
  const errors: OutcomeError[] = [];
  for (const removal of removals) {
    const { principalId } = removal.owner;
    const base = { kind: removal.kind, id: removalId(removal), reason: removal.reason, ...(principalId ? { principalId } : {}) };
    try {
      records.push({ ...base, ...(await removeOne(removal, ports, budget)) });
    } catch (e) {
      const error = toOutcomeError(e);
      errors.push(error);
      records.push({ ...base, status: 'failed', detail: `${error.code}: ${error.message}` });
    }
  }
  return { records, errors };
}

type Verdict = Omit<RemovalRecord, 'kind' | 'id' | 'reason'>;

const kept = (detail: string, extra: Partial<Verdict> = {}): Verdict => ({ status: 'kept', detail, ...extra });

async function removeOne(removal: Removal, ports: EnginePorts, budget: CallBudget): Promise<Verdict> {
  switch (removal.kind) {
    case 'role-assignment': {
      const found = await ports.roleAssignments.get(removal.assignmentId, budget);
      if (!found) return { status: 'absent' };
      const facts = { principalId: found.principalId, roleDefinitionGuid: found.roleDefinitionGuid, scope: found.scope };
      const problem = roleAssignmentProblem(found, removal.owner);
      if (problem) return kept(problem, facts);
      return { status: await ports.roleAssignments.remove(removal.assignmentId, budget), ...facts };
    }
    case 'cosmos-sql-role-assignment': {
      const port = ports.cosmosRoleAssignments;
      if (!port) return kept('the app has no Cosmos DB port');
      const found = await port.get(removal.accountId, removal.name, budget);
      if (!found) return { status: 'absent' };
      const problem = cosmosProblem(found, removal.owner);
      if (problem) return kept(problem, { principalId: found.principalId, scope: found.scope });
      return { status: await port.remove(removal.accountId, removal.name, budget), principalId: found.principalId, scope: found.scope };
    }
    case 'federated-credential': {
      const found = await ports.federatedCredentials.get(removal.identityId, removal.name, budget);
      if (!found) return { status: 'absent' };
      const problem = credentialProblem(found, removal.owner);
      if (problem) return kept(problem);
      return { status: await ports.federatedCredentials.remove(removal.identityId, removal.name, budget) };
    }
    case 'user-assigned-identity': {
      const found = await ports.userAssignedIdentities.read(removal.identityId, budget);
      if (!found) return { status: 'absent' };
      if (!found.createdByUs) return kept('ARM does not record identity-autopilot as its creator (systemData.createdBy)');
      const owner = removal.owner.identityOwner ?? removal.owner.resourceId;
      if (!recordsOwner(found.ownerRecord, owner)) return kept(`its owner record names '${found.ownerRecord ?? 'nobody'}', not ${owner}`);
      return { status: await ports.userAssignedIdentities.remove(removal.identityId, budget), principalId: found.principalId };
    }
  }
}

/** Why an Azure role assignment is not proven the product's for this owner; undefined when it is. */
export function roleAssignmentProblem(found: ExistingRoleAssignment, owner: RemovalOwner): string | undefined {
  if (!found.createdByUs) return 'ARM does not record identity-autopilot as its creator (createdBy)';
  const described = roleAssignmentOwner(found);
  if (!described || !sameId(described.resourceId, owner.resourceId)) return `its description does not name ${owner.resourceId}`;
  const principalId = found.principalId;
  if (!principalId || (owner.principalId && !sameId(principalId, owner.principalId)))
    return `it is held by ${principalId ?? 'an unknown principal'}, not ${owner.principalId}`;
  if (!sameId(found.name, roleAssignmentName(found.scope, principalId, found.roleDefinitionGuid)))
    return 'its name is not the one identity-autopilot gives (scope, principal, role)';
  return undefined;
}

/** Why a Cosmos DB SQL role assignment is not proven the product's for this owner; undefined when it is. */
export function cosmosProblem(found: ExistingCosmosSqlRoleAssignment, owner: RemovalOwner): string | undefined {
  if (!owner.principalId || !sameId(found.principalId, owner.principalId))
    return `it is held by ${found.principalId}, not ${owner.principalId}`;
  const guid = found.roleDefinitionId.split('/').filter(Boolean).pop() ?? '';
  if (!sameId(found.name, cosmosAssignmentName({ scope: found.scope, roleDefinitionGuid: guid.toLowerCase() }, owner.principalId)))
    return 'its name is not the one identity-autopilot gives (scope, principal, role)';
  return undefined;
}

function credentialProblem(found: FederatedCredential, owner: RemovalOwner): string | undefined {
  if (!found.ours) return 'ARM does not record identity-autopilot as its creator (systemData.createdBy)';
  if (!sameId(found.name, federatedCredentialName(owner.resourceId)))
    return `its name is not the one identity-autopilot gives for ${owner.resourceId}`;
  return undefined;
}
