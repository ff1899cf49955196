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

/**
 * Why `value` is not a canonical ARM path, or undefined. The SDKs put an id into the request URL
 * unencoded (`@azure/arm-resources` `getById` declares `{resourceId}` with `skipEncoding: true`) and
 * `@azure/core-client`'s `appendPath` then assigns it to a WHATWG `URL`'s pathname, which removes
 * `.` and `..` segments (also spelled `%2e`), turns `\\` into `/`, drops tabs and newlines, and
 * splits at `?` into a query. ARM decodes percent-encodings (`%2F`) on its side. Any of these makes
 * the request reach another path than the id we checked, so each is refused here, for every kind of
 * id (extension resources included). test/arm/resource-id.test.ts proves it against the SDK.
 */
export function canonicalIdProblem(value: string): string | undefined {
  if (value.length === 0) return 'it is empty';
  if (value.length > MAX_ID_LENGTH) return `it is longer than ${MAX_ID_LENGTH} characters`;
  if (!value.startsWith('/')) return "it must start with '/'";
  // One trailing slash is tolerated and dropped (tag values often carry one); anything more is not canonical.
  const body = value.endsWith('/') ? value.slice(0, -1) : value;
  if (body.length === 0) return 'it has no segments';
  const bad = FORBIDDEN_CHARACTER.exec(body);
  if (bad) return `it contains ${describeCharacter(bad[0])}, which is never part of a canonical ARM id`;
  const segments = body.split('/').slice(1);
  if (segments.some((p) => p.length === 0)) return "it has an empty segment ('//')";
  if (segments.some((p) => /^\.+$/.test(p))) return "it has a '.' or '..' segment";
  return undefined;
}

// '%' (percent-encodings, decoded by ARM), '\\' (read as '/' by URL), '?' and '#' (query and fragment),
// whitespace (dropped or encoded by URL), control characters, and invisible format characters
// (bidirectional overrides, zero-width characters) that make two different ids look the same.
const FORBIDDEN_CHARACTER = /[%\\?#\s\p{Cc}\p{Cf}\u2028\u2029]/u;

function describeCharacter(c: string): string {
  if (c === '%') return "'%' (a percent-encoding)";
  if (/[\\?#]/.test(c)) return `'${c}'`;
  return `the character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function parseArmId(value: unknown): ArmResourceId {
  if (typeof value !== 'string')
    throw new InvalidResourceIdError(
      typeof value === 'object' ? (JSON.stringify(value) ?? String(value)) : String(value),
      'it is not a string',
    );
  const problem = canonicalIdProblem(value);
  if (problem) throw new InvalidResourceIdError(value, problem);
  const id = value.endsWith('/') ? value.slice(0, -1) : value;
  const parts = id.split('/').slice(1);

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
  if (!provider || !NAMESPACE.test(provider))
    throw new InvalidResourceIdError(value, 'the resource provider namespace is missing or malformed');
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
