import type { SupportedResourceType } from '../arm/resource-types';

/** What the product is allowed to touch at all; everything outside is skipped before any rule. */
export interface GovernedScope {
  /** Subscriptions named in the rules file (lower case). With management groups, those resolved at run time are added. */
  readonly subscriptions: readonly string[];
  /**
   * Management group ids: each governs every subscription under it, at any depth, as ARM reports it to
   * the app's identity at the time (resolved and cached by the engine; a subscription moved out stops
   * being governed). Undefined or empty: only `subscriptions`.
   */
  readonly managementGroups?: readonly string[];
  /** Globs (`*`, `?`), matched case-insensitively. */
  readonly resourceGroups: readonly string[];
  readonly resourceTypes: readonly SupportedResourceType[];
  /** A resource carrying this tag key (any value except "false") is left alone, unless `allowOptOut` is false. */
  readonly optOutTag: string;
  /**
   * `scope.allowOptOut`: whether the opt-out tag is honoured. Absent: true. Anyone who can write tags can
   * opt a resource out, with no reason and no end; an administrator who wants every exception recorded
   * turns it off and lists exceptions under `exemptions:` (reason, category, expiry) instead.
   */
  readonly allowOptOut?: boolean;
  /** Tag whose value is a comma-separated list of extra profile names. */
  readonly profileTag: string;
}

/** A role as written in the rules file; custom roles are only resolved (by name) when used. */
export type RoleRef =
  | { readonly kind: 'builtin' | 'id'; readonly roleDefinitionGuid: string; readonly displayName: string }
  | { readonly kind: 'custom'; readonly roleName: string };

export interface RoleGrantTemplate {
  readonly role: RoleRef;
  /**
   * Set for a Cosmos DB SQL data-plane role (`cosmosDataRole:` in the file): granted as a
   * `sqlRoleAssignments` child of the account named by `scope`, not as an Azure RBAC assignment.
   */
  readonly cosmosSql?: true;
  /** Scope template, e.g. `{tag:kv-id}` or `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}`. */
  readonly scope: string;
  /** Required (and only allowed) when `scope` takes anything from a tag: what the tag may point at. */
  readonly tagScope?: TagScopeConstraint;
}

/**
 * What the administrator lets a tag-derived scope point at. A tag is written by whoever can tag the
 * resource, so the tagger picks a target only among what is listed here; everything else is refused.
 */
export interface TagScopeConstraint {
  /**
   * Resource types the target may be (canonical `Namespace/type`, compared case-insensitively), plus
   * the words `resourceGroup` and `subscription` for those scopes. Management groups: never.
   */
  readonly resourceTypes: readonly string[];
  /**
   * Globs for the target's resource group; `{resourceGroup}` and `{subscriptionId}` are the source
   * resource's. Undefined: any resource group of an allowed subscription.
   */
  readonly resourceGroups?: readonly string[];
  /** Subscription ids (or `{subscriptionId}`) the target may be in. Undefined: the source's own subscription. */
  readonly subscriptions?: readonly string[];
  /**
   * Optional consent: the target must carry this tag, listing the subscriptions (GUIDs) or resource
   * groups (`<resourceGroup>` in the target's subscription, or `<subscriptionId>/<resourceGroup>`,
   * globs allowed) whose workloads may be granted on it.
   */
  readonly consentTag?: string;
}

export interface RoleProfile {
  readonly name: string;
  readonly description?: string;
  readonly roles: readonly RoleGrantTemplate[];
}

export type IdentityRule =
  | { readonly kind: 'SystemAssigned' }
  | {
      readonly kind: 'UserAssigned';
      readonly nameTemplate: string;
      readonly resourceGroupTemplate: string;
      /**
       * One identity deliberately shared by every resource the rule matches. Such a rule never takes
       * tag-selected profiles nor tag-derived scopes: whatever one sharer could add, all would hold.
       */
      readonly shared?: boolean;
    };

export interface RuleMatch {
  /** Canonical type names; defaults to every governed type. */
  readonly types: readonly SupportedResourceType[];
  /** Globs; defaults to `["*"]`. */
  readonly resourceGroups: readonly string[];
  /** Tag name -> required value (case-insensitive) or `*` for "present with any value". */
  readonly tags: Readonly<Record<string, string>>;
}

export type RuleMode = 'enforce' | 'report';

/**
 * What happens to a grant the product made that the rules no longer give (a profile or rule removed, a
 * tag re-pointed, consent withdrawn, a target out of bounds): `report` lists it as excess and the
 * resource is not compliant; `enforce` removes it. `report` by default: revoking is opted into.
 */
export type RevokeMode = 'report' | 'enforce';

/** The rules file's `lifecycle:` section, defaults applied. */
export interface LifecycleOptions {
  readonly revoke: RevokeMode;
  /**
   * The mass-revocation guard: a run that would revoke more than this many grants revokes none, raises
   * an alert and waits for an explicit confirmation (a typo in the rules must not cut production off).
   */
  readonly maxRevocations: number;
}

export const DEFAULT_LIFECYCLE: LifecycleOptions = { revoke: 'report', maxRevocations: 50 };

/**
 * What a rule lets the product do to a running workload beyond the identity itself. Every default is
 * the safe one: nothing restarts, no instance is upgraded, roles go to the identity pods really use.
 */
export interface WorkloadOptions {
  /** Container Instances: the identity PUT restarts every container; allowed only when true. */
  readonly allowRestart: boolean;
  /** AKS: whose roles these are. `kubelet` (what pods reach through IMDS) or `cluster` (the control plane). */
  readonly aksPrincipal: 'kubelet' | 'cluster';
  /** VM scale sets with a Manual upgrade policy: bring existing instances to the new model after the write. */
  readonly upgradeInstances: boolean;
}

export const DEFAULT_WORKLOAD_OPTIONS: WorkloadOptions = { allowRestart: false, aksPrincipal: 'kubelet', upgradeInstances: false };

/** A Kubernetes service account, `namespace/name`, that gets a workload identity. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * AKS workload identity (Learn: aks/workload-identity-overview): for each named service account, a
 * user-assigned identity with a federated credential for the cluster's OIDC issuer, holding the rule's
 * profiles. The service accounts come from this file only, never from the cluster.
 */
export interface WorkloadIdentityOptions {
  readonly serviceAccounts: readonly ServiceAccountRef[];
  /** Where the identities are created: `{resourceGroup}` (the cluster's, the default) or a literal group. */
  readonly resourceGroupTemplate: string;
  /**
   * Opt-in: a cluster without the OIDC issuer or workload identity gets them enabled by the product (a
   * cluster PUT with If-Match). Off: such a cluster is reported blocked with the `az aks update` remedy.
   */
  readonly enableOnCluster: boolean;
}

/**
 * A rule's `dapr:` section: the product reads a Dapr-enabled container app's components and grants
 * what the component catalogue (src/arm/dapr-components.ts) says each needs. Absent: Dapr components
 * are not looked at.
 */
export interface DaprOptions {
  /** Component types honoured (catalogue spellings); default: every catalogue type. */
  readonly componentTypes: readonly string[];
  /**
   * Where a component's target may be: the same constraint as a tag-derived scope (a component's author
   * chooses its metadata, so it is treated like a tagger). `resourceTypes` defaults to every catalogue type.
   */
  readonly targets: TagScopeConstraint;
  /** Whether the product may write a component's `azureClientId` metadata. */
  readonly azureClientId: boolean;
  /** Whether a component that manages its own entities (Service Bus by default) gets the owner-level data role it needs. */
  readonly entityManagement: boolean;
  /**
   * Managed environments (ARM ids, or bare names meaning one in the app's own subscription) whose
   * components are honoured besides those in the app's own resource group. Default: none.
   */
  readonly environments: readonly string[];
  /**
   * Components with no `scopes` in a shared environment (one hosting apps of other resource groups): every
   * app there loads them, so their grants would go to whichever app asks. `refuse` (default) or `allow`.
   */
  readonly unscopedComponents: 'allow' | 'refuse';
}

export interface Rule {
  readonly name: string;
  readonly match: RuleMatch;
  readonly identity: IdentityRule;
  /** Always applied. */
  readonly profiles: readonly string[];
  /** Profiles the profile tag (or an HTTP caller) may add; nothing else can be added. */
  readonly tagSelectableProfiles: readonly string[];
  readonly mode: RuleMode;
  /** The rule's own `lifecycle.revoke`; absent: the file's (see revokeModeOf). */
  readonly lifecycle?: { readonly revoke: RevokeMode };
  readonly workload: WorkloadOptions;
  /** AKS only: workload identities for named service accounts; the profiles go to them. */
  readonly workloadIdentity?: WorkloadIdentityOptions;
  /** Present when the rule opts in to Dapr component grants. */
  readonly dapr?: DaprOptions;
  /** Present when the rule opts in to the app migrating its Dapr components off their keys (issue 25 item 4). */
  readonly secretless?: SecretlessOptions;
}

/**
 * A rule's `secretless:` section. `migrate: true` is the rule owner's confirmation of the disruption (the
 * apps' Dapr sidecars load the component again), as `workload.allowRestart` is for container groups: the
 * sweep then migrates each component of the rule's apps whose every precondition holds (src/sweep/secretless-migration.ts).
 */
/** Role assignments can take minutes to apply (Learn: "Troubleshoot Azure RBAC", up to 10 minutes; we wait 15). */
export const DEFAULT_PROPAGATION_MINUTES = 15;

export interface SecretlessOptions {
  readonly migrate: boolean;
  /** How long the identity must have held its roles first (role assignments can take minutes to apply). */
  readonly windowMinutes: number;
}

/**
 * Modelled on Azure Policy exemptions (azure-rest-api-specs, specification/resources/resource-manager/
 * Microsoft.Authorization/preview/2022-07-01-preview/policyExemptions.json, PolicyExemptionProperties:
 * `exemptionCategory` Waiver | Mitigated, `displayName`/`description`, `expiresOn` "The expiration date
 * and time (in UTC ISO 8601 format yyyy-MM-ddTHH:mm:ssZ)"; Learn "Azure Policy exemption structure"):
 * `waiver` accepts the gap for a while, `mitigated` says the intent is met another way.
 */
export type ExemptionCategory = 'waiver' | 'mitigated';

/** What an exemption covers: exactly one of a resource id, a resource group glob or a resource name glob. */
export type ExemptionTarget =
  | { readonly kind: 'resourceId'; readonly value: string }
  | { readonly kind: 'resourceGroup'; readonly value: string }
  | { readonly kind: 'name'; readonly value: string };

/** One entry of the rules file's `exemptions:`; only the administrator writes it, never a tag. */
export interface Exemption {
  /** Its position under `exemptions:`, for messages (`exemptions[0]`). */
  readonly index: number;
  readonly target: ExemptionTarget;
  readonly reason: string;
  readonly category: ExemptionCategory;
  /**
   * From this instant on the entry no longer applies (as in Azure, an expired exemption stays in the
   * file but is not honoured): the next sweep remediates the resource. Absent: never expires
   * (`mitigated` only; a `waiver` must expire).
   */
  readonly expiresOn?: Date;
  /** Rule names the entry applies to; absent: every rule. */
  readonly rules?: readonly string[];
}

export interface RulesConfig {
  readonly scope: GovernedScope;
  readonly profiles: ReadonlyMap<string, RoleProfile>;
  /** In file order: the first match wins. */
  readonly rules: readonly Rule[];
  /** The file's `lifecycle:` section; absent: DEFAULT_LIFECYCLE (see lifecycleOf). */
  readonly lifecycle?: LifecycleOptions;
  /** The file's `exemptions:`, in file order (the first that applies is the one reported). Absent: none. */
  readonly exemptions?: readonly Exemption[];
  /** File path or other name used in messages. */
  readonly source: string;
  /** Problems that do not stop start-up but should be fixed (logged once when the app starts). */
  readonly warnings?: readonly RulesWarning[];
}

export interface RulesWarning {
  /** e.g. `rules[1].identity.userAssigned.name` */
  readonly keyPath: string;
  /** The same key path as segments, for finding its line (the `validate` command). */
  readonly path?: ReadonlyArray<string | number>;
  readonly reason: string;
}

/** The file's lifecycle options, defaults applied. */
export function lifecycleOf(config: Pick<RulesConfig, 'lifecycle'>): LifecycleOptions {
  return config.lifecycle ?? DEFAULT_LIFECYCLE;
}

/** Whether grants the rule no longer gives are removed (`enforce`) or only reported: the rule's setting, else the file's. */
export function revokeModeOf(config: Pick<RulesConfig, 'lifecycle'>, rule: Pick<Rule, 'lifecycle'> | undefined): RevokeMode {
  return rule?.lifecycle?.revoke ?? lifecycleOf(config).revoke;
}
