import { sameArmId } from '../../arm/resource-id';
import type { CallBudget } from '../call-budget';
import { AZURE_CLIENT_ID, type DaprClientIdDecisions, type DaprContext, decideClientIds, metadataValue } from '../dapr';
import type { EnginePorts } from '../ports';
import type { ActionRecord, IdentityState, Plan, PrincipalDescription } from '../types';
import { type GrantAction, type GrantKind, sameId } from './grant-kind';

/**
 * The fourth kind of grant: a Dapr component's `azureClientId` metadata naming the identity the app's
 * grants went to (needed when the app holds several identities). Observed from what the Dapr planning
 * step read (no further call); written by GET-modify-PUT of the component.
 */

export interface DaprClientIdContext {
  plan: Plan;
  dapr: DaprContext;
  decisions: DaprClientIdDecisions;
  grantee?: PrincipalDescription;
}

/** A component that should name `clientId`. */
export interface DesiredClientId {
  componentId: string;
  clientId: string;
}

/** A component the app uses, and the clientId its azureClientId names as a plain value. */
export interface ObservedClientId {
  componentId: string;
  name: string;
  clientId?: string;
}

const ownerOf = (context: DaprClientIdContext, component: string) => ({
  principalId: context.grantee?.objectId,
  resourceId: context.plan.resourceId,
  rule: context.plan.rule,
  source: `dapr:${component}`,
});

export const daprClientIdGrants: GrantKind<DaprClientIdContext, DesiredClientId, ObservedClientId> = {
  desired: ({ plan, decisions }) =>
    (plan.dapr?.components ?? []).flatMap((c) => {
      const decision = decisions.get(c.id.toLowerCase());
      return decision?.action === 'write' && decision.clientId ? [{ componentId: c.id, clientId: decision.clientId }] : [];
    }),

  observe: async (_ports, { dapr }) =>
    dapr.components.map((c) => ({ componentId: c.id, name: c.name, clientId: metadataValue(c, AZURE_CLIENT_ID)?.value })),

  diff(desired, observed, context) {
    const actions: GrantAction<DesiredClientId, ObservedClientId>[] = desired
      .filter((d) => !observed.some((o) => sameArmId(o.componentId, d.componentId) && sameId(o.clientId, d.clientId)))
      .map((d) => ({
        kind: 'create',
        grant: d,
        owner: ownerOf(context, observed.find((o) => sameArmId(o.componentId, d.componentId))?.name ?? d.componentId),
      }));
    // Ours for this app: a component that names the grantee's clientId although the plan no longer grants through it.
    const granting = new Set((context.plan.dapr?.components ?? []).filter((c) => c.status === 'grants').map((c) => c.id.toLowerCase()));
    for (const o of observed) {
      if (!context.grantee?.clientId || !sameId(o.clientId, context.grantee.clientId) || granting.has(o.componentId.toLowerCase()))
        continue;
      actions.push({ kind: 'remove', grant: o, owner: ownerOf(context, o.name) });
    }
    return actions;
  },
};

/**
 * After the grants: decides each component's azureClientId from the identity the workload now holds,
 * and writes it where it is missing. Returns the decisions as they stand afterwards and the failures.
 */
export async function applyDaprClientIds(
  plan: Plan,
  dapr: DaprContext | undefined,
  grantee: PrincipalDescription | undefined,
  identity: IdentityState,
  ports: EnginePorts,
  budget: CallBudget,
  actions: ActionRecord[],
): Promise<{ decisions: DaprClientIdDecisions; failures: unknown[] }> {
  if (!plan.dapr || !dapr) return { decisions: new Map(), failures: [] };
  const context: DaprClientIdContext = { plan, dapr, grantee, decisions: decideClientIds(plan, dapr, grantee, identity) };
  const diff = daprClientIdGrants.diff(
    daprClientIdGrants.desired(context),
    await daprClientIdGrants.observe(ports, context, budget),
    context,
  );
  const decisions = new Map(context.decisions);
  const failures: unknown[] = [];
  for (const action of diff) {
    if (action.kind !== 'create') continue;
    const { componentId, clientId } = action.grant;
    try {
      await ports.dapr!.setAzureClientId(componentId, clientId, budget);
      actions.push({ kind: 'dapr-client-id-written', componentId, clientId });
      decisions.set(componentId.toLowerCase(), {
        ...decisions.get(componentId.toLowerCase())!,
        action: 'none',
        detail: `azureClientId set to ${clientId}`,
      });
    } catch (e) {
      failures.push(e);
    }
  }
  return { decisions, failures };
}
