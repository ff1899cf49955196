import type { RoleRef, RuleMode, SupportedResourceType, WorkloadOptions } from '../config';

/** The identity block of a resource as ARM reports it. */
export interface IdentityState {
  /**
   * The engine's one internal name for the kind: 'None' | 'SystemAssigned' | 'UserAssigned' |
   * 'SystemAssigned, UserAssigned', whatever the RP's spelling; each type module spells it on writes.
   */
  type: string;
  principalId?: string;
  tenantId?: string;
  userAssigned: Array<{ id: string; principalId?: string; clientId?: string }>;
}

/** What planning needs to know about a resource: read once, then planned purely. */
export interface ResourceState {
  id: string;
  type: SupportedResourceType;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  identity: IdentityState;
  /** What writing the identity does to the workload beyond the identity (from the type's module), shown in plans. */
  identityWriteNote?: string;
  /**
   * What the type's module found in the body that forbids this product writing the identity at all
   * (for example write-only secrets a GET-modify-PUT would wipe). Planning turns them into a blocked plan.
   */
  blockers: PlanBlocker[];
  /** The body exactly as read, kept for types that are written by GET-modify-PUT. */
  rawBody: Record<string, unknown>;
}

/** The identity block to write, as ARM expects it. */
export interface IdentityBlock {
  type: string;
  userAssignedIdentities?: Record<string, Record<string, never>>;
}

export type IdentityChange =
  | { action: 'none'; reason: string }
  | { action: 'write'; from: string; to: IdentityBlock; reason: string };

export interface UserAssignedIdentityPlan {
  /** `ensure`: reuse it if it exists, create it otherwise. */
  action: 'ensure';
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** The rule that names it: identities are tagged with it, and only reused under the same rule. */
  rule: string;
  /**
   * Whom the identity belongs to: the workload's resource id, or `rule:<name>` for a rule's declared
   * shared identity. Recorded on the identity when created; reuse requires the same owner.
   */
  owner: string;
}

/** Whose roles these are: an identity known now, or the one the identity change will produce. */
export type PrincipalSource =
  | { kind: 'existing'; principalId: string; identity: 'SystemAssigned' | 'UserAssigned' }
  | { kind: 'system-assigned-after-write' }
  | { kind: 'user-assigned'; identityId: string; principalId?: string };

export interface RoleAssignmentPlan {
  profile: string;
  role: RoleRef;
  /** Known at plan time for built-in and GUID roles; custom roles resolve at apply. */
  roleDefinitionGuid?: string;
  roleDisplayName: string;
  scope: string;
  /** Set when a tag chose the scope: the target is read before any write and must pass these checks. */
  target?: GrantTargetCheck;
}

/** What a tag-chosen target must be, proven by reading it (it exists, is of a declared type, consents). */
export interface GrantTargetCheck {
  /** Declared types (canonical), plus `resourceGroup` / `subscription`. */
  types: string[];
  /** When set, the target must carry this tag admitting the workload's subscription or resource group. */
  consentTag?: string;
}

/**
 * A reason the product will not make a needed change itself: the change would harm the workload or
 * needs a person (redeploy with the identity in the template, a migration, an opt-in in the rules).
 * Permanent: retrying changes nothing until someone acts.
 */
export interface PlanBlocker {
  /** Stable code, e.g. `RequiresRedeploy`. */
  code: string;
  detail: string;
  /** What a person can do about it. */
  remedy?: string;
  /**
   * The rule's workload option that lifts this blocker when true (for example `allowRestart` for a
   * write that restarts the workload). Absent: nothing in the rules lifts it.
   */
  waivedBy?: WaiverOption;
}

/** The workload options that consent to a side effect of the identity write. */
export type WaiverOption = { [K in keyof WorkloadOptions]: WorkloadOptions[K] extends boolean ? K : never }[keyof WorkloadOptions];

export interface Plan {
  resourceId: string;
  resourceType: SupportedResourceType;
  rule: string;
  mode: RuleMode;
  identity: IdentityChange;
  userAssignedIdentity?: UserAssignedIdentityPlan;
  principal: PrincipalSource;
  roleAssignments: RoleAssignmentPlan[];
  /** Profiles applied, in order. */
  profiles: string[];
  notes: string[];
  /** Non-empty: nothing is written; the outcome is `blocked` with these reasons. */
  blockers: PlanBlocker[];
}

export type OutcomeStatus =
  /** Nothing needed doing. */
  | 'compliant'
  /** Changes were made. */
  | 'remediated'
  /** Changes are needed but were not made (plan mode, report rules, dry run). */
  | 'planned'
  /** Out of scope, opted out, no rule, or our own write. */
  | 'skipped'
  /** The resource no longer exists. */
  | 'gone'
  /**
   * Changes are needed but the product will not make them (they would harm the workload or need a
   * person); `blockers` says why and what to do. Permanent, never retried.
   */
  | 'blocked'
  /**
   * Azure accepted the changes but the workload cannot use the identity yet (for example scale-set
   * instances still on the old model). Never reported as remediated.
   */
  | 'pending'
  /** The rest of the work was handed to the remediation queue (a long write, a busy resource, throttling). */
  | 'deferred'
  | 'failed';

export type ActionRecord =
  | { kind: 'user-assigned-identity-created' | 'user-assigned-identity-reused'; identityId: string; principalId: string }
  | { kind: 'identity-written'; from: string; to: string; principalId?: string }
  | { kind: 'role-assigned'; scope: string; roleDefinitionId: string; role: string; assignmentId: string }
  | { kind: 'role-already-assigned'; scope: string; roleDefinitionId: string; role: string };

export interface OutcomeError {
  code: string;
  message: string;
  /** Worth retrying later (throttling, service errors, replication delay). */
  transient: boolean;
}

/** One record per remediation: what was planned, done, skipped and why. Never holds a token. */
export interface RemediationOutcome {
  correlationId: string;
  resourceId: string;
  resourceType?: string;
  status: OutcomeStatus;
  rule?: string;
  mode?: RuleMode;
  principalId?: string;
  identityBefore?: string;
  identityAfter?: string;
  plan?: Plan;
  actions: ActionRecord[];
  skipped: Array<{ reason: string; detail: string }>;
  /** Why a `blocked` (or `pending`) outcome is not done, and what to do. */
  blockers?: PlanBlocker[];
  errors: OutcomeError[];
  startedAt: string;
  durationMs: number;
}
