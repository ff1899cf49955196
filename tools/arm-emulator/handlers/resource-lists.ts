import { parseArmId } from '../../../src/arm/resource-id';
import { ArmError } from '../arm-error';
import { isAllowed } from '../authorization';
import { key, type StoredResource } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Resources_List (`GET /subscriptions/{s}/resources`) and Resources_ListByResourceGroup
 * (`GET /subscriptions/{s}/resourceGroups/{rg}/resources`), one page of GenericResourceExpanded:
 * `az resource list [-g rg]` calls the first with `$filter=resourceGroup eq '<rg>'` and
 * `$expand=createdTime,changedTime,provisioningState` (found with az 2.45 --debug; issue 24 D8).
 * Spec: Azure/azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/
 * stable/2021-04-01/resources.json`, operations Resources_List and Resources_ListByResourceGroup.
 * Only the filter forms listed in FILTER_TERMS are understood; any other filter is refused (400)
 * rather than ignored, so a client never gets more than it asked for (stricter than ARM).
 */
export function listResources(ctx: HandlerContext, req: EmulatorRequest, subscriptionId: string, resourceGroup?: string): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on a resource list.`);
  const scope = `/subscriptions/${subscriptionId}${resourceGroup === undefined ? '' : `/resourceGroups/${resourceGroup}`}`;
  if (resourceGroup !== undefined && !ctx.state.resourceGroups.has(key(scope)))
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
  const terms = parseFilter(req.query.get('$filter'));
  const expand = new Set((req.query.get('$expand') ?? '').split(',').map((e) => e.trim().toLowerCase()));
  const top = req.query.get('$top');
  const limit = top === null ? Number.POSITIVE_INFINITY : Number(top);
  if (top !== null && (!Number.isInteger(limit) || limit < 1))
    throw new ArmError(400, 'InvalidParameter', `The value '${top}' of $top is not valid.`);
  const prefix = `${key(scope)}/`;
  const value = [...ctx.state.resources.values()]
    .filter((r) => key(r.id).startsWith(prefix))
    .filter((r) => terms.every((t) => t.matches(r)))
    .filter((r) => isAllowed(ctx.state, req.principal, { action: `${parseArmId(r.id).type}/read`, scope: r.id }))
    .slice(0, limit)
    .map((r) => expanded(r, expand));
  return { status: 200, body: { value } };
}

interface FilterTerm {
  matches(r: StoredResource): boolean;
}

/** `<field> eq '<value>'`, joined by `and`; the fields ARM documents for this filter that the emulator can answer. */
const FILTER_TERMS: Record<string, (r: StoredResource) => string | undefined> = {
  resourcegroup: (r) => parseArmId(r.id).resourceGroup,
  resourcetype: (r) => parseArmId(r.id).type,
  name: (r) => parseArmId(r.id).name,
  location: (r) => r.body.location,
};

function parseFilter(filter: string | null): FilterTerm[] {
  if (filter === null || filter.trim() === '') return [];
  return filter.split(/\s+and\s+/i).map((term) => {
    const m = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(term);
    const field = m ? FILTER_TERMS[m[1]!.toLowerCase()] : undefined;
    if (!m || !field)
      throw new ArmError(400, 'InvalidFilterInQueryString', `The emulator does not support the filter '${term.trim()}' in '$filter'.`);
    const wanted = m[2]!.replace(/''/g, "'").toLowerCase();
    return { matches: (r: StoredResource) => field(r)?.toLowerCase() === wanted };
  });
}

/** GenericResourceExpanded: the envelope without properties; createdTime, changedTime and provisioningState only when expanded. */
function expanded(r: StoredResource, expand: ReadonlySet<string>) {
  const b = r.body;
  const envelope: Record<string, unknown> = { id: r.id, name: b.name, type: b.type, location: b.location };
  for (const field of ['kind', 'managedBy', 'sku', 'identity', 'tags'] as const) if (b[field] !== undefined) envelope[field] = b[field];
  if (expand.has('provisioningstate')) envelope.provisioningState = b.properties?.provisioningState ?? 'Succeeded';
  if (expand.has('createdtime') && b.systemData?.createdAt) envelope.createdTime = b.systemData.createdAt;
  if (expand.has('changedtime') && b.systemData?.lastModifiedAt) envelope.changedTime = b.systemData.lastModifiedAt;
  return envelope;
}
