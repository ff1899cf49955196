import type { RoleResolver } from '../config';
import type { CallBudget } from './call-budget';
import type { PendingWrite } from './hand-off';
import type { RoleAssignmentBudgetPort } from './role-assignment-budget';
import type {
  ClusterWorkloadIdentityChange,
  FederatedCredentialPlan,
  IdentityBlock,
  IdentityState,
  ResourceState,
  UserAssignedIdentityPlan,
  WorkloadIdentityFacts,
} from './types';

/**
 * The narrow ports the executor applies a plan through. The Azure adapters in src/azure implement
 * them over the real SDK clients; each call takes the remediation's CallBudget (its deadline and, when it
 * can hand off, its hand-off time). Adapters throw ArmCallError (src/azure/arm-call-error.ts) with the
 * ARM error code, and the budget's own errors (call-budget.ts) when the hand-off time comes first.
 */
export interface ResourcePort {
  /** The resource, or undefined when it does not exist (any more). */
  read(resourceId: string, call: CallBudget): Promise<ResourceState | undefined>;
  /**
   * Writes the identity block the way the type needs and waits for the LRO; returns the new identity.
   * Past `call.handOffAt` with the operation still running, throws WriteStillRunningError.
   */
  writeIdentity(resource: ResourceState, identity: IdentityBlock, call: CallBudget): Promise<IdentityState>;
  /** Polls a write handed off earlier until it ends; never writes. Same hand-off rule as writeIdentity. */
  resumeWrite(write: PendingWrite, call: CallBudget): Promise<void>;
  /**
   * Runs the type's follow-up (`FollowUpNeed.code` from `read`) if it is still needed, and waits for
   * it; resolves with what was done, or undefined when nothing was needed. Throws when the type has no
   * such step or it fails.
   */
  runFollowUp(resource: ResourceState, code: string, call: CallBudget): Promise<string | undefined>;
  /**
   * Read-only: whether the type's follow-up is still needed on the resource as it stands (a scale set:
   * any instance not on the latest model). Types without such a check answer true.
   */
  followUpNeeded(resource: ResourceState, code: string, call: CallBudget): Promise<boolean>;
  /**
   * Enables the OIDC issuer and/or workload identity on a cluster (the type module's body change, PUT
   * with If-Match on the read's ETag) and waits for it; returns the cluster's settings after it.
   */
  enableWorkloadIdentity(resource: ResourceState, change: ClusterWorkloadIdentityChange, call: CallBudget): Promise<WorkloadIdentityFacts>;
}

/**
 * ARM's remaining budget as every caller with the app's principal sees it (the remaining-requests
 * headers and Retry-After): how long writes to a subscription have to wait.
 */
export interface PacingPort {
  /** Milliseconds until a 429's Retry-After for the subscription has passed (0 when none). */
  closedForMs(subscriptionId: string): number;
  /**
   * Books `writes` writes to the subscription and says in how many milliseconds the last of them is
   * expected to go, at the pace the headers allow the app now. Work that cannot wait that long inside
   * its delivery is handed off with this delay; bookings spread later work over ARM's refill.
   */
  bookWrites(subscriptionId: string, writes: number): number;
  /**
   * Milliseconds until a write to the subscription sent now would get its turn behind the writes
   * already waiting in this instance (0 when nothing meters the subscription). Books nothing.
   */
  writeTurnMs(subscriptionId: string): number;
}

export interface UserAssignedIdentity {
  id: string;
  principalId: string;
  clientId: string;
  created: boolean;
}

/** A user-assigned identity as ARM reports it, with what proves who made it and for whom. */
export interface UserAssignedIdentityRecord {
  id: string;
  principalId?: string;
  clientId?: string;
  /** ARM's `systemData.createdBy` names this app (only ARM writes systemData). */
  createdByUs: boolean;
  /** The owner the product recorded when it created it (tag `identity-autopilot-owner`), as found; attacker-writable alone. */
  ownerRecord?: string;
}

export interface UserAssignedIdentityPort {
  /**
   * Reuses the identity if this product created it for `plan.owner`, creates it otherwise (create-only,
   * so a concurrent squatter is detected); anything else is refused with IdentityNotOwned.
   */
  ensure(plan: UserAssignedIdentityPlan, call: CallBudget): Promise<UserAssignedIdentity>;
  /** Read-only: the identity if it exists and is ours for `plan.owner` (IdentityNotOwned otherwise), undefined if absent. */
  find(plan: UserAssignedIdentityPlan, call: CallBudget): Promise<UserAssignedIdentity | undefined>;
  /** One GET: the identity with its creator and owner record, or undefined when it does not exist. Read-only. */
  read(identityId: string, call: CallBudget): Promise<UserAssignedIdentityRecord | undefined>;
  /** DELETE of the identity (its federated credentials go with it); `absent` when ARM had none (204). */
  remove(identityId: string, call: CallBudget): Promise<'removed' | 'absent'>;
}

/** A federated identity credential as ARM reports it. */
export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  /** ARM's `systemData.createdBy` names this app: the product wrote it, and may rewrite it. */
  ours: boolean;
}

export interface FederatedCredentialPort {
  /** Every federated credential of the identity (one list call). */
  list(identityId: string, call: CallBudget): Promise<FederatedCredential[]>;
  /** PUT of one credential; a concurrent write on the same identity answers 409 (transient). */
  put(identityId: string, credential: FederatedCredentialPlan & { issuer: string }, call: CallBudget): Promise<'created' | 'updated'>;
  /** One GET of a credential by name; undefined when the identity has none of that name. */
  get(identityId: string, name: string, call: CallBudget): Promise<FederatedCredential | undefined>;
  /** DELETE of one credential; `absent` when ARM had none (204). */
  remove(identityId: string, name: string, call: CallBudget): Promise<'removed' | 'absent'>;
}

/** A scope a tag named, as ARM reports it. */
export interface GrantTarget {
  id: string;
  /** e.g. `Microsoft.KeyVault/vaults`; `Microsoft.Resources/resourceGroups` / `Microsoft.Resources/subscriptions` for those scopes. */
  type: string;
  tags: Record<string, string>;
  /**
   * Key Vaults only: `properties.enableRbacAuthorization` as ARM shows it, false when absent (the RP's
   * default). False means the vault authorizes data actions by its access policies and ignores Azure
   * RBAC (keyvault.json, Microsoft.KeyVault 2023-07-01, VaultProperties.enableRbacAuthorization).
   */
  enableRbacAuthorization?: boolean;
}

export interface GrantTargetPort {
  /** The target, or undefined when it does not exist. One ARM GET; read-only. */
  read(scope: string, call: CallBudget): Promise<GrantTarget | undefined>;
}

export interface ExistingRoleAssignment {
  scope: string;
  roleDefinitionGuid: string;
  /** The assignment's name (a GUID) and description, as ARM returns them: the product's own carry whom they were made for. */
  name?: string;
  description?: string;
  /**
   * ARM's `createdBy` names this app's principal: the product wrote it. Only ARM sets createdBy (read-only,
   * "Id of the user who created the assignment": Microsoft.Authorization 2022-04-01,
   * authorization-RoleAssignmentsCalls.json, RoleAssignmentProperties), while anyone who may write role
   * assignments can write a description, so a removal needs both.
   */
  createdByUs?: boolean;
  /** The full ARM id (`{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`), as listed. */
  id?: string;
  /** The principal that holds it, as ARM reports it. */
  principalId?: string;
}

export interface RoleAssignmentPort {
  /** Every assignment of the principal in a subscription (one list call). */
  listForPrincipal(subscriptionId: string, principalId: string, call: CallBudget): Promise<ExistingRoleAssignment[]>;
  /** Creates it; an identical assignment under another name counts as `exists`. */
  create(
    input: { scope: string; name: string; roleDefinitionId: string; principalId: string; description: string },
    call: CallBudget,
  ): Promise<{ status: 'created' | 'exists'; id?: string }>;
  /** One GET of an assignment by full id, with its createdBy proof; undefined when ARM has none. Read-only. */
  get(assignmentId: string, call: CallBudget): Promise<ExistingRoleAssignment | undefined>;
  /** DELETE by full id; `absent` when ARM had none (204). */
  remove(assignmentId: string, call: CallBudget): Promise<'removed' | 'absent'>;
}

/** A Dapr component of a Container Apps managed environment, as read. Never holds a secret value. */
export interface DaprComponent {
  id: string;
  name: string;
  componentType: string;
  metadata: Array<{ name: string; value?: string; secretRef?: string }>;
  /** Dapr app ids allowed to use it; empty: every app of the environment. */
  scopes: string[];
  /** The component's secrets as a GET shows them: names, Key Vault references, no values. */
  secrets: Array<{ name: string; keyVaultUrl?: string; identity?: string }>;
  /** The body as read, for the read-modify-write of `azureClientId`. */
  rawBody: Record<string, unknown>;
}

/** One Resource Graph row for a component target found by type and name. */
export interface FoundDaprTarget {
  id: string;
  type: string;
  name: string;
  tags: Record<string, string>;
}

/**
 * A container app of the environment, whatever its Dapr settings, with the clientIds of its user-assigned
 * identities. Apps with Dapr disabled count: their `configuration.dapr.appId` stays set (ContainerApps.json
 * 2024-03-01, `Dapr`: `enabled` and `appId` are independent), and whoever owns one can turn Dapr on at any time.
 */
export interface DaprEnvironmentApp {
  id: string;
  /** `configuration.dapr.appId` as written, whether or not Dapr is enabled; absent when unset. */
  appId?: string;
  daprEnabled: boolean;
  userAssignedClientIds: string[];
}

export interface DaprPort {
  /** The environment's components (one list call). */
  listComponents(environmentId: string, call: CallBudget): Promise<DaprComponent[]>;
  /**
   * One Resource Graph query over `subscriptions`: the targets named (type + name) and every container
   * app of the environment, Dapr enabled or not (app id uniqueness, shared environments, azureClientId).
   */
  lookup(
    input: { subscriptions: string[]; targets: Array<{ resourceType: string; name: string }>; environmentId: string },
    call: CallBudget,
  ): Promise<{ targets: FoundDaprTarget[]; apps: DaprEnvironmentApp[] }>;
  /** Sets the component's `azureClientId` metadata (GET-modify-PUT); refuses a component with write-only secrets. */
  setAzureClientId(componentId: string, clientId: string, call: CallBudget): Promise<void>;
  /**
   * Secretless migration (GET-modify-PUT): removes these metadata fields and secrets and sets or removes
   * `azureClientId`; refuses when any inline secret would remain (its value is write-only and the PUT would drop it).
   */
  migrateComponent?(
    componentId: string,
    change: { removeMetadata: string[]; removeSecrets: string[]; azureClientId?: { set: string } | 'remove' },
    call: CallBudget,
  ): Promise<void>;
}

export interface ExistingCosmosSqlRoleAssignment {
  roleDefinitionId: string;
  scope: string;
  principalId: string;
  /** The assignment's name: the product's own are named deterministically (cosmosAssignmentName). */
  name?: string;
}

/** Cosmos DB SQL role assignments of one account (`Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments`). */
export interface CosmosSqlRoleAssignmentPort {
  list(accountId: string, call: CallBudget): Promise<ExistingCosmosSqlRoleAssignment[]>;
  /** PUT by deterministic name and wait; the same grant under another name counts as `exists`. */
  create(
    input: { accountId: string; name: string; roleDefinitionId: string; scope: string; principalId: string },
    call: CallBudget,
  ): Promise<{ status: 'created' | 'exists'; id?: string }>;
  /** One GET of an assignment by name; undefined when the account has none of that name. Read-only. */
  get(accountId: string, name: string, call: CallBudget): Promise<ExistingCosmosSqlRoleAssignment | undefined>;
  /** DELETE by name, long-running (takes the account's lock like a PUT); `absent` when ARM had none (204). */
  remove(accountId: string, name: string, call: CallBudget): Promise<'removed' | 'absent'>;
}

/**
 * Management groups as ARM reports them to the app's identity. Takes a bare signal, not a CallBudget: one
 * resolution is shared by every remediation waiting for it, so no one remediation's hand-off time bounds it.
 */
export interface ManagementGroupPort {
  /**
   * Every subscription under the group at any depth (nested groups included), lower-case ids. Throws
   * ArmCallError when ARM refuses (the app lacks read on the group) or the group does not exist.
   */
  subscriptionsUnder(managementGroup: string, signal: AbortSignal): Promise<string[]>;
}

/** Which resources hold a user-assigned identity, as Resource Graph reports them: it may lag ARM by seconds to minutes. */
export interface IdentityHoldersPort {
  /**
   * One Resource Graph query: the resources whose identity block lists `identityId`, and whether the
   * index holds the identity itself (if not, it is older than the identity and its "nobody" means nothing).
   */
  holders(identityId: string, subscriptions: string[], call: CallBudget): Promise<{ identityIndexed: boolean; holders: string[] }>;
}

export interface EnginePorts {
  resources: ResourcePort;
  userAssignedIdentities: UserAssignedIdentityPort;
  roleAssignments: RoleAssignmentPort;
  roles: RoleResolver;
  grantTargets: GrantTargetPort;
  federatedCredentials: FederatedCredentialPort;
  pacing?: PacingPort;
  /** Dapr components of Container Apps environments (absent: Dapr sections cannot be honoured). */
  dapr?: DaprPort;
  /** Cosmos DB data-plane role assignments (absent: plans with them fail before any write). */
  cosmosRoleAssignments?: CosmosSqlRoleAssignmentPort;
  /** Resource Graph's view of who holds an identity (absent: identities are never removed, only reported). */
  identityHolders?: IdentityHoldersPort;
  /** Needed only when the rules name `scope.managementGroups`. */
  managementGroups?: ManagementGroupPort;
  /** Role assignments per subscription (absent: no budget is kept; see role-assignment-budget.ts). */
  roleAssignmentBudget?: RoleAssignmentBudgetPort;
}
