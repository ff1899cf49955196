import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import { RulesFileError } from './errors';
import { canonicalResourceType, SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from '../arm/resource-types';
import { parseCustomRoleValue, parseRoleValue } from './roles';
import { NAME_PATTERN, schemaProblem, type RawRoleEntry, type RawRule, type RawRulesFile } from './schema';
import { checkIdentityTemplate, checkScopeTemplate } from './templates';
import { DEFAULT_WORKLOAD_OPTIONS, type GovernedScope, type IdentityRule, type RoleGrantTemplate, type RoleProfile, type Rule, type RulesConfig } from './types';

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
  return { scope, profiles, rules, source };
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
  return {
    subscriptions: raw.subscriptions.map((s) => s.toLowerCase()),
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
  return { role: parsed.ref, scope: entry.scope };
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
  return {
    name: raw.name,
    match: { types, resourceGroups: raw.match?.resourceGroups ?? ['*'], tags: raw.match?.tags ?? {} },
    identity: buildIdentity(raw.identity, [...path, 'identity'], fail),
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
  return { kind: 'UserAssigned', nameTemplate, resourceGroupTemplate };
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
