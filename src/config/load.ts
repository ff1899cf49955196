import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import { RulesFileError } from './errors';
import { canonicalResourceType, SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from '../arm/resource-types';
import { parseCustomRoleValue, parseRoleValue } from './roles';
import { canonicalGrantTargetType, GRANT_TARGET_API_VERSIONS, SCOPE_KIND_WORDS } from '../arm/grant-targets';
import { isGuid } from '../arm/resource-id';
import { NAME_PATTERN, schemaProblem, type RawRoleEntry, type RawRule, type RawRulesFile, type RawTagScope } from './schema';
import { TAG_SCOPE_PLACEHOLDERS } from './tag-scope';
import { checkIdentityTemplate, checkScopeTemplate, isGovernedSubscription, templateUses, templateUsesTag } from './templates';
import {
  DEFAULT_WORKLOAD_OPTIONS,
  type GovernedScope,
  type IdentityRule,
  type RoleGrantTemplate,
  type RoleProfile,
  type Rule,
  type RulesConfig,
  type RulesWarning,
  type TagScopeConstraint,
} from './types';

export const DEFAULT_OPT_OUT_TAG = 'identity-autopilot-optout';
export const DEFAULT_PROFILE_TAG = 'identity-autopilot-profiles';

type KeyPath = Array<string | number>;

/** `['profiles', 'kv-reader', 'roles', 0, 'scope']` -> `profiles.kv-reader.roles[0].scope`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Reads and validates the rules file. Synchronous: it runs once, at start-up, before any event. */
export function loadRulesFile(path: string): RulesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesFileError(path, '', `cannot read the file: ${(err as Error).message}`);
  }
  return parseRulesText(text, path);
}

/** Parses and validates rules-file text; `sourceName` is only used in messages. */
export function parseRulesText(text: string, sourceName: string): RulesConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    // The first line of a pretty error already says "at line L, column C"; the rest is a source excerpt.
    const reason = `YAML syntax error: ${syntax.message.split('\n')[0]!.replace(/:\s*$/, '')}`;
    throw new RulesFileError(sourceName, '', reason, syntax.linePos?.[0].line);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const fail = (path: KeyPath, reason: string, linePath = path): never => {
    throw new RulesFileError(sourceName, formatKeyPath(path), reason, lineOf(doc, lineCounter, linePath));
  };
  if (data === null || data === undefined) fail([], 'the file is empty');
  const problem = schemaProblem(data);
  if (problem) fail(problem.path, problem.reason, problem.linePath);
  return buildConfig(data as RawRulesFile, sourceName, fail);
}

type Fail = (path: KeyPath, reason: string) => never;

function buildConfig(raw: RawRulesFile, source: string, fail: Fail): RulesConfig {
  const scope = buildScope(raw.scope, fail);
  const profiles = new Map<string, RoleProfile>();
  for (const [name, p] of Object.entries(raw.profiles)) {
    if (!new RegExp(NAME_PATTERN).test(name)) {
      fail(['profiles', name], "profile names must be 1-64 letters, digits, '-' or '_' (they are listed in a comma-separated tag)");
    }
    const roles = p.roles.map((entry, i) => buildGrant(entry, ['profiles', name, 'roles', i], scope, fail));
    profiles.set(name, { name, ...(p.description !== undefined ? { description: p.description } : {}), roles });
  }
  const seen = new Map<string, number>();
  const rules = raw.rules.map((r, i) => {
    const key = r.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) fail(['rules', i, 'name'], `duplicate rule name '${r.name}' (also used by rules[${first}])`);
    seen.set(key, i);
    return buildRule(r, i, scope, profiles, fail);
  });
  return { scope, profiles, rules, source, warnings: identityWarnings(rules) };
}

function buildScope(raw: RawRulesFile['scope'], fail: Fail): GovernedScope {
  const resourceTypes = raw.resourceTypes
    ? canonicalTypes(raw.resourceTypes, ['scope', 'resourceTypes'], SUPPORTED_RESOURCE_TYPES, 'is not a supported resource type', fail)
    : [...SUPPORTED_RESOURCE_TYPES];
  const optOutTag = raw.optOutTag ?? DEFAULT_OPT_OUT_TAG;
  const profileTag = raw.profileTag ?? DEFAULT_PROFILE_TAG;
  if (optOutTag.toLowerCase() === profileTag.toLowerCase()) {
    fail(['scope', 'profileTag'], 'must differ from scope.optOutTag');
  }
  // Management group ids compare case-insensitively in ARM; duplicates would only cost extra lookups.
  const managementGroups: string[] = [];
  raw.managementGroups?.forEach((g, i) => {
    if (managementGroups.some((m) => m.toLowerCase() === g.toLowerCase())) fail(['scope', 'managementGroups', i], `'${g}' is listed twice`);
    managementGroups.push(g);
  });
  return {
    subscriptions: (raw.subscriptions ?? []).map((s) => (s === '{subscriptionId}' ? s : s.toLowerCase())),
    ...(managementGroups.length > 0 ? { managementGroups } : {}),
    resourceGroups: raw.resourceGroups ?? ['*'],
    resourceTypes,
    optOutTag,
    profileTag,
  };
}

/** Canonical spellings of `types`, each of which must be one of `allowed`. Duplicates are dropped. */
function canonicalTypes(
  types: string[],
  path: KeyPath,
  allowed: readonly SupportedResourceType[],
  notAllowed: string,
  fail: Fail,
): SupportedResourceType[] {
  const out: SupportedResourceType[] = [];
  types.forEach((t, i) => {
    const canonical = canonicalResourceType(t);
    if (!canonical || !allowed.includes(canonical)) fail([...path, i], `'${t}' ${notAllowed} (${allowed.join(', ')})`);
    if (!out.includes(canonical)) out.push(canonical);
  });
  return out;
}

function buildGrant(entry: RawRoleEntry, path: KeyPath, scope: GovernedScope, fail: Fail): RoleGrantTemplate {
  if ((entry.role === undefined) === (entry.customRole === undefined)) {
    fail(path, "needs exactly one of 'role' (a built-in role name, GUID or role definition id) or 'customRole' (a custom role name)");
  }
  const parsed = entry.role !== undefined ? parseRoleValue(entry.role) : parseCustomRoleValue(entry.customRole!);
  if (!parsed.ok) fail([...path, entry.role !== undefined ? 'role' : 'customRole'], parsed.reason);
  const scopeProblem = checkScopeTemplate(entry.scope, scope);
  if (scopeProblem) fail([...path, 'scope'], scopeProblem);
  if (!templateUsesTag(entry.scope)) {
    if (entry.tagScope) fail([...path, 'tagScope'], 'is only allowed when scope takes a value from a tag ({tag:<name>})');
    return { role: parsed.ref, scope: entry.scope };
  }
  if (!entry.tagScope) {
    fail(
      [...path, 'scope'],
      `takes its scope from a tag, whose value whoever tags the resource chooses: declare what it may point at, e.g. ` +
        `tagScope: { resourceTypes: [Microsoft.KeyVault/vaults], resourceGroups: ["{resourceGroup}"] } (a vault in the workload's own resource group)`,
    );
  }
  return { role: parsed.ref, scope: entry.scope, tagScope: buildTagScope(entry.tagScope!, [...path, 'tagScope'], scope, fail) };
}

/** Checks a `tagScope` declaration: known target types, governed subscriptions, well-formed globs. */
function buildTagScope(raw: RawTagScope, path: KeyPath, scope: GovernedScope, fail: Fail): TagScopeConstraint {
  const known = [...Object.keys(GRANT_TARGET_API_VERSIONS), ...SCOPE_KIND_WORDS];
  const resourceTypes = raw.resourceTypes.map((t, i) => {
    const word = SCOPE_KIND_WORDS.find((w) => w.toLowerCase() === t.toLowerCase());
    const canonical = word ?? canonicalGrantTargetType(t);
    if (!canonical) {
      fail([...path, 'resourceTypes', i], `'${t}' is not a type the product can verify before a grant (known: ${known.join(', ')}); management groups are never allowed`);
    }
    return canonical!;
  });
  if (!raw.resourceGroups && !raw.subscriptions) {
    fail(path, 'needs resourceGroups and/or subscriptions: where may the tagged target be? e.g. resourceGroups: ["{resourceGroup}"] for the workload\'s own resource group');
  }
  raw.subscriptions?.forEach((s, i) => {
    if (s === '{subscriptionId}') return;
    if (!isGuid(s)) fail([...path, 'subscriptions', i], `'${s}' must be a subscription id (a GUID) or {subscriptionId} (the workload's own)`);
    // Under management groups the governed set is only known at run time, where the resolved scope is
    // checked again: listing a subscription here never governs it, it only lets a tag point there.
    if (!isGovernedSubscription(s, scope.subscriptions) && !scope.managementGroups?.length) fail([...path, 'subscriptions', i], `'${s}' is not in scope.subscriptions`);
  });
  raw.resourceGroups?.forEach((g, i) => {
    let sample = g;
    for (const p of TAG_SCOPE_PLACEHOLDERS) sample = sample.split(p).join('rg');
    if (!/^[-\w.()*?]{1,90}$/.test(sample)) {
      fail([...path, 'resourceGroups', i], `'${g}' must be a resource group name or glob ('*', '?'); placeholders: ${TAG_SCOPE_PLACEHOLDERS.join(', ')}`);
    }
  });
  if (raw.consentTag !== undefined && resourceTypes.includes('subscription')) {
    fail([...path, 'consentTag'], "cannot be combined with the 'subscription' type: the consent tag is read from the target resource or resource group");
  }
  return {
    resourceTypes: [...new Set(resourceTypes)],
    ...(raw.resourceGroups ? { resourceGroups: raw.resourceGroups } : {}),
    ...(raw.subscriptions ? { subscriptions: raw.subscriptions.map((s) => (s === '{subscriptionId}' ? s : s.toLowerCase())) } : {}),
    ...(raw.consentTag !== undefined ? { consentTag: raw.consentTag } : {}),
  };
}

function buildRule(raw: RawRule, i: number, scope: GovernedScope, profiles: ReadonlyMap<string, RoleProfile>, fail: Fail): Rule {
  const path: KeyPath = ['rules', i];
  const types = raw.match?.types
    ? canonicalTypes(raw.match.types, [...path, 'match', 'types'], scope.resourceTypes, 'is not one of scope.resourceTypes', fail)
    : [...scope.resourceTypes];
  const checkProfiles = (names: string[] | undefined, key: string): string[] => {
    (names ?? []).forEach((n, j) => {
      if (!profiles.has(n)) fail([...path, key, j], `profile '${n}' is not defined under profiles`);
    });
    return [...new Set(names ?? [])];
  };
  const identity = buildIdentity(raw.identity, [...path, 'identity'], fail);
  if (identity.kind === 'UserAssigned' && identity.shared) {
    // Every sharer holds whatever any one of them is granted, so nothing a tagger controls may add to it.
    if ((raw.tagSelectableProfiles ?? []).length > 0) {
      fail([...path, 'tagSelectableProfiles'], 'must be empty for a rule with a shared identity: a profile one resource\'s tag selects would be held by every resource sharing the identity');
    }
    (raw.profiles ?? []).forEach((n, j) => {
      if (profiles.get(n)?.roles.some((g) => templateUsesTag(g.scope))) {
        fail([...path, 'profiles', j], `profile '${n}' takes a scope from a tag; a rule with a shared identity cannot use it (one resource's tag would grant every sharer)`);
      }
    });
  }
  return {
    name: raw.name,
    match: { types, resourceGroups: raw.match?.resourceGroups ?? ['*'], tags: raw.match?.tags ?? {} },
    identity,
    profiles: checkProfiles(raw.profiles, 'profiles'),
    tagSelectableProfiles: checkProfiles(raw.tagSelectableProfiles, 'tagSelectableProfiles'),
    mode: raw.mode ?? 'enforce',
    workload: { ...DEFAULT_WORKLOAD_OPTIONS, ...raw.workload },
  };
}

function buildIdentity(raw: RawRule['identity'], path: KeyPath, fail: Fail): IdentityRule {
  if (raw.kind === 'SystemAssigned') {
    if (raw.userAssigned) fail([...path, 'userAssigned'], 'is only allowed when kind is UserAssigned');
    return { kind: 'SystemAssigned' };
  }
  if (!raw.userAssigned) return fail([...path, 'userAssigned'], 'is required when kind is UserAssigned');
  const nameTemplate = raw.userAssigned.name;
  const resourceGroupTemplate = raw.userAssigned.resourceGroup ?? '{resourceGroup}';
  const nameProblem = checkIdentityTemplate(nameTemplate, 'name');
  if (nameProblem) fail([...path, 'userAssigned', 'name'], nameProblem);
  const rgProblem = checkIdentityTemplate(resourceGroupTemplate, 'resourceGroup');
  if (rgProblem) fail([...path, 'userAssigned', 'resourceGroup'], rgProblem);
  return { kind: 'UserAssigned', nameTemplate, resourceGroupTemplate, ...(raw.userAssigned.shared ? { shared: true } : {}) };
}

/**
 * Identity templates that give two different resources the same identity. Ownership is bound to one
 * resource, so the second resource would be refused (IdentityNotOwned) at run time: say so at start-up.
 * An identity is unique per resource when its id varies with the resource's type, resource group and name.
 */
function identityWarnings(rules: readonly Rule[]): RulesWarning[] {
  const warnings: RulesWarning[] = [];
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    const identity = rule.identity;
    if (identity.kind !== 'UserAssigned' || identity.shared) return;
    const at = formatKeyPath(['rules', i, 'identity', 'userAssigned', 'name']);
    const warn = (reason: string) => warnings.push({ keyPath: at, reason: `${reason}; every such resource after the first is refused (IdentityNotOwned). Make the name unique per resource, or declare shared: true` });
    const both = [identity.nameTemplate, identity.resourceGroupTemplate];
    if (!templateUses(identity.nameTemplate, 'resourceName')) warn(`'${identity.nameTemplate}' does not contain {resourceName}: resources of rule '${rule.name}' would share one identity`);
    else if (!both.some((t) => templateUses(t, 'resourceGroup'))) warn(`neither name nor resourceGroup uses {resourceGroup}: same-named resources in different resource groups would share one identity`);
    else if (rule.match.types.length > 1) warn(`rule '${rule.name}' matches ${rule.match.types.length} types (${rule.match.types.join(', ')}) with one name template: a resource of each type with the same name would share one identity (use one rule per type with distinct names)`);
    const key = both.join('\u0000').toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) warn(`rules[${first}] uses the same identity name and resource group templates: their resources of the same name would share one identity`);
    else seen.set(key, i);
  });
  return warnings;
}

/**
 * 1-based line of the deepest entry on `path` that exists in the document, so messages can point at
 * it. Mapping entries report the line of their key, which is where an administrator will look.
 */
function lineOf(doc: Document, counter: LineCounter, path: KeyPath): number | undefined {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (isNode(pair.key) && pair.key.range) line = counter.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (isNode(node) && node.range) line = counter.linePos(node.range[0]).line;
    } else {
      break;
    }
  }
  return line;
}
