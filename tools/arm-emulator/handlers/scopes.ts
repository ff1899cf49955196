import { isWithinScope } from '../../../src/arm/resource-id';
import { ArmError } from '../arm-error';
import { authorize, isAllowed } from '../authorization';
import { type EmulatorState, key, type SubscriptionRecord } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

function subscriptionBody(state: EmulatorState, sub: SubscriptionRecord) {
  return {
    id: `/subscriptions/${sub.subscriptionId}`,
    subscriptionId: sub.subscriptionId,
    tenantId: state.tenantId,
    displayName: sub.displayName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
    authorizationSource: 'RoleBased',
  };
}

export function handleSubscription(ctx: HandlerContext, req: EmulatorRequest, subscriptionId: string): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'Subscriptions are read-only here.');
  const sub = ctx.state.subscriptions.get(subscriptionId.toLowerCase())!;
  authorize(ctx.state, req.principal, { action: 'Microsoft.Resources/subscriptions/read', scope: `/subscriptions/${subscriptionId}` });
  return { status: 200, body: subscriptionBody(ctx.state, sub) };
}

/**
 * Subscriptions_List (`GET /subscriptions`): the subscriptions in which the caller holds any role
 * assignment, at, above or below the subscription, as ARM lists them; callers without one get an
 * empty list, not a 403. It is the first call of `az login` (azure-cli `_profile.py`
 * SubscriptionFinder `find_using_specific_tenant` → `subscriptions.list()`); found by test/conformance.
 * Spec: Azure/azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/
 * stable/2022-12-01/subscriptions.json`, operation Subscriptions_List (one page, `value`).
 */
export function listSubscriptions(ctx: HandlerContext, req: EmulatorRequest): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'Subscriptions are read-only here.');
  const assignments = ctx.state.assignmentsFor(req.principal.id);
  const value = [...ctx.state.subscriptions.values()]
    .filter((sub) => {
      const scope = `/subscriptions/${sub.subscriptionId}`;
      return assignments.some((a) => isWithinScope(scope, a.scope) || isWithinScope(a.scope, scope));
    })
    .map((sub) => subscriptionBody(ctx.state, sub));
  return { status: 200, body: { value } };
}

/**
 * ResourceGroups_List (`GET /subscriptions/{s}/resourcegroups`, one page): the groups the caller may
 * read. `az group list` calls it; found by test/conformance. Spec: Azure/azure-rest-api-specs
 * `specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json`.
 */
export function listResourceGroups(ctx: HandlerContext, req: EmulatorRequest, subscriptionId: string): EmulatorResponse {
  if (req.method !== 'GET')
    throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on a resource-group list.`);
  const prefix = `${key(`/subscriptions/${subscriptionId}`)}/`;
  const value = [...ctx.state.resourceGroups.values()]
    .filter((rg) => key(rg.id).startsWith(prefix))
    .filter((rg) => isAllowed(ctx.state, req.principal, { action: 'Microsoft.Resources/subscriptions/resourceGroups/read', scope: rg.id }))
    .map((rg) => rg.body);
  return { status: 200, body: { value } };
}

export function handleResourceGroup(ctx: HandlerContext, req: EmulatorRequest, subscriptionId: string, name: string): EmulatorResponse {
  const id = `/subscriptions/${subscriptionId}/resourceGroups/${name}`;
  const existing = ctx.state.resourceGroups.get(key(id));
  const access = (verb: string) => ({ action: `Microsoft.Resources/subscriptions/resourceGroups/${verb}`, scope: id });
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      authorize(ctx.state, req.principal, access('read'));
      if (!existing) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
      return { status: req.method === 'HEAD' ? 204 : 200, body: req.method === 'HEAD' ? undefined : existing.body };
    case 'PUT': {
      authorize(ctx.state, req.principal, access('write'));
      const location = req.body?.location;
      if (typeof location !== 'string')
        throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
      if (existing) {
        existing.body.tags = req.body?.tags ?? existing.body.tags;
        return { status: 200, body: existing.body };
      }
      const managedBy = typeof req.body?.managedBy === 'string' ? req.body.managedBy : undefined;
      ctx.state.addResourceGroup(subscriptionId, name, location, req.body?.tags ?? {}, managedBy);
      return { status: 201, body: ctx.state.resourceGroups.get(key(id))!.body };
    }
    case 'DELETE': {
      authorize(ctx.state, req.principal, access('delete'));
      if (!existing) return { status: 204 };
      ctx.state.deleteResourceGroup(id);
      return { status: 200 };
    }
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on resource groups.`);
  }
}
