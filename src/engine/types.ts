import type { RoleRef, RuleMode, SupportedResourceType } from '../config';

/** The identity block of a resource as ARM reports it. */
export interface IdentityState {
  /** Canonical: 'None' | 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned'. */
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
}

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
  errors: OutcomeError[];
  startedAt: string;
  durationMs: number;
}
