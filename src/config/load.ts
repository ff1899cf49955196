import { readFileSync } from 'node:fs';
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import {
  COSMOS_ACCOUNT_TYPE,
  COSMOS_SQL_BUILTIN_ROLES,
  catalogueEntry,
  catalogueTargetTypes,
  DAPR_COMPONENT_CATALOGUE,
} from '../arm/dapr-components';
import { canonicalGrantTargetType, GRANT_TARGET_API_VERSIONS, SCOPE_KIND_WORDS } from '../arm/grant-targets';
import { environmentRefProblem } from '../arm/managed-environments';
import { isGuid, tryParseArmId } from '../arm/resource-id';
import { canonicalResourceType, isChildResourceType, SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from '../arm/resource-types';
import { RulesFileError } from './errors';
import { buildExemption, expiredExemptionWarnings } from './exemptions';
import { parseCustomRoleValue, parseRoleValue } from './roles';
import {
  NAME_PATTERN,
  type RawDapr,
  type RawRoleEntry,
  type RawRule,
  type RawRulesFile,
  type RawTagScope,
  schemaProblem,
  schemaProblems,
} from './schema';
import { overWideTagScopeReason, TAG_SCOPE_PLACEHOLDERS } from './tag-scope';
import { checkIdentityTemplate, checkScopeTemplate, isGovernedSubscription, templateUses, templateUsesTag } from './templates';
import {
  type DaprOptions,
  DEFAULT_LIFECYCLE,
  DEFAULT_PROPAGATION_MINUTES,
  DEFAULT_WORKLOAD_OPTIONS,
  type Exemption,
  type GovernedScope,
  type IdentityRule,
  type RoleGrantTemplate,
  type RoleProfile,
  type Rule,
  type RulesConfig,
  type RulesWarning,
  type SecretlessOptions,
  type TagScopeConstraint,
  type WorkloadIdentityOptions,
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

/**
 * Parses and validates rules-file text; `sourceName` is only used in messages. `now` only decides which
 * exemptions are reported as expired (a warning); whether one applies is decided at each evaluation.
 */
export function parseRulesText(text: string, sourceName: string, now: Date = new Date()): RulesConfig {
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
  return buildConfig(data as RawRulesFile, sourceName, now, fail);
}

/** One problem of a rules file, as the `validate` command lists them. */
export interface RulesProblem {
  /** e.g. `profiles.kv-reader.roles[0].scope`; empty for the file as a whole. */
  keyPath: string;
  reason: string;
  /** 1-based line in the YAML text, when known. */
  line?: number;
}

export interface RulesValidation {
  problems: RulesProblem[];
  /** Only when there are no problems: warnings need a file that loads. */
  warnings: Array<RulesWarning & { line?: number }>;
}

/**
 * Every problem of a rules file, for the `validate` command (loading stops at the first). Stages run in
 * order and each needs the one before: YAML syntax (all errors), the schema (all errors), then the
 * semantic checks, which go on past a broken profile or rule to the next one. A broken profile still
 * counts as defined, so the rules naming it are not blamed for it.
 */
export function validateRulesText(text: string, sourceName: string, now: Date = new Date()): RulesValidation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        keyPath: '',
        reason: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/:\s*$/, '')}`,
        line: e.linePos?.[0].line,
      })),
      warnings: [],
    };
  }
  const at = (path: KeyPath, reason: string, linePath = path): RulesProblem => ({
    keyPath: formatKeyPath(path),
    reason,
    line: lineOf(doc, lineCounter, linePath),
  });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { problems: [at([], e instanceof Error ? e.message : String(e))], warnings: [] };
  }
  if (data === null || data === undefined) return { problems: [at([], 'the file is empty')], warnings: [] };
  const structural = schemaProblems(data);
  if (structural.length > 0) return { problems: structural.map((p) => at(p.path, p.reason, p.linePath)), warnings: [] };
  const problems: RulesProblem[] = [];
  const fail = (path: KeyPath, reason: string): never => {
    throw new RulesFileError(sourceName, formatKeyPath(path), reason, lineOf(doc, lineCounter, path));
  };
  try {
    const config = buildConfig(data as RawRulesFile, sourceName, now, fail, (e) =>
      problems.push({ keyPath: e.keyPath, reason: e.reason, line: e.line }),
    );
    if (problems.length > 0) return { problems, warnings: [] };
    return {
      problems,
      warnings: (config.warnings ?? []).map((w) => ({ ...w, line: w.path ? lineOf(doc, lineCounter, w.path) : undefined })),
    };
  } catch (e) {
    if (!(e instanceof RulesFileError)) throw e;
    problems.push({ keyPath: e.keyPath, reason: e.reason, line: e.line });
    return { problems, warnings: [] };
  }
}

type Fail = (path: KeyPath, reason: string) => never;
/** Collects a problem and lets validation go on with the next profile or rule. */
type Collect = (problem: RulesFileError) => void;

/** `build()`, or with a collector, `fallback` after handing the problem to it. */
function attempt<T>(collect: Collect | undefined, build: () => T, fallback: () => T): T {
  if (!collect) return build();
  try {
    return build();
  } catch (e) {
    if (!(e instanceof RulesFileError)) throw e;
    collect(e);
    return fallback();
  }
}

function buildConfig(raw: RawRulesFile, source: string, now: Date, fail: Fail, collect?: Collect): RulesConfig {
  const scope = buildScope(raw.scope, fail);
  const profiles = new Map<string, RoleProfile>();
  for (const [name, p] of Object.entries(raw.profiles)) {
    const profile = attempt(
      collect,
      (): RoleProfile => {
        if (!new RegExp(NAME_PATTERN).test(name)) {
          fail(['profiles', name], "profile names must be 1-64 letters, digits, '-' or '_' (they are listed in a comma-separated tag)");
        }
        const roles = p.roles.map((entry, i) => buildGrant(entry, ['profiles', name, 'roles', i], scope, fail));
        return { name, ...(p.description !== undefined ? { description: p.description } : {}), roles };
      },
      () => ({ name, roles: [] }),
    );
    profiles.set(name, profile);
  }
  const seen = new Map<string, number>();
  const rules = raw.rules
    .map((r, i) =>
      attempt<Rule | undefined>(
        collect,
        () => {
          const key = r.name.toLowerCase();
          const first = seen.get(key);
          if (first !== undefined) fail(['rules', i, 'name'], `duplicate rule name '${r.name}' (also used by rules[${first}])`);
          seen.set(key, i);
          return buildRule(r, i, scope, profiles, fail);
        },
        () => undefined,
      ),
    )
    .filter((r): r is Rule => r !== undefined);
  const ruleNames = raw.rules.map((r) => r.name);
  const exemptions = (raw.exemptions ?? [])
    .map((e, i) =>
      attempt<Exemption | undefined>(
        collect,
        () => buildExemption(e, i, ruleNames, fail),
        () => undefined,
      ),
    )
    .filter((e): e is Exemption => e !== undefined);
  return {
    scope,
    profiles,
    rules,
    ...(raw.lifecycle ? { lifecycle: { ...DEFAULT_LIFECYCLE, ...raw.lifecycle } } : {}),
    ...(exemptions.length > 0 ? { exemptions } : {}),
    source,
    warnings: [...identityWarnings(rules), ...tagScopeWarnings(profiles, rules), ...expiredExemptionWarnings(exemptions, now)],
  };
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
    ...(raw.allowOptOut === false ? { allowOptOut: false } : {}),
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
  const kinds = [entry.role, entry.customRole, entry.cosmosDataRole].filter((v) => v !== undefined).length;
  if (kinds !== 1) {
    fail(
      path,
      "needs exactly one of 'role' (a built-in role name, GUID or role definition id), 'customRole' (a custom role name) or 'cosmosDataRole' (a Cosmos DB SQL data-plane role)",
    );
  }
  if (entry.cosmosDataRole !== undefined) return buildCosmosGrant(entry, path, scope, fail);
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

/**
 * A Cosmos DB SQL data-plane role (`cosmosDataRole:`): one of Cosmos DB's built-in SQL roles by name or
 * id, granted on the Cosmos account the scope names (a fixed account id, or a tag-derived one whose
 * tagScope allows only Cosmos accounts). Custom SQL role definitions are not supported: the product
 * could not prove what they allow.
 */
function buildCosmosGrant(entry: RawRoleEntry, path: KeyPath, scope: GovernedScope, fail: Fail): RoleGrantTemplate {
  const wanted = entry.cosmosDataRole!.trim().toLowerCase();
  const role = COSMOS_SQL_BUILTIN_ROLES.find((r) => r.name.toLowerCase() === wanted || r.guid === wanted);
  if (!role) {
    fail(
      [...path, 'cosmosDataRole'],
      `'${entry.cosmosDataRole}' is not a Cosmos DB built-in SQL role (${COSMOS_SQL_BUILTIN_ROLES.map((r) => `${r.name} ${r.guid}`).join(', ')})`,
    );
  }
  const ref = { kind: 'builtin' as const, roleDefinitionGuid: role!.guid, displayName: role!.name };
  const scopeProblem = checkScopeTemplate(entry.scope, scope);
  if (scopeProblem) fail([...path, 'scope'], scopeProblem);
  if (!templateUsesTag(entry.scope)) {
    if (entry.tagScope) fail([...path, 'tagScope'], 'is only allowed when scope takes a value from a tag ({tag:<name>})');
    const fixed = entry.scope.includes('{') ? undefined : tryParseArmId(entry.scope);
    if (fixed && (fixed.kind !== 'resource' || fixed.type?.toLowerCase() !== COSMOS_ACCOUNT_TYPE.toLowerCase())) {
      fail(
        [...path, 'scope'],
        `a Cosmos DB data-plane role is granted on a Cosmos DB account: '${entry.scope}' is not a ${COSMOS_ACCOUNT_TYPE} id`,
      );
    }
    return { role: ref, scope: entry.scope, cosmosSql: true };
  }
  if (!entry.tagScope)
    fail(
      [...path, 'scope'],
      `takes its scope from a tag: declare what it may point at, e.g. tagScope: { resourceTypes: [${COSMOS_ACCOUNT_TYPE}], resourceGroups: ["{resourceGroup}"] }`,
    );
  const tagScope = buildTagScope(entry.tagScope!, [...path, 'tagScope'], scope, fail);
  if (tagScope.resourceTypes.some((t) => t.toLowerCase() !== COSMOS_ACCOUNT_TYPE.toLowerCase())) {
    fail([...path, 'tagScope', 'resourceTypes'], `a Cosmos DB data-plane role can only be granted on ${COSMOS_ACCOUNT_TYPE}`);
  }
  return { role: ref, scope: entry.scope, tagScope, cosmosSql: true };
}

/**
 * A rule's `dapr:` section. Its target constraint is checked like a tagScope (a component's author
 * chooses its metadata as a tagger chooses a tag), with the catalogue's target types as the types.
 */
function buildDapr(raw: RawDapr, path: KeyPath, scope: GovernedScope, identity: IdentityRule, fail: Fail): DaprOptions {
  if (identity.kind === 'UserAssigned' && identity.shared) {
    fail(
      path,
      "is not allowed for a rule with a shared identity: a component one app's environment names would be granted to every app sharing the identity",
    );
  }
  const componentTypes = (raw.componentTypes ?? DAPR_COMPONENT_CATALOGUE.map((e) => e.componentType)).map((t, i) => {
    const entry = catalogueEntry(t);
    if (!entry)
      fail(
        [...path, 'componentTypes', i],
        `'${t}' is not in the Dapr component catalogue (${DAPR_COMPONENT_CATALOGUE.map((e) => e.componentType).join(', ')})`,
      );
    return entry!.componentType;
  });
  const known = catalogueTargetTypes();
  const resourceTypes = (raw.targets.resourceTypes ?? known).map((t, i) => {
    const canonical = known.find((k) => k.toLowerCase() === t.toLowerCase());
    if (!canonical) fail([...path, 'targets', 'resourceTypes', i], `'${t}' is not a Dapr component target type (${known.join(', ')})`);
    return canonical!;
  });
  const targets = buildTagScope({ ...raw.targets, resourceTypes: [] }, [...path, 'targets'], scope, fail, resourceTypes);
  raw.environments?.forEach((e, i) => {
    const problem = environmentRefProblem(e);
    if (problem) fail([...path, 'environments', i], problem);
  });
  return {
    componentTypes: [...new Set(componentTypes)],
    targets,
    azureClientId: raw.azureClientId === true,
    entityManagement: raw.entityManagement === true,
    environments: [...new Set(raw.environments ?? [])],
    unscopedComponents: raw.unscopedComponents ?? 'refuse',
  };
}

/** Checks a `tagScope` declaration: known target types, governed subscriptions, well-formed globs. */
function buildTagScope(raw: RawTagScope, path: KeyPath, scope: GovernedScope, fail: Fail, checkedTypes?: string[]): TagScopeConstraint {
  const known = [...Object.keys(GRANT_TARGET_API_VERSIONS), ...SCOPE_KIND_WORDS];
  const resourceTypes =
    checkedTypes ??
    raw.resourceTypes.map((t, i) => {
      const word = SCOPE_KIND_WORDS.find((w) => w.toLowerCase() === t.toLowerCase());
      const canonical = word ?? canonicalGrantTargetType(t);
      if (!canonical) {
        fail(
          [...path, 'resourceTypes', i],
          `'${t}' is not a type the product can verify before a grant (known: ${known.join(', ')}); management groups are never allowed`,
        );
      }
      return canonical!;
    });
  if (!raw.resourceGroups && !raw.subscriptions) {
    fail(
      path,
      'needs resourceGroups and/or subscriptions: where may the tagged target be? e.g. resourceGroups: ["{resourceGroup}"] for the workload\'s own resource group',
    );
  }
  raw.subscriptions?.forEach((s, i) => {
    if (s === '{subscriptionId}') return;
    if (!isGuid(s))
      fail([...path, 'subscriptions', i], `'${s}' must be a subscription id (a GUID) or {subscriptionId} (the workload's own)`);
    // Under management groups the governed set is only known at run time, where the resolved scope is
    // checked again: listing a subscription here never governs it, it only lets a tag point there.
    if (!isGovernedSubscription(s, scope.subscriptions) && !scope.managementGroups?.length)
      fail([...path, 'subscriptions', i], `'${s}' is not in scope.subscriptions`);
  });
  raw.resourceGroups?.forEach((g, i) => {
    let sample = g;
    for (const p of TAG_SCOPE_PLACEHOLDERS) sample = sample.split(p).join('rg');
    if (!/^[-\w.()*?]{1,90}$/.test(sample)) {
      fail(
        [...path, 'resourceGroups', i],
        `'${g}' must be a resource group name or glob ('*', '?'); placeholders: ${TAG_SCOPE_PLACEHOLDERS.join(', ')}`,
      );
    }
  });
  if (raw.consentTag !== undefined && resourceTypes.includes('subscription')) {
    fail(
      [...path, 'consentTag'],
      "cannot be combined with the 'subscription' type: the consent tag is read from the target resource or resource group",
    );
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
  checkParentName(identity, types, [...path, 'identity', 'userAssigned'], fail);
  if (identity.kind === 'UserAssigned' && identity.shared) {
    // Every sharer holds whatever any one of them is granted, so nothing a tagger controls may add to it.
    if ((raw.tagSelectableProfiles ?? []).length > 0) {
      fail(
        [...path, 'tagSelectableProfiles'],
        "must be empty for a rule with a shared identity: a profile one resource's tag selects would be held by every resource sharing the identity",
      );
    }
    (raw.profiles ?? []).forEach((n, j) => {
      if (profiles.get(n)?.roles.some((g) => templateUsesTag(g.scope))) {
        fail(
          [...path, 'profiles', j],
          `profile '${n}' takes a scope from a tag; a rule with a shared identity cannot use it (one resource's tag would grant every sharer)`,
        );
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
    ...(raw.lifecycle?.revoke ? { lifecycle: { revoke: raw.lifecycle.revoke } } : {}),
    workload: { ...DEFAULT_WORKLOAD_OPTIONS, ...raw.workload },
    ...(raw.workloadIdentity ? { workloadIdentity: buildWorkloadIdentity(raw, types, identity, [...path, 'workloadIdentity'], fail) } : {}),
    ...(raw.dapr ? { dapr: buildDapr(raw.dapr, [...path, 'dapr'], scope, identity, fail) } : {}),
    ...(raw.secretless ? { secretless: buildSecretless(raw, [...path, 'secretless'], fail) } : {}),
  };
}

/** A rule's `secretless:` section: migration writes Dapr components, so it needs the rule's `dapr` section and enforce mode. */
function buildSecretless(raw: RawRule, path: KeyPath, fail: Fail): SecretlessOptions {
  const options = raw.secretless!;
  if (options.migrate && !raw.dapr) fail([...path, 'migrate'], "needs the rule's dapr section: only its components are migrated");
  if (options.migrate && raw.mode === 'report')
    fail([...path, 'migrate'], 'cannot be true in a rule with mode: report (it writes nothing)');
  return { migrate: options.migrate, windowMinutes: options.windowMinutes ?? DEFAULT_PROPAGATION_MINUTES };
}

/** `{parentName}` and `{resourceName}` side by side, or with only a hyphen between them. */
const PARENT_NAME_AMBIGUOUS = /\{parentName\}-?\{resourceName\}|\{resourceName\}-?\{parentName\}/i;

/**
 * `{parentName}` has a value only for child resources (a slot's site): a rule that also matches a
 * top-level type would fail on every such resource at run time, so it is refused now.
 */
function checkParentName(identity: IdentityRule, types: readonly SupportedResourceType[], path: KeyPath, fail: Fail): void {
  if (identity.kind !== 'UserAssigned') return;
  const topLevel = types.filter((t) => !isChildResourceType(t));
  if (topLevel.length === 0) return;
  for (const [key, template] of [
    ['name', identity.nameTemplate],
    ['resourceGroup', identity.resourceGroupTemplate],
  ] as const) {
    if (templateUses(template, 'parentName')) {
      fail(
        [...path, key],
        `uses {parentName}, which only child resources have, but the rule also matches ${topLevel.join(', ')}: list only child types (Microsoft.Web/sites/slots) in match.types`,
      );
    }
  }
}

const AKS_TYPE = 'Microsoft.ContainerService/managedClusters';
/**
 * Kubernetes object names (kubernetes.io docs, "Object Names and IDs"): a namespace is an RFC 1123
 * label (at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit); a
 * service account name is a DNS subdomain (at most 253 such characters and '.').
 */
const K8S_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const K8S_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The `workloadIdentity` section: AKS rules only, service accounts as `namespace/name` in Kubernetes
 * name syntax (they become the federated credential's subject `system:serviceaccount:<ns>:<name>`), and
 * the identities' resource group chosen by the administrator, never by a tag.
 */
function buildWorkloadIdentity(
  raw: RawRule,
  types: readonly string[],
  identity: IdentityRule,
  path: KeyPath,
  fail: Fail,
): WorkloadIdentityOptions {
  const section = raw.workloadIdentity!;
  if (types.length !== 1 || types[0] !== AKS_TYPE) {
    fail(path, `is only for AKS: set match.types to [${AKS_TYPE}]`);
  }
  if (identity.kind !== 'SystemAssigned') {
    fail(
      ['rules', path[1]!, 'identity'],
      "must be { kind: SystemAssigned } for a rule with workloadIdentity: its profiles go to the service accounts' identities, and the cluster's own identity is left as it is",
    );
  }
  const seen = new Set<string>();
  const serviceAccounts = section.serviceAccounts.map((entry, i) => {
    const [namespace, name, ...rest] = entry.split('/');
    if (rest.length > 0 || namespace === undefined || name === undefined)
      fail([...path, 'serviceAccounts', i], `'${entry}' must be <namespace>/<service account name>`);
    if (!K8S_LABEL.test(namespace!))
      fail(
        [...path, 'serviceAccounts', i],
        `namespace '${namespace}' is not a Kubernetes namespace name (at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit)`,
      );
    if (!K8S_SUBDOMAIN.test(name!))
      fail(
        [...path, 'serviceAccounts', i],
        `'${name}' is not a Kubernetes service account name (a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253)`,
      );
    if (seen.has(entry)) fail([...path, 'serviceAccounts', i], `'${entry}' is listed twice`);
    seen.add(entry);
    return { namespace: namespace!, name: name! };
  });
  const resourceGroupTemplate = section.resourceGroup ?? '{resourceGroup}';
  const rgProblem = checkIdentityTemplate(resourceGroupTemplate, 'resourceGroup');
  if (rgProblem) fail([...path, 'resourceGroup'], rgProblem);
  return { serviceAccounts, resourceGroupTemplate, enableOnCluster: section.enableOnCluster === true };
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

/** Over-wide tag scopes (issue 23.8): in profiles' roles and in rules' `dapr.targets`, which components' authors steer. */
function tagScopeWarnings(profiles: ReadonlyMap<string, RoleProfile>, rules: readonly Rule[]): RulesWarning[] {
  const warnings: RulesWarning[] = [];
  const check = (constraint: TagScopeConstraint | undefined, path: KeyPath) => {
    const reason = constraint && overWideTagScopeReason(constraint);
    if (reason) warnings.push({ keyPath: formatKeyPath(path), path, reason });
  };
  for (const [name, profile] of profiles)
    profile.roles.forEach((role, i) => check(role.tagScope, ['profiles', name, 'roles', i, 'tagScope']));
  rules.forEach((rule, i) => check(rule.dapr?.targets, ['rules', i, 'dapr', 'targets']));
  return warnings;
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
    const path: KeyPath = ['rules', i, 'identity', 'userAssigned', 'name'];
    const at = formatKeyPath(path);
    const warn = (reason: string) =>
      warnings.push({
        keyPath: at,
        path,
        reason: `${reason}; every such resource after the first is refused (IdentityNotOwned). Make the name unique per resource, or declare shared: true`,
      });
    const both = [identity.nameTemplate, identity.resourceGroupTemplate];
    if (!templateUses(identity.nameTemplate, 'resourceName'))
      warn(`'${identity.nameTemplate}' does not contain {resourceName}: resources of rule '${rule.name}' would share one identity`);
    else if (!both.some((t) => templateUses(t, 'resourceGroup')))
      warn(
        `neither name nor resourceGroup uses {resourceGroup}: same-named resources in different resource groups would share one identity`,
      );
    else if (rule.match.types.length > 1)
      warn(
        `rule '${rule.name}' matches ${rule.match.types.length} types (${rule.match.types.join(', ')}) with one name template: a resource of each type with the same name would share one identity (use one rule per type with distinct names)`,
      );
    // A slot called `staging` exists on every site: without the site's name, every site's staging slot
    // in one resource group would get the same identity name.
    else if (rule.match.types.some(isChildResourceType) && !both.some((t) => templateUses(t, 'parentName')))
      warn(
        `rule '${rule.name}' matches child resources (${rule.match.types.filter(isChildResourceType).join(', ')}) without {parentName}: same-named children of different parents (every site's 'staging' slot) would share one identity`,
      );
    // Site and slot names may hold hyphens (Learn: resource-name-rules, Microsoft.Web), so joined by one (or
    // nothing) site `web-a` with slot `staging` and site `web` with slot `a-staging` get one name.
    else if (rule.match.types.some(isChildResourceType) && PARENT_NAME_AMBIGUOUS.test(identity.nameTemplate))
      warn(
        `rule '${rule.name}' joins {parentName} and {resourceName} with '-' or nothing: site 'web-a' with slot 'staging' and site 'web' with slot 'a-staging' would share one identity (join them with '_', which neither name may contain)`,
      );
    const key = both.join('\u0000').toLowerCase();
    const first = seen.get(key);
    if (first !== undefined)
      warn(
        `rules[${first}] uses the same identity name and resource group templates: their resources of the same name would share one identity`,
      );
    else seen.set(key, i);
  });
  return warnings;
}

/**
 * 1-based line of the deepest entry on `path` that exists in the document, so messages can point at
 * it. Mapping entries report the line of their key, which is where an administrator will look.
 */
function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<string | number>): number | undefined {
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
