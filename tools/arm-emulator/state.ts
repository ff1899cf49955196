import { randomUUID } from 'node:crypto';
import { armIdKey } from '../../src/arm/resource-id';
import { Directory } from './directory';
import { builtinRoleDefinitions, type RoleDefinitionRecord } from './role-definitions';

export type Json = Record<string, any>;

export interface StoredResource {
  /** The id with the casing it was created with. */
  id: string;
  body: Json;
}

export interface RoleAssignmentRecord {
  id: string;
  name: string;
  scope: string;
  roleDefinitionGuid: string;
  principalId: string;
  principalType: string;
  description?: string;
  condition?: string;
  conditionVersion?: string;
  createdOn: string;
  createdBy: string;
  /**
   * Epoch ms from which ARM's authorization honours the assignment. ARM caches authorization, so a
   * new assignment "can sometimes take up to 30 minutes" to take effect (Learn:
   * role-based-access-control/troubleshooting): until then its principal gets 403 AuthorizationFailed.
   */
  effectiveAt?: number;
}

export interface LongRunningOperation {
  id: string;
  resourceKey: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  completeAt: number;
  /** What the resource shows while it runs (Creating, Updating...). */
  provisioningState?: string;
  error?: { code: string; message: string };
  /** What the operation does when it succeeds (a scale set's manual upgrade updates its instances then). */
  onSucceeded?: () => void;
  /** A long-running DELETE (absent: a write or an action). */
  verb?: 'delete';
}

/** One instance of a Uniform scale set (VirtualMachineScaleSetVM), kept beside the scale set's body. */
export interface ScaleSetInstance {
  instanceId: string;
  vmId: string;
  /** False once the scale set's model changed and this instance was not upgraded to it. */
  latestModelApplied: boolean;
  /** The identity block of the model this instance runs. */
  identity?: Json;
}

export interface SubscriptionRecord {
  subscriptionId: string;
  displayName: string;
  /** The management group it sits in (name); undefined: directly under the tenant root group. */
  managementGroup?: string;
}

/**
 * A management group (Microsoft.Management/managementGroups). Its id is its name; the tenant root
 * group's name is the tenant id, and every group or subscription without a parent sits under it
 * (Learn: governance/management-groups/overview, "Root management group for each directory").
 */
export interface ManagementGroupRecord {
  name: string;
  displayName: string;
  /** Parent group name; undefined for the tenant root group. */
  parent?: string;
}

/** ARM ids are case-insensitive: the store is keyed like the product compares them. */
export const key = armIdKey;

/** A Map that counts its changes, so derived indexes (Resource Graph's) know when to rebuild. */
export class VersionedMap<K, V> extends Map<K, V> {
  version = 0;
  override set(k: K, v: V): this {
    this.version++;
    return super.set(k, v);
  }
  override delete(k: K): boolean {
    this.version++;
    return super.delete(k);
  }
  override clear(): void {
    this.version++;
    super.clear();
  }
}

/**
 * A VersionedMap that can remember its changes for a while (`retainMs`, 0: not at all), so a reader can
 * see it as it was a moment ago: Resource Graph's lagging index (ResourceGraphService.lagMs). Only
 * `set` and `delete` are remembered; a stored value changed in place is seen at once.
 */
export class JournaledMap<K, V> extends VersionedMap<K, V> {
  retainMs = 0;
  private journal: Array<{ at: number; key: K; before: V | undefined }> = [];

  override set(k: K, v: V): this {
    this.record(k);
    return super.set(k, v);
  }

  override delete(k: K): boolean {
    if (this.has(k)) this.record(k);
    return super.delete(k);
  }

  /** The entries as they were at `at` (epoch ms), as far back as the journal reaches. */
  asOf(at: number): ReadonlyMap<K, V> {
    let first = this.journal.length;
    while (first > 0 && this.journal[first - 1]!.at > at) first--;
    if (first === this.journal.length) return this;
    const view = new Map<K, V>(this);
    for (let i = this.journal.length - 1; i >= first; i--) {
      const { key: k, before } = this.journal[i]!;
      if (before === undefined) view.delete(k);
      else view.set(k, before);
    }
    return view;
  }

  private record(k: K): void {
    // Called from Map's constructor too, before the fields exist.
    if (!this.journal || this.retainMs <= 0) return;
    const now = Date.now();
    this.journal.push({ at: now, key: k, before: this.get(k) });
    let stale = 0;
    while (stale < this.journal.length && this.journal[stale]!.at < now - this.retainMs) stale++;
    if (stale > 0) this.journal.splice(0, stale);
  }
}

/** Everything the emulator knows. Tests seed and inspect it directly. */
export class EmulatorState {
  readonly directory: Directory;
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  /** Management groups by lower-case name; the tenant root group is created with the state. */
  readonly managementGroups = new Map<string, ManagementGroupRecord>();
  readonly resourceGroups = new Map<string, StoredResource>();
  /** Journaled so Resource Graph can lag behind them (ResourceGraphService.lagMs). */
  readonly resources = new JournaledMap<string, StoredResource>();
  readonly roleAssignments = new JournaledMap<string, RoleAssignmentRecord>();
  readonly roleDefinitions = new Map<string, RoleDefinitionRecord>();
  readonly operations = new Map<string, LongRunningOperation>();
  /** Restarts of a workload caused by a write (every PUT of an existing container group), by resource key. */
  readonly restarts = new Map<string, number>();
  /** Scale-set instances by the scale set's key; created from `sku.capacity` when first needed. */
  readonly scaleSetInstances = new Map<string, ScaleSetInstance[]>();
  /** Federated identity credentials by their identity's key, then by lower-case name (handlers/federated-credentials.ts). */
  readonly federatedCredentials = new Map<string, Map<string, Json>>();
  /** Until when (epoch ms) a federated credential write on an identity counts as still running, by the identity's key. */
  readonly ficWriteBusyUntil = new Map<string, number>();
  /** How long one federated credential write holds its identity (see the handler's concurrency note). */
  ficWriteWindowMs = 250;
  /** How long a role assignment created through the API takes to reach authorization (see effectiveAt). */
  rbacPropagationDelayMs = 0;

  constructor(readonly tenantId: string = randomUUID()) {
    this.directory = new Directory(tenantId);
    for (const def of builtinRoleDefinitions()) this.roleDefinitions.set(def.guid, def);
    this.managementGroups.set(tenantId.toLowerCase(), { name: tenantId, displayName: 'Tenant Root Group' });
  }

  /** Adds a management group under `parent` (default: the tenant root group). */
  addManagementGroup(name: string, parent: string = this.tenantId, displayName = name): void {
    if (!this.managementGroups.has(parent.toLowerCase())) throw new Error(`no management group '${parent}'`);
    this.managementGroups.set(name.toLowerCase(), { name, displayName, parent: this.managementGroups.get(parent.toLowerCase())!.name });
  }

  /** Moves a subscription (created if new) into a management group, as `az account management-group subscription add` does. */
  moveSubscription(subscriptionId: string, managementGroup: string): void {
    if (!this.managementGroups.has(managementGroup.toLowerCase())) throw new Error(`no management group '${managementGroup}'`);
    if (!this.subscriptions.has(subscriptionId.toLowerCase())) this.addSubscription(subscriptionId);
    this.subscriptions.get(subscriptionId.toLowerCase())!.managementGroup = this.managementGroups.get(managementGroup.toLowerCase())!.name;
  }

  /** The group a subscription or group sits in (the root group's name when it has no explicit parent). */
  parentOf(kind: 'subscription' | 'managementGroup', name: string): string | undefined {
    if (kind === 'subscription') {
      const s = this.subscriptions.get(name.toLowerCase());
      return s ? (s.managementGroup ?? this.tenantId) : undefined;
    }
    return this.managementGroups.get(name.toLowerCase())?.parent;
  }

  /** A group and its ancestors up to the tenant root group, nearest first. */
  managementGroupChain(name: string): string[] {
    const chain: string[] = [];
    let at: string | undefined = name;
    while (at && !chain.some((c) => c.toLowerCase() === at!.toLowerCase())) {
      const g = this.managementGroups.get(at.toLowerCase());
      if (!g) break;
      chain.push(g.name);
      at = g.parent;
    }
    return chain;
  }

  /** Every group and subscription below `name` at any depth, breadth first (the descendants API's content). */
  descendantsOf(name: string): Array<{ kind: 'managementGroup' | 'subscription'; name: string; parent: string }> {
    const out: Array<{ kind: 'managementGroup' | 'subscription'; name: string; parent: string }> = [];
    const queue = [this.managementGroups.get(name.toLowerCase())?.name].filter((n): n is string => n !== undefined);
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const g of this.managementGroups.values()) {
        if (g.parent?.toLowerCase() === at.toLowerCase()) {
          out.push({ kind: 'managementGroup', name: g.name, parent: at });
          queue.push(g.name);
        }
      }
      for (const s of this.subscriptions.values()) {
        if ((s.managementGroup ?? this.tenantId).toLowerCase() === at.toLowerCase())
          out.push({ kind: 'subscription', name: s.subscriptionId, parent: at });
      }
    }
    return out;
  }

  addSubscription(subscriptionId: string, displayName = `Subscription ${subscriptionId.slice(0, 8)}`): void {
    this.subscriptions.set(subscriptionId.toLowerCase(), { subscriptionId, displayName });
  }

  /**
   * `managedBy`: the resource that manages the group (ResourceGroup.managedBy in Microsoft.Resources'
   * spec), as AKS sets it on its node resource group `MC_*` and Databricks on its managed group.
   */
  addResourceGroup(
    subscriptionId: string,
    name: string,
    location = 'westeurope',
    tags: Record<string, string> = {},
    managedBy?: string,
  ): string {
    if (!this.subscriptions.has(subscriptionId.toLowerCase())) this.addSubscription(subscriptionId);
    const id = `/subscriptions/${subscriptionId}/resourceGroups/${name}`;
    this.resourceGroups.set(key(id), {
      id,
      body: {
        id,
        name,
        type: 'Microsoft.Resources/resourceGroups',
        location,
        tags,
        ...(managedBy ? { managedBy } : {}),
        properties: { provisioningState: 'Succeeded' },
      },
    });
    return id;
  }

  resource(id: string): StoredResource | undefined {
    return this.resources.get(key(id));
  }

  /**
   * Deletes a resource as its RP would: a system-assigned identity's principal goes with it, and so
   * does the principal of a user-assigned identity that is itself deleted.
   */
  deleteResource(id: string): boolean {
    const existing = this.resources.get(key(id));
    if (!existing) return false;
    // Child resources (a site's slots) go with their parent, as ARM deletes them with it.
    for (const child of [...this.resources.keys()].filter((k) => k.startsWith(`${key(id)}/`))) this.deleteResource(child);
    const isUserAssignedIdentity = String(existing.body.type).toLowerCase() === 'microsoft.managedidentity/userassignedidentities';
    const principalId = isUserAssignedIdentity ? existing.body.properties?.principalId : existing.body.identity?.principalId;
    if (typeof principalId === 'string') this.directory.remove(principalId);
    // An identity's federated credentials are its child resources: they go with it.
    if (isUserAssignedIdentity) this.federatedCredentials.delete(key(id));
    this.resources.delete(key(id));
    // A resource group managed by the resource goes with it: "AKS automatically deletes the node resource
    // group whenever the cluster is deleted" (Learn: aks/faq, "Why are two resource groups created with
    // AKS?"), and the kubelet identity in it; the group's `managedBy` names the cluster (aks/node-resource-group-lockdown).
    for (const [rgKey, rg] of [...this.resourceGroups]) {
      if (typeof rg.body.managedBy === 'string' && key(rg.body.managedBy) === key(id)) this.deleteResourceGroup(rgKey);
    }
    return true;
  }

  /** Deletes a resource group and everything in it, each resource as deleteResource does. */
  deleteResourceGroup(id: string): boolean {
    const rgKey = key(id);
    if (!this.resourceGroups.has(rgKey)) return false;
    for (const k of [...this.resources.keys()]) if (k.startsWith(`${rgKey}/`)) this.deleteResource(k);
    this.resourceGroups.delete(rgKey);
    return true;
  }

  restartCount(id: string): number {
    return this.restarts.get(key(id)) ?? 0;
  }

  addCustomRole(input: {
    roleName: string;
    actions: string[];
    notActions?: string[];
    guid?: string;
    assignableScopes?: string[];
  }): RoleDefinitionRecord {
    const def: RoleDefinitionRecord = {
      guid: (input.guid ?? randomUUID()).toLowerCase(),
      roleName: input.roleName,
      roleType: 'CustomRole',
      description: `Custom role ${input.roleName}`,
      permissions: [{ actions: input.actions, notActions: input.notActions ?? [] }],
      assignableScopes: input.assignableScopes ?? ['/'],
    };
    this.roleDefinitions.set(def.guid, def);
    return def;
  }

  /** Seeds a role assignment directly, bypassing authorization (test set-up only). */
  grant(input: {
    principalId: string;
    roleDefinitionGuid: string;
    scope: string;
    condition?: string;
    principalType?: string;
    effectiveAfterMs?: number;
  }): RoleAssignmentRecord {
    const name = randomUUID();
    const record: RoleAssignmentRecord = {
      id: `${input.scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope: input.scope.replace(/\/+$/, ''),
      roleDefinitionGuid: input.roleDefinitionGuid.toLowerCase(),
      principalId: input.principalId,
      principalType: input.principalType ?? 'ServicePrincipal',
      condition: input.condition,
      conditionVersion: input.condition ? '2.0' : undefined,
      createdOn: new Date().toISOString(),
      createdBy: 'seed',
      effectiveAt: input.effectiveAfterMs ? Date.now() + input.effectiveAfterMs : undefined,
    };
    this.roleAssignments.set(key(record.id), record);
    return record;
  }

  assignmentsFor(principalId: string): RoleAssignmentRecord[] {
    const wanted = principalId.toLowerCase();
    return [...this.roleAssignments.values()].filter((a) => a.principalId.toLowerCase() === wanted);
  }
}
