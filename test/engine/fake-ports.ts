import { parseRulesText, RoleResolver, type RulesConfig } from '../../src/config';
import type { CallBudget } from '../../src/engine/call-budget';
import { readIdentity } from '../../src/engine/identity-state';
import type {
  DaprComponent,
  DaprEnvironmentApp,
  EnginePorts,
  ExistingCosmosSqlRoleAssignment,
  FederatedCredential,
  FoundDaprTarget,
  PacingPort,
  UserAssignedIdentity,
} from '../../src/engine/ports';
import type { IdentityBlock, ResourceState } from '../../src/engine/types';

/**
 * Small in-memory stand-ins for the engine's ports (src/engine/ports.ts): enough of ARM for the engine's
 * own logic, every call recorded in `calls` so a test can say which ARM calls a step made.
 */
export const SUB = '44444444-4444-4444-8444-444444444444';
export const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
export const rgScope = (rg: string) => `/subscriptions/${SUB}/resourceGroups/${rg}`;

export const rules: RulesConfig = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  reader:
    roles: [{ role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }]
rules:
  - name: report
    match: { resourceGroups: ["rg-report"] }
    identity: { kind: SystemAssigned }
    mode: report
    profiles: [reader]
  - name: web
    identity: { kind: SystemAssigned }
    profiles: [reader]
`,
  'engine-unit-test.yaml',
);

export function webApp(name: string, rg = 'rg-a', identity?: unknown, extra: Partial<ResourceState> = {}): ResourceState {
  const id = `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${name}`;
  return {
    id,
    type: 'Microsoft.Web/sites',
    subscriptionId: SUB,
    resourceGroup: rg,
    name,
    location: 'westeurope',
    tags: {},
    identity: readIdentity(identity),
    rawBody: {},
    blockers: [],
    ...extra,
  };
}

export interface StoredRoleAssignment {
  scope: string;
  roleDefinitionGuid: string;
  principalId: string;
  name?: string;
  description?: string;
}

/** What the fake Azure holds, and what the engine asked of it. */
export class FakeAzure {
  readonly calls: string[] = [];
  readonly resources = new Map<string, ResourceState>();
  readonly roleAssignments: StoredRoleAssignment[] = [];
  readonly cosmos: Array<ExistingCosmosSqlRoleAssignment & { accountId: string }> = [];
  readonly credentials = new Map<string, FederatedCredential[]>();
  readonly components: DaprComponent[] = [];
  /** What Resource Graph finds for Dapr component targets, and the environment's Dapr apps. */
  readonly daprTargets: FoundDaprTarget[] = [];
  readonly daprApps: DaprEnvironmentApp[] = [];
  /** The budgets every call was given, in order. */
  readonly budgets: CallBudget[] = [];
  /** Replaces a call's normal answer (throw to fail it). */
  readonly faults = new Map<string, () => unknown>();

  add(resource: ResourceState): ResourceState {
    this.resources.set(resource.id.toLowerCase(), resource);
    return resource;
  }

  private record(call: string, budget: CallBudget): void {
    this.calls.push(call);
    this.budgets.push(budget);
    const fault = this.faults.get(call.split(' ')[0]!);
    if (fault) fault();
  }

  ports(pacing?: PacingPort): EnginePorts {
    const azure = this;
    return {
      resources: {
        async read(resourceId, budget) {
          azure.record(`read ${resourceId}`, budget);
          const found = azure.resources.get(resourceId.toLowerCase());
          return found ? structuredClone(found) : undefined;
        },
        async writeIdentity(resource, identity: IdentityBlock, budget) {
          azure.record(`writeIdentity ${resource.id} ${identity.type}`, budget);
          const written = readIdentity({
            ...identity,
            principalId: identity.type.includes('SystemAssigned') ? `pid-${resource.name}` : undefined,
          });
          azure.resources.get(resource.id.toLowerCase())!.identity = written;
          return written;
        },
        async resumeWrite(write, budget) {
          azure.record(`resumeWrite ${write.resourceId}`, budget);
        },
        async runFollowUp(resource, code, budget) {
          azure.record(`runFollowUp ${resource.id} ${code}`, budget);
          return undefined;
        },
        async enableWorkloadIdentity(resource, _change, budget) {
          azure.record(`enableWorkloadIdentity ${resource.id}`, budget);
          return { oidcIssuerEnabled: true, workloadIdentityEnabled: true, issuerUrl: 'https://issuer.example/' };
        },
      },
      userAssignedIdentities: {
        async ensure(plan, budget): Promise<UserAssignedIdentity> {
          azure.record(`ensureIdentity ${plan.id}`, budget);
          return { id: plan.id, principalId: `pid-${plan.name}`, clientId: `client-${plan.name}`, created: true };
        },
        async find(plan, budget) {
          azure.record(`findIdentity ${plan.id}`, budget);
          return undefined;
        },
        async read(identityId, budget) {
          azure.record(`readIdentity ${identityId}`, budget);
          return undefined;
        },
        async remove(identityId, budget) {
          azure.record(`removeIdentity ${identityId}`, budget);
          return 'absent';
        },
      },
      roleAssignments: {
        async listForPrincipal(subscriptionId, principalId, budget) {
          azure.record(`listRoleAssignments ${subscriptionId} ${principalId}`, budget);
          return azure.roleAssignments.filter(
            (r) => r.principalId === principalId && r.scope.toLowerCase().startsWith(`/subscriptions/${subscriptionId.toLowerCase()}`),
          );
        },
        async create(input, budget) {
          azure.record(`createRoleAssignment ${input.scope} ${input.roleDefinitionId.split('/').pop()}`, budget);
          azure.roleAssignments.push({
            scope: input.scope,
            roleDefinitionGuid: input.roleDefinitionId.split('/').pop()!,
            principalId: input.principalId,
            name: input.name,
            description: input.description,
          });
          return { status: 'created', id: `${input.scope}/providers/Microsoft.Authorization/roleAssignments/${input.name}` };
        },
        async get(assignmentId, budget) {
          azure.record(`getRoleAssignment ${assignmentId}`, budget);
          return azure.roleAssignments.find(
            (r) => `${r.scope}/providers/Microsoft.Authorization/roleAssignments/${r.name}` === assignmentId,
          );
        },
        async remove(assignmentId, budget) {
          azure.record(`removeRoleAssignment ${assignmentId}`, budget);
          const at = azure.roleAssignments.findIndex(
            (r) => `${r.scope}/providers/Microsoft.Authorization/roleAssignments/${r.name}` === assignmentId,
          );
          if (at < 0) return 'absent';
          azure.roleAssignments.splice(at, 1);
          return 'removed';
        },
      },
      roles: new RoleResolver({ getRoleDefinition: async () => undefined, findRoleDefinitionByName: async () => undefined }),
      grantTargets: {
        async read(scope, budget) {
          azure.record(`readTarget ${scope}`, budget);
          return undefined;
        },
      },
      federatedCredentials: {
        async list(identityId, budget) {
          azure.record(`listCredentials ${identityId}`, budget);
          return [...(azure.credentials.get(identityId) ?? [])];
        },
        async put(identityId, credential, budget) {
          azure.record(`putCredential ${identityId} ${credential.name}`, budget);
          azure.credentials.set(identityId, [...(azure.credentials.get(identityId) ?? []), { ...credential, ours: true }]);
          return 'created';
        },
        async get(identityId, name, budget) {
          azure.record(`getCredential ${identityId} ${name}`, budget);
          return azure.credentials.get(identityId)?.find((c) => c.name === name);
        },
        async remove(identityId, name, budget) {
          azure.record(`removeCredential ${identityId} ${name}`, budget);
          const held = azure.credentials.get(identityId) ?? [];
          azure.credentials.set(
            identityId,
            held.filter((c) => c.name !== name),
          );
          return held.some((c) => c.name === name) ? 'removed' : 'absent';
        },
      },
      cosmosRoleAssignments: {
        async list(accountId, budget) {
          azure.record(`listCosmos ${accountId}`, budget);
          return azure.cosmos.filter((c) => c.accountId.toLowerCase() === accountId.toLowerCase());
        },
        async create(input, budget) {
          azure.record(`createCosmos ${input.accountId} ${input.roleDefinitionId.split('/').pop()}`, budget);
          azure.cosmos.push({
            accountId: input.accountId,
            roleDefinitionId: input.roleDefinitionId,
            scope: input.scope,
            principalId: input.principalId,
            name: input.name,
          });
          return { status: 'created', id: `${input.accountId}/sqlRoleAssignments/${input.name}` };
        },
        async get(accountId, name, budget) {
          azure.record(`getCosmos ${accountId} ${name}`, budget);
          return azure.cosmos.find((c) => c.accountId.toLowerCase() === accountId.toLowerCase() && c.name === name);
        },
        async remove(accountId, name, budget) {
          azure.record(`removeCosmos ${accountId} ${name}`, budget);
          const at = azure.cosmos.findIndex((c) => c.accountId.toLowerCase() === accountId.toLowerCase() && c.name === name);
          if (at < 0) return 'absent';
          azure.cosmos.splice(at, 1);
          return 'removed';
        },
      },
      dapr: {
        async listComponents(environmentId, budget) {
          azure.record(`listComponents ${environmentId}`, budget);
          return azure.components;
        },
        async lookup(_input, budget) {
          azure.record('lookupDapr', budget);
          return { targets: azure.daprTargets, apps: azure.daprApps };
        },
        async setAzureClientId(componentId, clientId, budget) {
          azure.record(`setAzureClientId ${componentId} ${clientId}`, budget);
        },
      },
      ...(pacing ? { pacing } : {}),
    };
  }
}

/** A pacing port that answers what the test says, and counts bookings. */
export function fakePacing(
  answers: { closedForMs?: number; bookWritesMs?: number; writeTurnMs?: number } = {},
): PacingPort & { booked: number[] } {
  const booked: number[] = [];
  return {
    booked,
    closedForMs: () => answers.closedForMs ?? 0,
    bookWrites: (_subscription, writes) => (booked.push(writes), answers.bookWritesMs ?? 0),
    writeTurnMs: () => answers.writeTurnMs ?? 0,
  };
}

export const budget = (handOffAt?: number): CallBudget => ({
  signal: AbortSignal.timeout(10_000),
  ...(handOffAt !== undefined ? { handOffAt } : {}),
});
