import { parseArmId } from '../arm/resource-id';
import type { CallBudget } from '../engine/call-budget';
import { AZURE_CLIENT_ID } from '../engine/dapr';
import type { DaprComponent, DaprEnvironmentApp, DaprPort, FoundDaprTarget } from '../engine/ports';
import { AutopilotError } from '../errors';
import { armCall } from './arm-call-error';
import { budgetOf, sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';
import { writeResource } from './long-running-write';
import { armRequester } from './resource-action';
import { DEFAULT_POLL_INTERVAL_MS } from './resource-port';

/**
 * Dapr components of Container Apps managed environments
 * (`Microsoft.App/managedEnvironments/{env}/daprComponents`, Azure/azure-rest-api-specs
 * specification/app/resource-manager/Microsoft.App/stable/2024-03-01/DaprComponents.json).
 * A component's secret values are never returned by a GET (the RP has a separate
 * `daprComponents/{name}/listSecrets` action for them, DaprComponents_ListSecrets), so a component
 * with inline secrets is never rewritten: its PUT would drop them.
 */
export const DAPR_COMPONENTS_API_VERSION = '2024-03-01';

type Json = Record<string, unknown>;

/** Runs one Resource Graph query (the app's SDK client, its quota handling); rows as objects. */
export type GraphQuery = (query: string, subscriptions: string[], signal: AbortSignal) => Promise<Array<Record<string, unknown>>>;

/** A KQL string literal; the values are checked names and parsed ids, and quoting is still escaped. */
export const kql = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function componentOf(raw: Json): DaprComponent {
  const props = (raw.properties ?? {}) as Json;
  const list = (v: unknown) => (Array.isArray(v) ? v : []) as Json[];
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: String(raw.id ?? ''),
    name: String(raw.name ?? ''),
    componentType: String(props.componentType ?? ''),
    metadata: list(props.metadata).map((m) => ({ name: String(m.name ?? ''), value: str(m.value), secretRef: str(m.secretRef) })),
    scopes: (Array.isArray(props.scopes) ? (props.scopes as unknown[]) : []).filter((s): s is string => typeof s === 'string'),
    secrets: list(props.secrets).map((s) => ({ name: String(s.name ?? ''), keyVaultUrl: str(s.keyVaultUrl), identity: str(s.identity) })),
    rawBody: raw,
  };
}

export class ArmDaprPort implements DaprPort {
  constructor(
    private readonly clients: ArmClientPool,
    private readonly graph: GraphQuery,
    private readonly options: { pollIntervalMs?: number } = {},
  ) {}

  private requester(subscriptionId: string, call: CallBudget | AbortSignal) {
    return armRequester(this.clients.for(subscriptionId).resources, this.clients.connection.endpoint, {
      budget: budgetOf(call),
      pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    });
  }

  async listComponents(environmentId: string, call: CallBudget | AbortSignal): Promise<DaprComponent[]> {
    const env = parseArmId(environmentId);
    const rows = await armCall(`list Dapr components of ${environmentId}`, () =>
      this.requester(env.subscriptionId!, call).list(`${env.id}/daprComponents`, DAPR_COMPONENTS_API_VERSION),
    );
    return rows.map(componentOf);
  }

  async lookup(
    input: { subscriptions: string[]; targets: Array<{ resourceType: string; name: string }>; environmentId: string },
    call: CallBudget | AbortSignal,
  ): Promise<{ targets: FoundDaprTarget[]; apps: DaprEnvironmentApp[] }> {
    const byType = new Map<string, string[]>();
    for (const t of input.targets) byType.set(t.resourceType.toLowerCase(), [...(byType.get(t.resourceType.toLowerCase()) ?? []), t.name]);
    const env = kql(parseArmId(input.environmentId).id);
    const clauses = [
      ...[...byType].map(([type, names]) => `(type =~ ${kql(type)} and name in~ (${names.map(kql).join(', ')}))`),
      `(type =~ 'microsoft.app/containerapps' and (tostring(properties.managedEnvironmentId) =~ ${env} or tostring(properties.environmentId) =~ ${env}))`,
    ];
    // One query per remediation: the component targets and the environment's other Dapr apps together.
    const query = `resources | where ${clauses.join(' or ')} | project id, name, type, tags, identity, properties`;
    const rows = await this.graph(query, input.subscriptions, budgetOf(call).signal);
    const targets: FoundDaprTarget[] = [];
    const apps: DaprEnvironmentApp[] = [];
    for (const row of rows) {
      const type = String(row.type ?? '');
      if (type.toLowerCase() === 'microsoft.app/containerapps') {
        // Every app counts, Dapr disabled included: its app id is still set and can be turned on at will.
        const dapr = ((row.properties as Json | undefined)?.configuration as Json | undefined)?.dapr as Json | undefined;
        const uas = ((row.identity as Json | undefined)?.userAssignedIdentities ?? {}) as Record<string, { clientId?: string }>;
        apps.push({
          id: String(row.id),
          ...(typeof dapr?.appId === 'string' && dapr.appId !== '' ? { appId: dapr.appId } : {}),
          daprEnabled: dapr?.enabled === true,
          userAssignedClientIds: Object.values(uas)
            .map((u) => u?.clientId)
            .filter((c): c is string => typeof c === 'string'),
        });
        continue;
      }
      targets.push({
        id: String(row.id),
        type,
        name: String(row.name ?? ''),
        tags: (row.tags && typeof row.tags === 'object' ? row.tags : {}) as Record<string, string>,
      });
    }
    return { targets, apps };
  }

  async setAzureClientId(componentId: string, clientId: string, call: CallBudget | AbortSignal): Promise<void> {
    await this.rewrite(componentId, { removeMetadata: [], removeSecrets: [], azureClientId: { set: clientId } }, call);
  }

  async migrateComponent(
    componentId: string,
    change: { removeMetadata: string[]; removeSecrets: string[]; azureClientId?: { set: string } | 'remove' },
    call: CallBudget | AbortSignal,
  ): Promise<void> {
    await this.rewrite(componentId, change, call);
  }

  /** GET-modify-PUT of a component: the secret values a GET hides are never read, so no inline secret may remain. */
  private async rewrite(
    componentId: string,
    change: { removeMetadata: string[]; removeSecrets: string[]; azureClientId?: { set: string } | 'remove' },
    call: CallBudget | AbortSignal,
  ): Promise<void> {
    const id = parseArmId(componentId);
    const client = this.clients.for(id.subscriptionId!).resources;
    let raw: Json | undefined;
    await armCall(`GET ${componentId}`, () =>
      client.resources.getById(componentId, DAPR_COMPONENTS_API_VERSION, {
        ...sdkOptions(call),
        onResponse: (r) => void (raw = r.parsedBody as Json),
      }),
    );
    const component = componentOf(raw ?? {});
    const dropped = new Set(change.removeSecrets);
    const inline = component.secrets.filter((s) => !s.keyVaultUrl && !dropped.has(s.name));
    if (inline.length > 0) {
      throw new AutopilotError(
        'DaprComponentSecretsWriteOnly',
        `${componentId} holds secrets whose values a GET does not return; rewriting it would drop them`,
      );
    }
    const props = { ...((raw?.properties ?? {}) as Json) };
    delete props.provisioningState;
    if (Array.isArray(props.secrets)) props.secrets = (props.secrets as Json[]).filter((s) => !dropped.has(String(s.name)));
    const removed = new Set([...change.removeMetadata, ...(change.azureClientId ? [AZURE_CLIENT_ID] : [])].map((f) => f.toLowerCase()));
    const metadata = component.metadata
      .filter((m) => !removed.has(m.name.toLowerCase()))
      .map((m) => ({
        name: m.name,
        ...(m.value !== undefined ? { value: m.value } : {}),
        ...(m.secretRef !== undefined ? { secretRef: m.secretRef } : {}),
      }));
    if (change.azureClientId && change.azureClientId !== 'remove')
      metadata.push({ name: AZURE_CLIENT_ID, value: change.azureClientId.set });
    await armCall(`PUT ${componentId}`, () =>
      writeResource(
        client,
        this.clients.connection.endpoint,
        'PUT',
        componentId,
        DAPR_COMPONENTS_API_VERSION,
        { properties: { ...props, metadata } },
        {
          budget: budgetOf(call),
          pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
        },
      ),
    );
  }
}
