import type { SupportedResourceType } from '../arm/resource-types';

/** What the product is allowed to touch at all; everything outside is skipped before any rule. */
export interface GovernedScope {
  readonly subscriptions: readonly string[];
  /** Globs (`*`, `?`), matched case-insensitively. */
  readonly resourceGroups: readonly string[];
  readonly resourceTypes: readonly SupportedResourceType[];
  /** A resource carrying this tag key (any value except "false") is left alone. */
  readonly optOutTag: string;
  /** Tag whose value is a comma-separated list of extra profile names. */
  readonly profileTag: string;
}

/** A role as written in the rules file; custom roles are only resolved (by name) when used. */
export type RoleRef =
  | { readonly kind: 'builtin' | 'id'; readonly roleDefinitionGuid: string; readonly displayName: string }
  | { readonly kind: 'custom'; readonly roleName: string };

export interface RoleGrantTemplate {
  readonly role: RoleRef;
  /** Scope template, e.g. `{tag:kv-id}` or `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}`. */
  readonly scope: string;
}

export interface RoleProfile {
  readonly name: string;
  readonly description?: string;
  readonly roles: readonly RoleGrantTemplate[];
}

export type IdentityRule =
  | { readonly kind: 'SystemAssigned' }
  | { readonly kind: 'UserAssigned'; readonly nameTemplate: string; readonly resourceGroupTemplate: string };

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

export interface Rule {
  readonly name: string;
  readonly match: RuleMatch;
  readonly identity: IdentityRule;
  /** Always applied. */
  readonly profiles: readonly string[];
  /** Profiles the profile tag (or an HTTP caller) may add; nothing else can be added. */
  readonly tagSelectableProfiles: readonly string[];
  readonly mode: RuleMode;
  readonly workload: WorkloadOptions;
}

export interface RulesConfig {
  readonly scope: GovernedScope;
  readonly profiles: ReadonlyMap<string, RoleProfile>;
  /** In file order: the first match wins. */
  readonly rules: readonly Rule[];
  /** File path or other name used in messages. */
  readonly source: string;
}
