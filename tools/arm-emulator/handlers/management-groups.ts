import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Microsoft.Management management groups: `GET .../managementGroups/{groupId}/descendants`
 * (ManagementGroups_GetDescendants, Azure/azure-rest-api-specs `specification/managementgroups`,
 * stable 2021-04-01 and 2023-04-01; the body's shape is the stored example GetDescendants.json).
 * Every group and subscription below the group at any depth, paged by `nextLink` with `$skiptoken`.
 */
export const MANAGEMENT_GROUP_API_VERSIONS = ['2020-02-01', '2020-05-01', '2020-10-01', '2021-04-01', '2023-04-01'];
/** The spec names `$top` without a documented default; the emulator pages small to make paging real. */
export const DESCENDANTS_PAGE_SIZE = 50;

const ROUTE = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/descendants$/i;

export function isManagementGroupPath(path: string): boolean {
  return /^\/providers\/Microsoft\.Management\/managementGroups(\/|$)/i.test(path);
}

export const mgScope = (name: string): string => `/providers/Microsoft.Management/managementGroups/${name}`;

export function handleManagementGroups(ctx: HandlerContext, req: EmulatorRequest): EmulatorResponse {
  const m = ROUTE.exec(req.path);
  if (!m) throw new ArmError(404, 'InvalidRequestUri', `The request URI '${req.path}' is not supported by the emulator.`);
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The HTTP method '${req.method}' is not supported.`);
  const groupId = decodeURIComponent(m[1]!);
  // Authorization first, as ARM does: a caller without access cannot tell a missing group from a hidden one.
  authorize(ctx.state, req.principal, { action: 'Microsoft.Management/managementGroups/descendants/read', scope: mgScope(groupId) });
  const group = ctx.state.managementGroups.get(groupId.toLowerCase());
  if (!group) throw new ArmError(404, 'NotFound', `Management group '${groupId}' was not found.`);
  const all = ctx.state.descendantsOf(group.name);
  const top = Math.max(1, Math.min(DESCENDANTS_PAGE_SIZE, Number(req.query.get('$top') ?? DESCENDANTS_PAGE_SIZE) || DESCENDANTS_PAGE_SIZE));
  const skip = Number(req.query.get('$skiptoken') ?? '0');
  if (!Number.isInteger(skip) || skip < 0 || skip > all.length) throw new ArmError(400, 'InvalidSkipToken', 'The $skiptoken is invalid.');
  const page = all.slice(skip, skip + top).map((d) => ({
    id: d.kind === 'subscription' ? `/subscriptions/${d.name}` : mgScope(d.name),
    type: d.kind === 'subscription' ? 'Microsoft.Management/managementGroups/subscriptions' : 'Microsoft.Management/managementGroups',
    name: d.name,
    properties: {
      displayName:
        d.kind === 'subscription'
          ? ctx.state.subscriptions.get(d.name.toLowerCase())!.displayName
          : ctx.state.managementGroups.get(d.name.toLowerCase())!.displayName,
      parent: { id: mgScope(d.parent) },
    },
  }));
  const next =
    skip + page.length < all.length ? `${ctx.baseUrl}${req.path}?api-version=${req.apiVersion}&$skiptoken=${skip + page.length}` : null;
  return { status: 200, body: { value: page, nextLink: next } };
}
