import type { RoleResolver } from '../config';
import type { PendingWrite } from './hand-off';
import type { IdentityBlock, IdentityState, ResourceState, UserAssignedIdentityPlan } from './types';

/** When a write that is still running should stop being polled and be handed off (epoch ms). */
export interface WriteControl {
  handOffAt?: number;
}

/**
 * The narrow ports the executor applies a plan through. The Azure adapters in src/azure implement
 * them over the real SDK clients; each call takes an AbortSignal so one remediation has one deadline.
 * Adapters throw ArmCallError (src/azure/arm-call-error.ts) with the ARM error code.
 */
export interface ResourcePort {
  /** The resource, or undefined when it does not exist (any more). */
  read(resourceId: string, signal: AbortSignal): Promise<ResourceState | undefined>;
  /**
   * Writes the identity block the way the type needs and waits for the LRO; returns the new identity.
   * Past `control.handOffAt` with the operation still running, throws WriteStillRunningError.
   */
  writeIdentity(resource: ResourceState, identity: IdentityBlock, signal: AbortSignal, control?: WriteControl): Promise<IdentityState>;
  /** Polls a write handed off earlier until it ends; never writes. Same hand-off rule as writeIdentity. */
  resumeWrite(write: PendingWrite, signal: AbortSignal, control?: WriteControl): Promise<void>;
  /**
   * Runs the type's follow-up (`FollowUpNeed.code` from `read`) if it is still needed, and waits for
   * it; resolves with what was done, or undefined when nothing was needed. Throws when the type has no
   * such step or it fails.
   */
  runFollowUp(resource: ResourceState, code: string, signal: AbortSignal): Promise<string | undefined>;
}

/** ARM's throttling as the app has seen it: how long until calls to a subscription are allowed again. */
export interface PacingPort {
  /** Milliseconds until the app's 429 gate for the subscription opens (0 when open). */
  closedForMs(subscriptionId: string): number;
}

export interface UserAssignedIdentity {
  id: string;
  principalId: string;
  clientId: string;
  created: boolean;
}

export interface UserAssignedIdentityPort {
  /**
   * Reuses the identity if this product created it for `plan.owner`, creates it otherwise (create-only,
   * so a concurrent squatter is detected); anything else is refused with IdentityNotOwned.
   */
  ensure(plan: UserAssignedIdentityPlan, signal: AbortSignal): Promise<UserAssignedIdentity>;
}

/** A scope a tag named, as ARM reports it. */
export interface GrantTarget {
  id: string;
  /** e.g. `Microsoft.KeyVault/vaults`; `Microsoft.Resources/resourceGroups` / `Microsoft.Resources/subscriptions` for those scopes. */
  type: string;
  tags: Record<string, string>;
}

export interface GrantTargetPort {
  /** The target, or undefined when it does not exist. One ARM GET; read-only. */
  read(scope: string, signal: AbortSignal): Promise<GrantTarget | undefined>;
}

export interface ExistingRoleAssignment {
  scope: string;
  roleDefinitionGuid: string;
}

export interface RoleAssignmentPort {
  /** Every assignment of the principal in a subscription (one list call). */
  listForPrincipal(subscriptionId: string, principalId: string, signal: AbortSignal): Promise<ExistingRoleAssignment[]>;
  /** Creates it; an identical assignment under another name counts as `exists`. */
  create(
    input: { scope: string; name: string; roleDefinitionId: string; principalId: string; description: string },
    signal: AbortSignal,
  ): Promise<{ status: 'created' | 'exists'; id?: string }>;
}

/** Management groups as ARM reports them to the app's identity. */
export interface ManagementGroupPort {
  /**
   * Every subscription under the group at any depth (nested groups included), lower-case ids. Throws
   * ArmCallError when ARM refuses (the app lacks read on the group) or the group does not exist.
   */
  subscriptionsUnder(managementGroup: string, signal: AbortSignal): Promise<string[]>;
}

export interface EnginePorts {
  resources: ResourcePort;
  userAssignedIdentities: UserAssignedIdentityPort;
  roleAssignments: RoleAssignmentPort;
  roles: RoleResolver;
  grantTargets: GrantTargetPort;
  pacing?: PacingPort;
  /** Needed only when the rules name `scope.managementGroups`. */
  managementGroups?: ManagementGroupPort;
}
