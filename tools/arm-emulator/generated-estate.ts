import { createHash } from 'node:crypto';
import { ROLE } from './role-definitions';
import { SEED_TYPES, seedResource } from './seed';
import { EmulatorState, type Json, type RoleAssignmentRecord, type StoredResource } from './state';

/**
 * A read-only estate too large to hold in memory (1,000 subscriptions, 1,000,000 resources, two grants
 * each): its resources and role assignments are computed from their position on demand, so the
 * emulator's Resource Graph can page through it while holding one page. Only Resource Graph sees it
 * (`ResourceGraphService.useGeneratedEstate`); ARM's own routes keep serving the stored state.
 */
export interface GeneratedEstate {
  /** Number of resources. */
  readonly size: number;
  /** The resources in ascending ordinal `id` order, from position `from`. */
  resources(from: number): Iterable<StoredResource>;
  /** The role assignments held by these principals (lower-case object ids), for `authorizationresources`. */
  roleAssignmentsOf(principalIds: readonly string[]): RoleAssignmentRecord[];
}

const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

export interface SyntheticEstateOptions {
  subscriptions: number;
  resourceGroupsPerSubscription: number;
  resources: number;
  /** Every `100 / driftPercent`-th resource has drifted: never remediated, identity removed, a grant deleted, in turn. */
  driftPercent: number;
  tenantId: string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Subscription ids that sort in creation order (same length, zero-padded). */
export const syntheticSubscriptionId = (n: number) => `5a5a5a5a-0000-4000-8000-${pad(n + 1, 12)}`;
/** The system-assigned principal of resource `i` (a GUID that names its resource's position). */
const principalOf = (i: number) => `00000000-0000-4000-8000-${pad(i, 12)}`;
const PRINCIPAL = /^00000000-0000-4000-8000-(\d{12})$/;
const assignmentName = (i: number, role: string) => {
  const h = createHash('sha1').update(`${i}|${role}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * The generated estate of the sweep benchmark: 5 workload types in turn (AKS left out: its grants go to
 * a kubelet identity in a node resource group, which would need a second generated estate), bodies
 * copied from the seeds' realistic bodies (`seed.ts`), `rg-00`... groups, names `res-<position>`.
 * Drift as in the 100,000-resource bench: 0 = never remediated (no identity, no grants), 1 = identity
 * removed (the old principal keeps its grants), 2 = the resource-scope grant deleted.
 */
export class SyntheticEstate implements GeneratedEstate {
  readonly size: number;
  readonly subscriptionIds: string[];
  readonly resourceGroupNames: string[];
  readonly perGroup: number;
  private readonly templates: Json[];

  constructor(readonly options: SyntheticEstateOptions) {
    const groups = options.subscriptions * options.resourceGroupsPerSubscription;
    if (options.resources % groups !== 0)
      throw new Error(`resources (${options.resources}) must be a multiple of subscriptions x groups (${groups})`);
    this.size = options.resources;
    this.perGroup = options.resources / groups;
    this.subscriptionIds = Array.from({ length: options.subscriptions }, (_, n) => syntheticSubscriptionId(n));
    this.resourceGroupNames = Array.from({ length: options.resourceGroupsPerSubscription }, (_, g) => `rg-${pad(g, 3)}`);
    const scratch = new EmulatorState(options.tenantId);
    const types = [SEED_TYPES.webApp, SEED_TYPES.containerApp, SEED_TYPES.virtualMachine, SEED_TYPES.scaleSet, SEED_TYPES.containerGroup];
    this.templates = types.map((type) => {
      const id = seedResource(scratch, {
        subscriptionId: syntheticSubscriptionId(0),
        resourceGroup: 'rg-template',
        type,
        name: 'template',
      });
      const { id: _i, name: _n, identity: _id, ...body } = scratch.resource(id)!.body;
      return body;
    });
  }

  /** The estate's subscriptions and resource groups are few (`resourcecontainers`): they go in the stored state. */
  addContainersTo(state: EmulatorState): void {
    for (const sub of this.subscriptionIds) for (const rg of this.resourceGroupNames) state.addResourceGroup(sub, rg);
  }

  /** Drift of resource `i`: -1 compliant, else 0/1/2 (see the class comment). */
  drift(i: number): number {
    const every = Math.round(100 / this.options.driftPercent);
    return i % every === 0 ? Math.floor(i / every) % 3 : -1;
  }

  get drifted(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.drift(i) >= 0) n++;
    return n;
  }

  /** Grants the estate holds (for the bench's conditions). */
  get roleAssignments(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) n += this.drift(i) === 0 ? 0 : this.drift(i) === 2 ? 1 : 2;
    return n;
  }

  private group(groupIndex: number): StoredResource[] {
    const s = Math.floor(groupIndex / this.options.resourceGroupsPerSubscription);
    const sub = this.subscriptionIds[s]!;
    const rg = this.resourceGroupNames[groupIndex % this.options.resourceGroupsPerSubscription]!;
    const out: StoredResource[] = [];
    for (let k = 0; k < this.perGroup; k++) {
      const i = groupIndex * this.perGroup + k;
      const template = this.templates[i % this.templates.length]!;
      const name = `res-${pad(i, 7)}`;
      const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/${String(template.type)}/${name}`;
      const drift = this.drift(i);
      const body: Json = { ...template, id, name };
      if (drift !== 0 && drift !== 1)
        body.identity = { type: 'SystemAssigned', principalId: principalOf(i), tenantId: this.options.tenantId };
      out.push({ id, body });
    }
    // Ordinal, as the emulator's KQL `order by` compares strings.
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  *resources(from: number): Iterable<StoredResource> {
    const groups = this.size / this.perGroup;
    for (let g = Math.floor(from / this.perGroup); g < groups; g++) {
      const rows = this.group(g);
      for (let k = g === Math.floor(from / this.perGroup) ? from % this.perGroup : 0; k < rows.length; k++) yield rows[k]!;
    }
  }

  roleAssignmentsOf(principalIds: readonly string[]): RoleAssignmentRecord[] {
    const out: RoleAssignmentRecord[] = [];
    for (const p of principalIds) {
      const m = PRINCIPAL.exec(p.toLowerCase());
      const i = m ? Number(m[1]) : -1;
      if (i < 0 || i >= this.size || this.drift(i) === 0) continue;
      const groupIndex = Math.floor(i / this.perGroup);
      const sub = this.subscriptionIds[Math.floor(groupIndex / this.options.resourceGroupsPerSubscription)]!;
      const rgScope = `/subscriptions/${sub}/resourceGroups/${this.resourceGroupNames[groupIndex % this.options.resourceGroupsPerSubscription]}`;
      const template = this.templates[i % this.templates.length]!;
      const resourceId = `${rgScope}/providers/${String(template.type)}/res-${pad(i, 7)}`;
      const grants: Array<[string, string]> = [[ROLE.reader, rgScope]];
      if (this.drift(i) !== 2) grants.push([METRICS_PUBLISHER, resourceId]);
      for (const [role, scope] of grants) {
        const name = assignmentName(i, role);
        out.push({
          id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
          name,
          scope,
          roleDefinitionGuid: role,
          principalId: principalOf(i),
          principalType: 'ServicePrincipal',
          createdOn: '2026-01-01T00:00:00.000Z',
          createdBy: 'generated',
        });
      }
    }
    return out;
  }
}
