import { type CatalogueTarget, catalogueEntry, targetNameFrom } from '../arm/dapr-components';
import {
  type CredentialMethod,
  credentialFieldsOf,
  ENTRA_COMPANION_FIELDS,
  LOCAL_AUTH_METHODS,
  localAuthFlagOf,
  localAuthState,
} from '../arm/dapr-credentials';
import type { DaprComponent } from './ports';

/**
 * Secretless (issue 25): which Dapr components still authenticate with a key, and which targets could have
 * local authentication switched off. Pure: everything is judged from metadata NAMES and Resource Graph
 * properties; no value of any metadata entry or secret is ever copied into a result.
 */

/** Where a credential field's value comes from, without the value. */
export type CredentialSource = 'plain' | 'inline-secret' | 'key-vault-secret' | 'secret-store';

export interface CredentialUse {
  field: string;
  method: CredentialMethod;
  source: CredentialSource;
  /** The secret the field references (its name only), when it references one. */
  secretName?: string;
  /** The catalogue target field this credential opens (`accountName`, `storageAccountName`). */
  targetField: string;
}

/** A target a component names, resolved from its metadata (the name is not a secret: it is what Resource Graph is asked for). */
export interface ComponentTarget {
  field: string;
  resourceType: string;
  name?: string;
  /** Why the name could not be read (taken from a secret, not a valid name): the component may then reach any target of its type. */
  problem?: string;
}

export interface ComponentAuth {
  /** The method the component uses now: a key or connection string wins over Entra credentials, which win over managed identity. */
  method: CredentialMethod;
  credentials: CredentialUse[];
  targets: ComponentTarget[];
  /** Secret-backed metadata fields that are not credentials: a PUT rewriting the component could not keep their values. */
  otherSecretFields: string[];
}

const METHOD_ORDER: readonly CredentialMethod[] = ['key', 'connection-string', 'client-secret', 'certificate'];

function sourceOf(component: DaprComponent, entry: DaprComponent['metadata'][number]): { source: CredentialSource; secretName?: string } {
  if (entry.secretRef === undefined) return { source: 'plain' };
  const secret = component.secrets.find((s) => s.name === entry.secretRef);
  if (!secret) return { source: 'secret-store', secretName: entry.secretRef };
  return { source: secret.keyVaultUrl ? 'key-vault-secret' : 'inline-secret', secretName: entry.secretRef };
}

function targetsOf(component: DaprComponent, targets: readonly CatalogueTarget[]): ComponentTarget[] {
  return targets.map((spec) => {
    const entry = component.metadata.find((m) => m.name.toLowerCase() === spec.field.toLowerCase());
    const base = { field: spec.field, resourceType: spec.resourceType };
    if (!entry || (entry.value === undefined && entry.secretRef === undefined)) return { ...base, problem: `no '${spec.field}'` };
    if (entry.value === undefined) return { ...base, problem: `'${spec.field}' comes from a secret the product does not read` };
    const named = targetNameFrom(spec, entry.value);
    return 'name' in named ? { ...base, name: named.name } : { ...base, problem: named.problem };
  });
}

/** How a catalogued component authenticates, from its metadata names; undefined for a type the catalogue does not know. */
export function classifyComponent(component: DaprComponent): ComponentAuth | undefined {
  const entry = catalogueEntry(component.componentType);
  const fields = credentialFieldsOf(component.componentType);
  if (!entry || !fields) return undefined;
  const firstTarget = entry.targets[0]!.field;
  const credentials: CredentialUse[] = [];
  const otherSecretFields: string[] = [];
  for (const m of component.metadata) {
    const field = fields.find((f) => f.field.toLowerCase() === m.name.toLowerCase());
    if (field)
      credentials.push({ field: m.name, method: field.method, targetField: field.target ?? firstTarget, ...sourceOf(component, m) });
    else if (m.secretRef !== undefined) otherSecretFields.push(m.name);
  }
  const method = METHOD_ORDER.find((mth) => credentials.some((c) => c.method === mth)) ?? 'managed-identity';
  return { method, credentials, targets: targetsOf(component, entry.targets), otherSecretFields };
}

/** Whether the component authenticates to its targets with their local (key) authentication. */
export const usesLocalAuth = (auth: ComponentAuth) => auth.credentials.some((c) => LOCAL_AUTH_METHODS.has(c.method));

/** The identities of an app as Resource Graph shows them (no secrets: ids only). */
export interface AppIdentities {
  systemAssigned: boolean;
  userAssignedClientIds: string[];
}

/**
 * The exact change that moves a component to the managed-identity profile: the credential fields and the
 * secrets only they reference removed, `azureTenantId` with an Entra credential, and `azureClientId` set
 * where Dapr cannot pick the identity itself ("Required if the service has multiple identities assigned",
 * builtin-authentication-profiles.yaml) or where the app has only user-assigned identities; removed where
 * it held a service principal's client id and the app's one identity is system-assigned.
 */
export interface MigrationChange {
  removeMetadata: string[];
  removeSecrets: string[];
  azureClientId: { action: 'set'; clientId: string } | { action: 'remove' } | { action: 'keep' } | { action: 'choose'; reason: string };
}

export function migrationChange(component: DaprComponent, auth: ComponentAuth, identities: AppIdentities): MigrationChange {
  const entra = auth.credentials.some((c) => !LOCAL_AUTH_METHODS.has(c.method));
  const removeMetadata = [...auth.credentials.map((c) => c.field)];
  for (const companion of ENTRA_COMPANION_FIELDS)
    if (entra && component.metadata.some((m) => m.name.toLowerCase() === companion.toLowerCase())) removeMetadata.push(companion);
  const removed = new Set(removeMetadata.map((f) => f.toLowerCase()));
  const stillReferenced = new Set(component.metadata.filter((m) => !removed.has(m.name.toLowerCase())).map((m) => m.secretRef));
  const removeSecrets = [...new Set(auth.credentials.map((c) => c.secretName).filter((s): s is string => !!s && !stillReferenced.has(s)))];
  return { removeMetadata, removeSecrets, azureClientId: clientIdChange(component, identities, entra) };
}

function clientIdChange(component: DaprComponent, ids: AppIdentities, entra: boolean): MigrationChange['azureClientId'] {
  const count = (ids.systemAssigned ? 1 : 0) + ids.userAssignedClientIds.length;
  const hasClientId = component.metadata.some((m) => m.name.toLowerCase() === 'azureclientid');
  if (count === 0) return { action: 'choose', reason: 'the app has no managed identity yet' };
  if (ids.systemAssigned && count === 1) return hasClientId && entra ? { action: 'remove' } : { action: 'keep' };
  if (ids.userAssignedClientIds.length === 1 && !ids.systemAssigned) return { action: 'set', clientId: ids.userAssignedClientIds[0]! };
  return { action: 'choose', reason: 'the app has several identities: set azureClientId to the one holding the grant' };
}

/** A target of the catalogue as Resource Graph shows it. */
export interface TargetRow {
  id: string;
  type: string;
  name: string;
  /** The local-auth property's value as read (undefined: absent). */
  flag: unknown;
}

/** One component seen in a scanned environment, with how it authenticates. */
export interface SeenComponent {
  id: string;
  name: string;
  environmentId: string;
  componentType: string;
  auth: ComponentAuth;
}

export type Readiness = 'ready' | 'not-ready' | 'unknown' | 'already-off';

export interface TargetReadiness {
  id: string;
  type: string;
  name: string;
  localAuth: 'on' | 'off';
  /** The flag as a sentence: `allowSharedKeyAccess: (not set)`. */
  flag: string;
  verdict: Readiness;
  /** Components that still use a key or connection string of this target. */
  blockers: string[];
  /** Why the verdict is unknown. */
  unknowns: string[];
  /** Visible components that reach the target through their identity. */
  identityConsumers: string[];
}

/**
 * What the product can prove about who else might use a target's keys. `soleConsumerScopes`: scopes
 * (subscription, resource group or resource ids) that a trusted input (the operator, on the command line or
 * in the app settings) declares hold targets whose keys only components in the scanned environments use.
 * `scanComplete`: every environment of the governed subscriptions was listed.
 */
export interface Visibility {
  soleConsumerScopes: readonly string[];
  scanComplete: boolean;
}

const inScope = (id: string, scope: string) => {
  const a = id.toLowerCase();
  const s = scope.toLowerCase().replace(/\/+$/, '');
  return a === s || a.startsWith(`${s}/`);
};

/**
 * The readiness of one target. The rule (never "ready" on a guess):
 * - `already-off`: the flag says local authentication is off;
 * - `not-ready`: a visible component still uses a key or connection string of this target;
 * - `unknown`: no visible key consumer, but the product cannot prove there is no other one: a key can be held by
 *   anything outside the environments it scans (a VM, a function, a laptop), so this is the answer unless a trusted
 *   input declares the target's keys are used only by scanned components, the scan was complete, and no scanned
 *   component of the target's type hides its target name (taken from a secret, or not a valid name);
 * - `ready`: none of the above.
 */
export function targetReadiness(
  target: TargetRow,
  components: readonly SeenComponent[],
  visibility: Visibility,
): TargetReadiness | undefined {
  const flag = localAuthFlagOf(target.type);
  if (!flag) return undefined;
  const localAuth = localAuthState(flag, target.flag);
  const blockers: string[] = [];
  const unknowns: string[] = [];
  const identityConsumers: string[] = [];
  for (const c of components) judgeConsumer(target, c, { blockers, unknowns, identityConsumers });
  if (!visibility.scanComplete) unknowns.push('not every environment of the governed subscriptions could be listed');
  if (!visibility.soleConsumerScopes.some((s) => inScope(target.id, s)))
    unknowns.push('nothing declares that only the scanned Dapr components use its keys (consumers outside them cannot be seen)');
  const verdict: Readiness =
    localAuth === 'off' ? 'already-off' : blockers.length > 0 ? 'not-ready' : unknowns.length > 0 ? 'unknown' : 'ready';
  // Already off: whatever else might hold a key can no longer use it; the doubts are moot.
  if (verdict === 'already-off') unknowns.length = 0;
  const shown = target.flag === undefined || target.flag === null ? '(not set)' : String(target.flag);
  return {
    id: target.id,
    type: target.type,
    name: target.name,
    localAuth,
    flag: `${flag.property}: ${shown}`,
    verdict,
    blockers,
    unknowns,
    identityConsumers,
  };
}

function judgeConsumer(
  target: TargetRow,
  c: SeenComponent,
  out: { blockers: string[]; unknowns: string[]; identityConsumers: string[] },
): void {
  const label = `${c.name} (${c.componentType}, ${c.environmentId})`;
  for (const t of c.auth.targets) {
    if (t.resourceType.toLowerCase() !== target.type.toLowerCase()) continue;
    if (t.name === undefined) {
      out.unknowns.push(`${label} names its ${t.resourceType} in a way the product cannot read: ${t.problem ?? 'unknown'}`);
      continue;
    }
    if (t.name.toLowerCase() !== target.name.toLowerCase()) continue;
    const keys = c.auth.credentials.filter(
      (k) => LOCAL_AUTH_METHODS.has(k.method) && k.targetField.toLowerCase() === t.field.toLowerCase(),
    );
    if (keys.length > 0) out.blockers.push(`${label} uses ${keys.map((k) => `'${k.field}' (${k.method})`).join(', ')}`);
    else out.identityConsumers.push(label);
  }
}
