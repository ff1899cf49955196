import { InvalidResourceIdError, truncate } from '../errors';

/**
 * ARM resource ids and scopes, parsed once and compared case-insensitively, as ARM itself does.
 * The original casing is kept for calls; real events use `/resourcegroups/` in lower case.
 */
export type ArmScopeKind = 'managementGroup' | 'subscription' | 'resourceGroup' | 'resource';

export interface ArmResourceId {
  /** The id as given, without a trailing slash. */
  readonly id: string;
  readonly kind: ArmScopeKind;
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly managementGroup?: string;
  /** Resource provider namespace, e.g. `Microsoft.Web`. */
  readonly provider?: string;
  /** Full type, e.g. `Microsoft.Web/sites` or `Microsoft.Web/sites/slots`. */
  readonly type?: string;
  /** Name of the last segment (the resource itself). */
  readonly name?: string;
  /** True for child resources such as `sites/slots` or `roleAssignments` under a resource. */
  readonly isChild: boolean;
  /** Type/name pairs after the namespace, in order. */
  readonly segments: ReadonlyArray<{ type: string; name: string }>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Resource group names: 1-90 of letters, digits, underscores, hyphens, periods and parentheses; no trailing period.
const RESOURCE_GROUP = /^[-\w.()]{1,90}$/u;
const NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/;
const TYPE_SEGMENT = /^[A-Za-z][A-Za-z0-9-]*$/;
// Resource names vary by type; this only excludes what can never appear in a path segment.
const NAME_SEGMENT = /^[^\s/?#%&\\<>*:]{1,260}$/u;
const MAX_ID_LENGTH = 4096;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function parseArmId(value: unknown): ArmResourceId {
  if (typeof value !== 'string') throw new InvalidResourceIdError(String(value), 'it is not a string');
  if (value.length === 0) throw new InvalidResourceIdError(value, 'it is empty');
  if (value.length > MAX_ID_LENGTH) throw new InvalidResourceIdError(value, `it is longer than ${MAX_ID_LENGTH} characters`);
  if (!value.startsWith('/')) throw new InvalidResourceIdError(value, "it must start with '/'");
  const id = value.replace(/\/+$/, '');
  const parts = id.split('/').slice(1);
  if (parts.some((p) => p.length === 0)) throw new InvalidResourceIdError(value, 'it has an empty segment');

  const head = parts[0]!.toLowerCase();
  if (head === 'providers') {
    if (parts.length === 4 && parts[1]!.toLowerCase() === 'microsoft.management' && parts[2]!.toLowerCase() === 'managementgroups') {
      return { id, kind: 'managementGroup', managementGroup: parts[3]!, isChild: false, segments: [] };
    }
    throw new InvalidResourceIdError(value, 'only management-group scopes may start with /providers');
  }
  if (head !== 'subscriptions') throw new InvalidResourceIdError(value, "it must start with '/subscriptions/'");
  const subscriptionId = parts[1];
  if (!subscriptionId || !isGuid(subscriptionId)) throw new InvalidResourceIdError(value, 'the subscription id is not a GUID');
  if (parts.length === 2) return { id, kind: 'subscription', subscriptionId, isChild: false, segments: [] };

  let rest = parts.slice(2);
  let resourceGroup: string | undefined;
  if (rest[0]!.toLowerCase() === 'resourcegroups') {
    resourceGroup = rest[1];
    if (!resourceGroup) throw new InvalidResourceIdError(value, 'the resource group name is missing');
    if (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith('.')) {
      throw new InvalidResourceIdError(value, `'${truncate(resourceGroup, 90)}' is not a valid resource group name`);
    }
    rest = rest.slice(2);
    if (rest.length === 0) return { id, kind: 'resourceGroup', subscriptionId, resourceGroup, isChild: false, segments: [] };
  }
  if (rest[0]!.toLowerCase() !== 'providers') throw new InvalidResourceIdError(value, "expected '/providers/' after the scope");
  const provider = rest[1];
  if (!provider || !NAMESPACE.test(provider)) throw new InvalidResourceIdError(value, 'the resource provider namespace is missing or malformed');
  const pairs = rest.slice(2);
  if (pairs.length === 0 || pairs.length % 2 !== 0) {
    throw new InvalidResourceIdError(value, 'a resource id needs type/name pairs after the provider namespace');
  }
  const segments: Array<{ type: string; name: string }> = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const type = pairs[i]!;
    const name = pairs[i + 1]!;
    if (type.toLowerCase() === 'providers') {
      throw new InvalidResourceIdError(value, 'extension resources (a second /providers/) are not resource scopes this product manages');
    }
    if (!TYPE_SEGMENT.test(type)) throw new InvalidResourceIdError(value, `'${truncate(type, 80)}' is not a valid resource type segment`);
    if (!NAME_SEGMENT.test(name)) throw new InvalidResourceIdError(value, `'${truncate(name, 80)}' is not a valid resource name`);
    segments.push({ type, name });
  }
  return {
    id,
    kind: 'resource',
    subscriptionId,
    resourceGroup,
    provider,
    type: [provider, ...segments.map((s) => s.type)].join('/'),
    name: segments[segments.length - 1]!.name,
    isChild: segments.length > 1,
    segments,
  };
}

export function tryParseArmId(value: unknown): ArmResourceId | undefined {
  try {
    return parseArmId(value);
  } catch {
    return undefined;
  }
}

/** Canonical key for maps and comparisons: ARM ids are case-insensitive. */
export function armIdKey(id: string): string {
  return id.replace(/\/+$/, '').toLowerCase();
}

export function sameArmId(a: string, b: string): boolean {
  return armIdKey(a) === armIdKey(b);
}

/** True when `id` is `scope` itself or lies beneath it. */
export function isWithinScope(id: string, scope: string): boolean {
  const i = armIdKey(id);
  const s = armIdKey(scope);
  return i === s || i.startsWith(`${s}/`) || s === '';
}


/** The subscription of a scope or id (`''` for a tenant or management-group scope). */
export function subscriptionOf(scope: string): string {
  return /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1] ?? '';
}
