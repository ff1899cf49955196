import type { RevokeMode, RoleRef, RuleMode, SupportedResourceType, WorkloadOptions } from '../config';
import type { MissingPermission } from '../errors';
import type { Deferral } from './hand-off';
import type { RemovalRecord } from './removals';

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
  /** `properties.provisioningState` as read; a non-terminal one means an operation is running. */
  provisioningState?: string;
  /** How long (ms) to wait before looking again when this resource is busy (from the type's module). */
  busyRetryMs?: number;
  /** The body exactly as read, kept for types that are written by GET-modify-PUT. */
  rawBody: Record<string, unknown>;
  /** What the RP's identity block can hold (from the type's module); absent: both kinds at once. */
  identityCapabilities?: IdentityCapabilities;
  /**
   * Principals of the workload besides its identity block, and the role that block plays (from the
   * type's module). AKS: the block is the control plane (`cluster`); pods run as `kubelet`.
   * Absent: the identity block is the only principal (`resource`).
   */
  principals?: WorkloadPrincipals;
  /** The ETag of the read, for types whose writes are conditional (`If-Match`). */
  etag?: string;
  /** A container app with Dapr enabled: its Dapr app id and managed environment (from the type's module). */
  dapr?: DaprAppFacts;
  /**
   * Who manages the resource, or its resource group, when another service does (ARM's top-level
   * `managedBy`: an AKS node resource group `MC_*`, a Databricks managed group, a node-pool scale
   * set). Such resources are left alone: changes there belong to that service.
   */
  managedBy?: string;
  resourceGroupManagedBy?: string;
  /**
   * What the type's module says must follow an identity write before the workload can use the identity
   * (for example upgrading scale-set instances on a Manual upgrade policy).
   */
  followUp?: FollowUpNeed;
  /** The cluster's OIDC issuer and workload identity settings (from the type's module; AKS only). */
  workloadIdentity?: WorkloadIdentityFacts;
}

/**
 * What a cluster offers for workload identity (AKS: `properties.oidcIssuerProfile` and
 * `properties.securityProfile.workloadIdentity`, managedClusters.json 2024-09-01).
 */
export interface WorkloadIdentityFacts {
  oidcIssuerEnabled: boolean;
  /** The issuer URL AKS reports (read-only in the spec); absent until the issuer is enabled. */
  issuerUrl?: string;
  /** The mutating webhook that projects the token into pods whose service account asks for it. */
  workloadIdentityEnabled: boolean;
}

/** `properties.configuration.dapr` of a container app with Dapr enabled, and its environment. */
export interface DaprAppFacts {
  appId: string;
  environmentId: string;
}

/** What an RP's identity block can hold, as its spec says. */
export interface IdentityCapabilities {
  /** False where the RP holds one identity kind at a time (AKS: `SystemAssigned | UserAssigned | None`). */
  readonly systemAndUserAssigned: boolean;
  /**
   * One kind at a time, but a write may switch a system-assigned identity to a user-assigned one
   * (the AKS control plane: `az aks update --assign-identity`).
   */
  readonly switchToUserAssigned?: boolean;
  /**
   * Set where the RP refuses a system-assigned identity on this resource (a scale set in Flexible
   * orchestration: user-assigned only): why, and what a person can do. A rule asking for one is blocked.
   */
  readonly noSystemAssigned?: { readonly detail: string; readonly remedy: string };
}

/**
 * What a principal is to the workload: `resource` (the resource's own identity block), `cluster`
 * (AKS control plane, the cluster's `identity`), `kubelet` (AKS nodes: what pods get from IMDS).
 */
export type PrincipalRole = 'resource' | 'cluster' | 'kubelet';

/** One principal of a workload, as far as it is known. Never holds a secret. */
export interface PrincipalDescription {
  role: PrincipalRole;
  /** The Entra object id (ARM's `principalId`). */
  objectId?: string;
  clientId?: string;
  /** The user-assigned identity resource, when the principal is one. */
  identityId?: string;
}

export interface WorkloadPrincipals {
  /** The role of the resource's own identity block. */
  identityBlockRole: PrincipalRole;
  /** The other principals the workload runs as, as read (an absent one is not listed). */
  others: PrincipalDescription[];
}

/**
 * A step a type needs after its identity write (from the type's module), which a rule's workload option
 * opts in to; without the opt-in the outcome is `pending` with the remedy.
 */
export interface FollowUpNeed {
  /** Stable code, e.g. `UpgradeInstances`. */
  code: string;
  /** The workload option that allows the product to run the step itself. */
  optIn: 'upgradeInstances' | 'allowRestart';
  /** What the step does and why it is needed. */
  detail: string;
  /** What a person can do instead. */
  remedy: string;
}

/** A follow-up in a plan: run by the product (`run`) or left to a person (the outcome is `pending`). */
export interface PlannedFollowUp extends FollowUpNeed {
  run: boolean;
  /** Not run, and owed only if the resource shows it still needed (checked read-only before reporting it pending). */
  onlyIfNeeded?: boolean;
}

/** The identity block to write, as ARM expects it. */
export interface IdentityBlock {
  type: string;
  userAssignedIdentities?: Record<string, Record<string, never>>;
}

export type IdentityChange = { action: 'none'; reason: string } | { action: 'write'; from: string; to: IdentityBlock; reason: string };

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
  | { kind: 'user-assigned'; identityId: string; principalId?: string }
  /** Roles go to the service accounts' own identities (`Plan.workloadIdentities`), one principal each. */
  | { kind: 'workload-identities' };

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

/**
 * A Cosmos DB SQL (data-plane) role assignment: a `sqlRoleAssignments` child of the account, PUT with
 * `roleDefinitionId`, `scope` and `principalId` (Azure/azure-rest-api-specs cosmos-db stable/2024-11-15
 * rbac.json). Not an Azure RBAC assignment: Azure RBAC never lists or checks it.
 */
export interface CosmosSqlRoleAssignmentPlan {
  kind: 'cosmos-sql';
  /** The profile, or `dapr:<component>`, it comes from. */
  source: string;
  /** The Cosmos DB account (ARM id). */
  accountId: string;
  /** Cosmos SQL role definition GUID (built-in: 00000000-0000-0000-0000-000000000001 / ...002). */
  roleDefinitionGuid: string;
  roleDisplayName: string;
  /** The data-plane scope: the account id (the whole account). */
  scope: string;
  /** Set when the target came from a tag: the account is read before any write and must pass these checks. */
  target?: GrantTargetCheck;
}

/** What the product derived from a Dapr-enabled container app's components (see src/engine/dapr.ts). */
export interface DaprPlan {
  appId: string;
  environmentId: string;
  components: DaprComponentPlan[];
  /**
   * Why no component of the app is honoured at all (its environment is not one the rule honours, or
   * another app of the environment has its app id); empty or absent: each component is judged alone.
   * Such a refusal says nothing about what the app should hold: it is not a reason to take grants away.
   */
  problems?: PlanBlocker[];
}

export interface DaprComponentPlan {
  name: string;
  id: string;
  componentType: string;
  /**
   * `grants`: every target resolved and within bounds, its grants are in the plan; `refused`: a target
   * is unresolvable, out of bounds or needs a role the rule does not allow (nothing granted for it);
   * `not-honoured`: the rule does not list its type; `unknown-type`: not in the catalogue.
   */
  status: 'grants' | 'refused' | 'not-honoured' | 'unknown-type';
  targets: Array<{ field: string; value: string; resourceId?: string; roles: string[] }>;
  problems: PlanBlocker[];
}

export interface DaprClientIdDecision {
  /** `write`: set it; `none`: already right or not needed; `conflict`: apps disagree; `refused`: the product will not write it. */
  action: 'write' | 'none' | 'conflict' | 'refused';
  clientId?: string;
  detail: string;
}

/** What planning decided; never changed once made (what is observed of it is kept apart: ObservedGrants). */
export interface Plan {
  readonly resourceId: string;
  readonly resourceType: SupportedResourceType;
  readonly rule: string;
  readonly mode: RuleMode;
  readonly identity: IdentityChange;
  readonly userAssignedIdentity?: UserAssignedIdentityPlan;
  readonly principal: PrincipalSource;
  readonly roleAssignments: readonly RoleAssignmentPlan[];
  /** Profiles applied, in order. */
  readonly profiles: readonly string[];
  readonly notes: readonly string[];
  /** Non-empty: nothing is written; the outcome is `blocked` with these reasons. */
  readonly blockers: readonly PlanBlocker[];
  /** Blockers the rule's workload options lift: side effects the write will have (e.g. a restart). */
  readonly consented?: readonly PlanBlocker[];
  /** Which of the workload's principals gets the roles, and what is known of it at plan time. */
  readonly grantee?: PrincipalDescription;
  /** Steps after the identity write (from the type's module); absent or empty when none are needed. */
  readonly followUps?: readonly PlannedFollowUp[];
  /** AKS workload identity: one identity and federated credential per service account of the rule. */
  readonly workloadIdentities?: readonly WorkloadIdentityPlan[];
  /** AKS workload identity: the cluster write that enables what is missing (the rule opted in). */
  readonly clusterChange?: ClusterWorkloadIdentityChange;
  /** Cosmos DB data-plane role assignments (a second kind of grant, beside `roleAssignments`). */
  readonly dataPlaneRoleAssignments?: readonly CosmosSqlRoleAssignmentPlan[];
  /** Set for a Dapr-enabled container app whose rule has a `dapr` section. */
  readonly dapr?: DaprPlan;
}

/** A role assignment in a plan report: resolved and assessed once the run got that far. */
export interface ReportedRoleAssignment extends RoleAssignmentPlan {
  roleDefinitionId?: string;
  /** The principal holds it (after assessment or apply). */
  present?: boolean;
}

export interface ReportedCosmosSqlRoleAssignment extends CosmosSqlRoleAssignmentPlan {
  /** Known after assessment: the principal already holds it. */
  present?: boolean;
}

export interface ReportedDaprComponent extends DaprComponentPlan {
  /** Whether the component's `azureClientId` must name the grantee, and what the product does about it. */
  clientId?: DaprClientIdDecision;
}

/**
 * A plan as an outcome reports it: the plan, with what was observed of its grants (src/engine/plan-report.ts).
 * The plan itself never carries observations.
 */
export interface PlanReport extends Plan {
  roleAssignments: ReportedRoleAssignment[];
  dataPlaneRoleAssignments?: ReportedCosmosSqlRoleAssignment[];
  dapr?: DaprPlanReport;
}

export interface DaprPlanReport extends DaprPlan {
  components: ReportedDaprComponent[];
}

/** Enabling the OIDC issuer and/or workload identity on a cluster (one PUT with If-Match). */
export interface ClusterWorkloadIdentityChange {
  action: 'enable-workload-identity';
  enableOidcIssuer: boolean;
  enableWorkloadIdentity: boolean;
  reason: string;
}

/** The audience of every Entra token exchange (Learn: workload-identity-federation-considerations). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** The service account annotation the AKS webhook reads the identity's client id from (Learn: aks/workload-identity-overview). */
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';

/** One Kubernetes service account's workload identity. */
export interface WorkloadIdentityPlan {
  /** `namespace/name`, from the rules file. */
  serviceAccount: string;
  /** `system:serviceaccount:<namespace>:<name>` (the token's `sub`). */
  subject: string;
  identity: UserAssignedIdentityPlan;
  credential: FederatedCredentialPlan;
}

export interface FederatedCredentialPlan {
  /** Deterministic per cluster, valid under the FIC name rule. */
  name: string;
  /** The cluster's issuer URL; absent while the issuer is still to be enabled (known after the cluster write). */
  issuer?: string;
  subject: string;
  audiences: string[];
}

/** What a service account got, or would get: put `clientId` in its `azure.workload.identity/client-id` annotation. */
export interface WorkloadIdentityResult {
  serviceAccount: string;
  identityId: string;
  clientId?: string;
  principalId?: string;
  credential: { name: string; issuer?: string; subject: string; status: 'created' | 'updated' | 'exists' | 'missing' };
  /** The annotation to set on the service account, once the clientId is known. */
  annotation?: string;
  /** Roles held (or, in plan mode, to be held) by the identity, as `role @ scope`. */
  roles: string[];
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
  | { kind: 'role-already-assigned'; scope: string; roleDefinitionId: string; role: string }
  | { kind: 'follow-up-done'; code: string; detail: string }
  | {
      kind: 'federated-credential-created' | 'federated-credential-updated' | 'federated-credential-exists';
      identityId: string;
      name: string;
      issuer: string;
      subject: string;
    }
  | { kind: 'cluster-workload-identity-enabled'; oidcIssuer: boolean; workloadIdentity: boolean; issuer?: string }
  | {
      kind: 'cosmos-role-assigned' | 'cosmos-role-already-assigned';
      accountId: string;
      scope: string;
      roleDefinitionId: string;
      role: string;
      assignmentId?: string;
    }
  | { kind: 'dapr-client-id-written'; componentId: string; clientId: string };

/** An owned grant the rules no longer give, as a plan shows it (`- Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)`). */
export interface PlannedRevocation {
  assignmentId?: string;
  role: string;
  scope: string;
  reason: string;
  /** lifecycle.revoke for the rule: `report` lists it, `enforce` has the sweep remove it. */
  revoke: RevokeMode;
}

export interface OutcomeError {
  code: string;
  message: string;
  /** Worth retrying later (throttling, service errors, replication delay). */
  transient: boolean;
  /** For authorization failures: the action ARM refused and the scope (a linked resource when `linked`). */
  permission?: MissingPermission;
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
  /** The plan, with what was observed of its grants. */
  plan?: PlanReport;
  actions: ActionRecord[];
  /**
   * Owned grants the rules no longer give (plan mode and assessments): each with why, and what the rules'
   * lifecycle.revoke says to do (the sweep revokes them under `enforce`).
   */
  revocations?: PlannedRevocation[];
  /** What a lifecycle path removed, found already gone, or kept (not proven ours, or still in use), each with why. */
  removed?: RemovalRecord[];
  skipped: Array<{ reason: string; detail: string }>;
  /** Why a `blocked` (or `pending`) outcome is not done, and what to do. */
  blockers?: PlanBlocker[];
  /** The principal that holds (or would hold) the roles: its role for the workload, objectId and clientId. */
  grantee?: PrincipalDescription;
  /** AKS workload identity: each service account's identity, clientId and federated credential. */
  workloadIdentities?: WorkloadIdentityResult[];
  errors: OutcomeError[];
  /** Set when `deferred`: why, when the rest runs, and what it resumes from. */
  deferral?: Deferral;
  /** When the remediation began (the event's arrival); a resumed remediation keeps its first start. */
  startedAt: string;
  durationMs: number;
}
