import Ajv, { type ErrorObject } from 'ajv';

/**
 * The structural half of rules-file validation. Semantic checks (profiles exist, roles are allowed,
 * templates resolve) live in load.ts. Every object sets additionalProperties: false so a misspelt
 * key is reported instead of silently ignored: a typo in `tagSelectableProfiles` must not widen
 * or narrow what a tag can do without anyone noticing.
 */

const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const GLOB_PATTERN = '^[-\\w.()*?]{1,90}$';
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
// A management group id (its name, not its display name): 1-90 ASCII letters, digits, '-', '_', '(',
// ')' and '.', not ending in '.'. Sources: Learn "Naming rules and restrictions for Azure resources"
// (Microsoft.Management/managementGroups) and Terraform azurerm `managementgroup/validate` (`^[a-zA-Z0-9_().-]{1,90}$`).
const MANAGEMENT_GROUP_PATTERN = '^[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]$';
// An exemption's `expiresOn`: a date and time with its zone, as Azure Policy's `expiresOn` ("UTC ISO 8601
// format yyyy-MM-ddTHH:mm:ssZ", policyExemptions.json 2022-07-01-preview). A bare date is refused: whether
// `2026-09-30` means the start or the end of that day (and in which zone) is exactly what must not be guessed.
const DATE_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';
// Resource names vary by type; this excludes only what no ARM name segment holds (as resource-id.ts does), keeping a glob's '*' and '?'.
const NAME_GLOB_PATTERN = '^[^\\s/#%&\\\\<>:]{1,260}$';

/** Human reasons for the patterns above, since ajv can only say "must match pattern ...". */
const PATTERN_REASONS: Record<string, string> = {
  [GUID_PATTERN]: 'must be a subscription id (a GUID)',
  [GLOB_PATTERN]: "must be a resource group name or glob (up to 90 letters, digits, '-', '_', '.', '(', ')', '*' or '?')",
  [NAME_PATTERN]: "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit",
  [MANAGEMENT_GROUP_PATTERN]:
    "must be a management group id (its name, not its display name): 1-90 letters, digits, '-', '_', '(', ')' or '.', not ending in '.'",
  [DATE_TIME_PATTERN]: 'must be a date and time with its zone, e.g. 2026-09-30T00:00:00Z (ISO 8601, as Azure Policy exemptions use)',
  [NAME_GLOB_PATTERN]: "must be a resource name or glob ('*', '?'), without spaces, '/', '#', '%', '&', '\\\\', '<', '>' or ':'",
};

export { NAME_PATTERN };

const nonEmptyString = { type: 'string', minLength: 1 } as const;
const stringList = { type: 'array', items: nonEmptyString } as const;
const globList = { type: 'array', minItems: 1, items: { type: 'string', pattern: GLOB_PATTERN } } as const;
const tagName = { type: 'string', minLength: 1, maxLength: 512 } as const;

/** What a tag-derived scope may point at (see TagScopeConstraint); checked further in load.ts. */
const tagScope = {
  type: 'object',
  additionalProperties: false,
  required: ['resourceTypes'],
  properties: {
    resourceTypes: { type: 'array', minItems: 1, items: nonEmptyString },
    resourceGroups: { type: 'array', minItems: 1, items: nonEmptyString },
    subscriptions: { type: 'array', minItems: 1, items: nonEmptyString },
    consentTag: tagName,
  },
} as const;

const roleEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['scope'],
  properties: {
    role: nonEmptyString,
    customRole: nonEmptyString,
    cosmosDataRole: nonEmptyString,
    scope: nonEmptyString,
    tagScope,
  },
} as const;

const profile = {
  type: 'object',
  additionalProperties: false,
  required: ['roles'],
  properties: {
    description: { type: 'string' },
    roles: { type: 'array', minItems: 1, items: roleEntry },
  },
} as const;

/** `lifecycle:` globally and per rule: what happens to owned grants the rules no longer give. */
const revokeMode = { enum: ['report', 'enforce'] } as const;

const rule = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'identity'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    match: {
      type: 'object',
      additionalProperties: false,
      properties: {
        types: { type: 'array', minItems: 1, items: nonEmptyString },
        resourceGroups: globList,
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    identity: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['SystemAssigned', 'UserAssigned'] },
        userAssigned: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: nonEmptyString, resourceGroup: nonEmptyString, shared: { type: 'boolean' } },
        },
      },
    },
    profiles: stringList,
    tagSelectableProfiles: stringList,
    mode: { enum: ['enforce', 'report'] },
    lifecycle: { type: 'object', additionalProperties: false, properties: { revoke: revokeMode } },
    workload: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowRestart: { type: 'boolean' },
        aksPrincipal: { enum: ['kubelet', 'cluster'] },
        upgradeInstances: { type: 'boolean' },
      },
    },
    workloadIdentity: {
      type: 'object',
      additionalProperties: false,
      required: ['serviceAccounts'],
      properties: {
        // `namespace/name`; checked further in load.ts (Kubernetes name rules).
        serviceAccounts: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 3, maxLength: 317 } },
        resourceGroup: nonEmptyString,
        enableOnCluster: { type: 'boolean' },
      },
    },
    dapr: {
      type: 'object',
      additionalProperties: false,
      required: ['targets'],
      properties: {
        componentTypes: { type: 'array', minItems: 1, items: nonEmptyString },
        targets: {
          type: 'object',
          additionalProperties: false,
          properties: {
            resourceTypes: { type: 'array', minItems: 1, items: nonEmptyString },
            resourceGroups: { type: 'array', minItems: 1, items: nonEmptyString },
            subscriptions: { type: 'array', minItems: 1, items: nonEmptyString },
            consentTag: tagName,
          },
        },
        azureClientId: { type: 'boolean' },
        entityManagement: { type: 'boolean' },
        // Managed environment ids or names (checked further in load.ts); the app's own resource group's are always honoured.
        environments: { type: 'array', minItems: 1, maxItems: 50, items: nonEmptyString },
        unscopedComponents: { enum: ['allow', 'refuse'] },
      },
    },
    // Issue 25 item 4: the app moves this rule's Dapr components off their keys itself (needs `dapr`; checked in load.ts).
    secretless: {
      type: 'object',
      additionalProperties: false,
      required: ['migrate'],
      properties: {
        migrate: { type: 'boolean' },
        // Role assignments can take minutes to apply; a day is far beyond any documented delay.
        windowMinutes: { type: 'integer', minimum: 0, maximum: 1440 },
      },
    },
  },
} as const;

/**
 * One `exemptions:` entry (see Exemption in types.ts). Exactly one of resourceId, resourceGroup and name
 * is checked in load.ts, where the message can name all three.
 */
const exemption = {
  type: 'object',
  additionalProperties: false,
  required: ['reason', 'category'],
  properties: {
    resourceId: { type: 'string', minLength: 1, maxLength: 2048 },
    resourceGroup: { type: 'string', pattern: GLOB_PATTERN },
    name: { type: 'string', pattern: NAME_GLOB_PATTERN },
    // Shown in plans, outcomes and reports; Azure caps an exemption's description at 1024 characters.
    reason: { type: 'string', minLength: 1, maxLength: 1024 },
    category: { enum: ['waiver', 'mitigated'] },
    expiresOn: { type: 'string', pattern: DATE_TIME_PATTERN },
    rules: { type: 'array', minItems: 1, items: { type: 'string', pattern: NAME_PATTERN } },
  },
} as const;

export const RULES_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'scope', 'profiles', 'rules'],
  properties: {
    version: { const: 1 },
    scope: {
      type: 'object',
      additionalProperties: false,
      // At least one of the two; either alone is enough (a management group governs every subscription under it).
      // (Each branch names its key under `properties` too: ajv's strict mode wants required keys defined.)
      anyOf: [
        { required: ['subscriptions'], properties: { subscriptions: true } },
        { required: ['managementGroups'], properties: { managementGroups: true } },
      ],
      properties: {
        subscriptions: { type: 'array', minItems: 1, items: { type: 'string', pattern: GUID_PATTERN } },
        managementGroups: { type: 'array', minItems: 1, items: { type: 'string', pattern: MANAGEMENT_GROUP_PATTERN } },
        resourceGroups: globList,
        resourceTypes: { type: 'array', minItems: 1, items: nonEmptyString },
        optOutTag: tagName,
        // false: the opt-out tag is ignored; only `exemptions:` (in this file) exempt a resource.
        allowOptOut: { type: 'boolean' },
        profileTag: tagName,
      },
    },
    profiles: { type: 'object', additionalProperties: profile },
    rules: { type: 'array', items: rule },
    lifecycle: {
      type: 'object',
      additionalProperties: false,
      properties: { revoke: revokeMode, maxRevocations: { type: 'integer', minimum: 0 } },
    },
    exemptions: { type: 'array', items: exemption },
  },
} as const;

/** The file as the schema guarantees it, before defaults and semantic checks. */
export interface RawTagScope {
  resourceTypes: string[];
  resourceGroups?: string[];
  subscriptions?: string[];
  consentTag?: string;
}
export interface RawRoleEntry {
  role?: string;
  customRole?: string;
  cosmosDataRole?: string;
  scope: string;
  tagScope?: RawTagScope;
}
export interface RawRule {
  name: string;
  match?: { types?: string[]; resourceGroups?: string[]; tags?: Record<string, string> };
  identity: { kind: 'SystemAssigned' | 'UserAssigned'; userAssigned?: { name: string; resourceGroup?: string; shared?: boolean } };
  profiles?: string[];
  tagSelectableProfiles?: string[];
  mode?: 'enforce' | 'report';
  lifecycle?: { revoke?: 'report' | 'enforce' };
  workload?: { allowRestart?: boolean; aksPrincipal?: 'kubelet' | 'cluster'; upgradeInstances?: boolean };
  workloadIdentity?: { serviceAccounts: string[]; resourceGroup?: string; enableOnCluster?: boolean };
  dapr?: RawDapr;
  secretless?: { migrate: boolean; windowMinutes?: number };
}
export interface RawDapr {
  componentTypes?: string[];
  targets: { resourceTypes?: string[]; resourceGroups?: string[]; subscriptions?: string[]; consentTag?: string };
  azureClientId?: boolean;
  entityManagement?: boolean;
  environments?: string[];
  unscopedComponents?: 'allow' | 'refuse';
}
export interface RawExemption {
  resourceId?: string;
  resourceGroup?: string;
  name?: string;
  reason: string;
  category: 'waiver' | 'mitigated';
  expiresOn?: string;
  rules?: string[];
}
export interface RawRulesFile {
  version: 1;
  scope: {
    subscriptions?: string[];
    managementGroups?: string[];
    resourceGroups?: string[];
    resourceTypes?: string[];
    optOutTag?: string;
    allowOptOut?: boolean;
    profileTag?: string;
  };
  profiles: Record<string, { description?: string; roles: RawRoleEntry[] }>;
  rules: RawRule[];
  lifecycle?: { revoke?: 'report' | 'enforce'; maxRevocations?: number };
  exemptions?: RawExemption[];
}

let validator: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

export interface SchemaProblem {
  path: Array<string | number>;
  reason: string;
  /** Where to look for a line number when it differs from `path` (an unknown key's own line). */
  linePath?: Array<string | number>;
}

/** Validates structure; returns the first problem as a path and a reason, or undefined. */
export function schemaProblem(data: unknown): SchemaProblem | undefined {
  validator ??= new Ajv({ allErrors: false, strict: true, verbose: true /* parentSchema, for the "expected one of" hint */ }).compile(
    RULES_FILE_SCHEMA,
  );
  if (validator(data)) return undefined;
  const error = validator.errors?.[0];
  if (!error) return { path: [], reason: 'does not match the rules file schema' };
  return translate(error, data);
}

let allErrorsValidator: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

/**
 * Every structural problem, not only the first (the `validate` command). Errors of combinators
 * (anyOf/oneOf/if/not) are dropped: ajv reports their branches' own errors too, which say more.
 */
export function schemaProblems(data: unknown): SchemaProblem[] {
  allErrorsValidator ??= new Ajv({ allErrors: true, strict: true, verbose: true }).compile(RULES_FILE_SCHEMA);
  if (allErrorsValidator(data)) return [];
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of allErrorsValidator.errors ?? []) {
    if (['anyOf', 'oneOf', 'if', 'not'].includes(error.keyword)) continue;
    const problem = translate(error, data);
    const key = `${JSON.stringify(problem.path)}\u0000${problem.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems.length > 0 ? problems : [{ path: [], reason: 'does not match the rules file schema' }];
}

/** Turns one ajv error into the key path and reason an administrator can act on. */
function translate(error: ErrorObject, data: unknown): SchemaProblem {
  const path = pointerToPath(error.instancePath, data);
  const p = error.params as Record<string, unknown>;
  // The only anyOf is scope's: the first failed branch names one key, the administrator needs both named.
  if (error.keyword === 'required' && error.schemaPath.includes('/anyOf/')) {
    return {
      path: [...path, 'subscriptions'],
      reason: 'is required unless scope.managementGroups is given (subscription ids and/or management group ids)',
    };
  }
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(p.missingProperty)], reason: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '';
      return { path, reason: `unknown key '${String(p.additionalProperty)}'${hint}`, linePath: [...path, String(p.additionalProperty)] };
    }
    case 'enum':
      return { path, reason: `must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'const':
      return { path, reason: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'type':
      return { path, reason: `must be ${TYPE_NAMES[String(p.type)] ?? `of type ${String(p.type)}`}` };
    case 'maxItems':
      return { path, reason: `must have at most ${String(p.limit)} items` };
    case 'minItems':
      return { path, reason: p.limit === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} items` };
    case 'minLength':
      return { path, reason: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
    case 'maxLength':
      return { path, reason: `must be at most ${String(p.limit)} characters` };
    case 'pattern':
      return { path, reason: PATTERN_REASONS[String(p.pattern)] ?? `has an invalid format` };
    default:
      return { path, reason: error.message ?? 'is invalid' };
  }
}

// YAML words, since that is what the administrator wrote.
const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping (key: value pairs)',
  array: 'a list',
  string: 'a string (quote it if it looks like a number or boolean)',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

/** `/profiles/a~1b/roles/0` -> ['profiles', 'a/b', 'roles', 0], using the data to tell indices from keys. */
function pointerToPath(pointer: string, data: unknown): Array<string | number> {
  const path: Array<string | number> = [];
  let node: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(key));
      node = node[Number(key)];
    } else {
      path.push(key);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}
