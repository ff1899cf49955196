import { type ArmResourceId, parseArmId } from '../arm/resource-id';
import { IdentityTemplateError, ScopeTemplateError } from './errors';
import { tagScopeProblem } from './tag-scope';
import { tagValue } from './tags';
import type { GovernedScope, Rule, RulesConfig, TagScopeConstraint } from './types';

/**
 * Scope and identity templates: literal text with `{placeholder}`s filled from the resource being
 * processed. Tag values are written by whoever can tag the resource, which is usually less trusted
 * than the administrator who wrote the rules, so the result is re-validated after substitution.
 */
export const KNOWN_PLACEHOLDERS = ['{subscriptionId}', '{resourceGroup}', '{resourceId}', '{resourceName}', '{parentName}', '{tag:<name>}'];

export type Placeholder =
  | { kind: 'subscriptionId' | 'resourceGroup' | 'resourceId' | 'resourceName' | 'parentName' }
  | { kind: 'tag'; tagName: string };

export type TemplatePart = { literal: string } | { placeholder: Placeholder; text: string };

export type TemplateParse = { ok: true; parts: TemplatePart[] } | { ok: false; reason: string };

const SIMPLE = new Set(['subscriptionId', 'resourceGroup', 'resourceId', 'resourceName', 'parentName']);

export function parseTemplate(template: string): TemplateParse {
  const parts: TemplatePart[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) return { ok: false, reason: "has a '}' without a matching '{'" };
    if (open === -1) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const end = rest.indexOf('}', open);
    if (end === -1) return { ok: false, reason: "has a '{' without a matching '}'" };
    const text = rest.slice(open, end + 1);
    const inner = text.slice(1, -1);
    if (inner.includes('{')) return { ok: false, reason: `has a nested '{' in '${text}'` };
    let placeholder: Placeholder | undefined;
    if (SIMPLE.has(inner)) placeholder = { kind: inner as 'subscriptionId' };
    else if (inner.startsWith('tag:') && inner.length > 4) placeholder = { kind: 'tag', tagName: inner.slice(4) };
    if (!placeholder) {
      return { ok: false, reason: `unknown placeholder '${text}' (known: ${KNOWN_PLACEHOLDERS.join(', ')})` };
    }
    parts.push({ placeholder, text });
    rest = rest.slice(end + 1);
  }
  return { ok: true, parts };
}

function isLiteral(parts: TemplatePart[]): boolean {
  return parts.every((p) => 'literal' in p);
}

/** True when any part of the template comes from a tag: the tagger, not the administrator, picks it. */
export function templateUsesTag(template: string): boolean {
  const parsed = parseTemplate(template);
  return parsed.ok && parsed.parts.some((p) => 'placeholder' in p && p.placeholder.kind === 'tag');
}

/** True when the template names `{placeholder}` (e.g. `resourceName`) somewhere. */
export function templateUses(template: string, kind: Exclude<Placeholder['kind'], 'tag'>): boolean {
  const parsed = parseTemplate(template);
  return parsed.ok && parsed.parts.some((p) => 'placeholder' in p && p.placeholder.kind === kind);
}

// ---------------------------------------------------------------------------------------------
// Load-time checks: return a reason, or undefined when the template is acceptable.

/** Checks a scope template when the rules file is loaded. */
export function checkScopeTemplate(template: string, scope: Pick<GovernedScope, 'subscriptions' | 'managementGroups'>): string | undefined {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed.reason;
  const [first] = parsed.parts;
  const startsWithId =
    first !== undefined && 'placeholder' in first && (first.placeholder.kind === 'resourceId' || first.placeholder.kind === 'tag');
  if (!template.startsWith('/') && !startsWithId) {
    return "must start with '/', '{resourceId}' or '{tag:<name>}' (a tag holding a full resource id)";
  }
  if (parsed.parts.slice(1).some((p) => 'placeholder' in p && p.placeholder.kind === 'resourceId')) {
    return "'{resourceId}' may only appear at the start of a scope template";
  }
  // Under management groups any subscription may turn out governed: the load checks the form only, and
  // each remediation checks the filled scope against the subscriptions resolved then.
  const loadTimeProblem = (value: string): string | undefined => {
    const problem = scopeProblem(value, scope.subscriptions);
    return problem && scope.managementGroups?.length && problem.endsWith(NOT_GOVERNED) ? undefined : problem;
  };
  if (isLiteral(parsed.parts)) return loadTimeProblem(template);
  // Fill the placeholders with plausible values so a misspelt literal part (say '/subscription/')
  // is reported now rather than on the first event.
  const sub = scope.subscriptions[0] ?? '00000000-0000-0000-0000-000000000000';
  const sample = parseArmId(`/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Web/sites/name`);
  const probe = fill(template, { resourceId: sample, tags: undefined }, true, true);
  if (!probe.ok) return undefined;
  const problem = loadTimeProblem(probe.value);
  return problem ? `does not produce a valid scope with sample values: ${problem}` : undefined;
}

/** Checks one user-assigned identity template (name or resource group) when the rules file is loaded. */
export function checkIdentityTemplate(template: string, what: 'name' | 'resourceGroup'): string | undefined {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed.reason;
  if (parsed.parts.some((p) => 'placeholder' in p && p.placeholder.kind === 'resourceId')) {
    return "'{resourceId}' cannot be used here: it contains '/'";
  }
  // Whoever tags a resource would choose which identity (and so whose roles) it gets: a tagger could
  // name another team's identity, or its resource group. Identities are named by the administrator only.
  if (parsed.parts.some((p) => 'placeholder' in p && p.placeholder.kind === 'tag')) {
    return `a tag cannot choose the identity's ${what === 'name' ? 'name' : 'resource group'} (whoever tags the resource would pick whose identity it gets); use {resourceName}, {parentName}, {resourceGroup} or literal text`;
  }
  if (isLiteral(parsed.parts)) return what === 'name' ? identityNameProblem(template) : resourceGroupProblem(template);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Result validation, shared by load-time and run-time checks.

/** Why `scope` is not a scope the product may grant on, or undefined if it is fine. */
function scopeProblem(scope: string, subscriptions: readonly string[]): string | undefined {
  // Checked before parsing: parseArmId accepts '..' as a resource name, and a traversal attempt
  // deserves a clear refusal even where ARM would normalise it to something harmless.
  if (scope.includes('..')) return `'${scope}' contains '..'`;
  let id: ArmResourceId;
  try {
    id = parseArmId(scope);
  } catch (err) {
    return (err as Error).message;
  }
  if (id.kind === 'managementGroup' || !id.subscriptionId) {
    return `'${scope}' is a management group scope; roles are only granted inside governed subscriptions`;
  }
  if (!isGovernedSubscription(id.subscriptionId, subscriptions)) {
    return `'${scope}' is in subscription ${id.subscriptionId}, ${NOT_GOVERNED}`;
  }
  return undefined;
}

/**
 * Lower-cased lookup sets of the subscription lists asked about, built once per list: a sweep asks for
 * every row and every grant, and a tenant-scale rules file names 1,000 subscriptions. Rebuilt when
 * the list's length changed (a list still being built).
 */
const governedSets = new WeakMap<readonly string[], { length: number; set: Set<string> }>();
const NOT_GOVERNED = 'which is not in scope.subscriptions nor under scope.managementGroups';

export function isGovernedSubscription(subscriptionId: string, subscriptions: readonly string[]): boolean {
  let cached = governedSets.get(subscriptions);
  if (!cached || cached.length !== subscriptions.length) {
    cached = { length: subscriptions.length, set: new Set(subscriptions.map((s) => s.toLowerCase())) };
    governedSets.set(subscriptions, cached);
  }
  return cached.set.has(subscriptionId.toLowerCase());
}

// User-assigned identity names: 3-128 characters, letters, digits, '-' and '_', starting with a letter or digit.
const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;

function identityNameProblem(name: string): string | undefined {
  return IDENTITY_NAME.test(name)
    ? undefined
    : `'${name}' is not a valid identity name (3-128 letters, digits, '-' or '_', starting with a letter or digit)`;
}

function resourceGroupProblem(name: string): string | undefined {
  // The resource group rules live in parseArmId; reuse them rather than keep a second copy.
  const probe = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${name}`;
  try {
    if (parseArmId(probe).kind === 'resourceGroup') return undefined;
  } catch {
    // fall through
  }
  return `'${name}' is not a valid resource group name`;
}

// ---------------------------------------------------------------------------------------------
// Run-time resolution.

export interface TemplateContext {
  readonly resourceId: ArmResourceId;
  readonly tags: Readonly<Record<string, string>> | undefined;
}

/** The value of one placeholder, or the reason it has none. */
function placeholderValue(p: Placeholder, ctx: TemplateContext): string | { missing: string } {
  switch (p.kind) {
    case 'subscriptionId':
      return ctx.resourceId.subscriptionId ?? { missing: 'the resource has no subscription id' };
    case 'resourceGroup':
      return ctx.resourceId.resourceGroup ?? { missing: 'the resource has no resource group' };
    case 'resourceId':
      return ctx.resourceId.id;
    case 'resourceName':
      return ctx.resourceId.name ?? { missing: 'the resource has no name' };
    case 'parentName':
      return (
        parentNameOf(ctx.resourceId) ?? {
          missing: 'the resource has no parent (only a child resource, such as a deployment slot, has one)',
        }
      );
    case 'tag': {
      const value = tagValue(ctx.tags, p.tagName)?.trim();
      if (value === undefined) return { missing: `the resource has no '${p.tagName}' tag` };
      if (value === '') return { missing: `the resource's '${p.tagName}' tag is empty` };
      return value;
    }
  }
}

/**
 * The name of the resource a child resource belongs to (`web1` for `.../sites/web1/slots/staging`):
 * a slot called `staging` exists on every site, so only the parent's name keeps identity names of
 * slots apart across sites. Undefined for a top-level resource.
 */
function parentNameOf(id: ArmResourceId): string | undefined {
  return id.isChild ? id.segments[id.segments.length - 2]!.name : undefined;
}

type Fill = { ok: true; value: string } | { ok: false; unresolved: string } | { ok: false; refused: string };

/**
 * Substitutes placeholders. Only a placeholder that starts the template may contribute '/': anywhere
 * else a value must stay one path segment, so a tag cannot re-route a grant to another path.
 */
function fill(
  template: string,
  ctx: TemplateContext,
  allowLeadingId: boolean,
  // Load-time probing only: tag values are unknown until an event arrives, so stand-ins are used
  // (a leading tag holds a full resource id, any other tag a single name).
  probeTags = false,
): Fill {
  const parsed = parseTemplate(template);
  // Templates were checked at load; this only trips on a RulesConfig built by hand.
  if (!parsed.ok) return { ok: false, unresolved: parsed.reason };
  let out = '';
  for (const [index, part] of parsed.parts.entries()) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    const value =
      probeTags && part.placeholder.kind === 'tag' ? (index === 0 ? ctx.resourceId.id : 'x') : placeholderValue(part.placeholder, ctx);
    if (typeof value !== 'string') return { ok: false, unresolved: value.missing };
    if (value.includes('/') && !(allowLeadingId && index === 0)) {
      return { ok: false, refused: `${part.text} holds '${value}', which contains '/' where a single name is expected` };
    }
    out += value;
  }
  return { ok: true, value: out };
}

/**
 * Fills a scope template and proves the result is a well-formed scope inside a governed subscription
 * and, when a tag contributed to it, inside what the administrator declared for that tag (`tagScope`).
 */
export function resolveScopeTemplate(
  template: string,
  ctx: TemplateContext,
  config: Pick<RulesConfig, 'scope'>,
  tagScope?: TagScopeConstraint,
): string {
  const filled = fill(template, ctx, true);
  if (!filled.ok) {
    throw 'unresolved' in filled
      ? new ScopeTemplateError('ScopeTemplateUnresolved', template, filled.unresolved)
      : new ScopeTemplateError('ScopeOutsideGovernedSubscriptions', template, filled.refused);
  }
  const problem = scopeProblem(filled.value, config.scope.subscriptions);
  if (problem) throw new ScopeTemplateError('ScopeOutsideGovernedSubscriptions', template, problem);
  const scope = parseArmId(filled.value);
  if (templateUsesTag(template)) {
    // The loader refuses a tag scope without a declaration; this only trips on a hand-built config.
    if (!tagScope) throw new ScopeTemplateError('TagScopeNotAllowed', template, 'a scope taken from a tag needs a tagScope declaration');
    const refused = tagScopeProblem(scope, tagScope, ctx.resourceId);
    if (refused) throw new ScopeTemplateError('TagScopeNotAllowed', template, refused);
  }
  return scope.id;
}

/** Name and resource group of the user-assigned identity a rule wants for this resource. */
export function resolveIdentityTemplate(rule: Pick<Rule, 'identity'>, ctx: TemplateContext): { name: string; resourceGroup: string } {
  const identity = rule.identity;
  if (identity.kind !== 'UserAssigned') {
    throw new IdentityTemplateError('IdentityTemplateInvalid', '', 'the rule uses a system-assigned identity');
  }
  return {
    name: resolveIdentityPart(identity.nameTemplate, ctx, identityNameProblem),
    resourceGroup: resolveIdentityPart(identity.resourceGroupTemplate, ctx, resourceGroupProblem),
  };
}

/** A resource group for identities from an administrator's template (`{resourceGroup}` or literal). */
export function resolveIdentityResourceGroup(template: string, ctx: TemplateContext): string {
  return resolveIdentityPart(template, ctx, resourceGroupProblem);
}

function resolveIdentityPart(template: string, ctx: TemplateContext, problemOf: (v: string) => string | undefined): string {
  const filled = fill(template, ctx, false);
  if (!filled.ok) {
    throw 'unresolved' in filled
      ? new IdentityTemplateError('ScopeTemplateUnresolved', template, filled.unresolved)
      : new IdentityTemplateError('IdentityTemplateInvalid', template, filled.refused);
  }
  const problem = problemOf(filled.value);
  if (problem) throw new IdentityTemplateError('IdentityTemplateInvalid', template, problem);
  return filled.value;
}
