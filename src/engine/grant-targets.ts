import { keyVaultOf } from '../arm/grant-targets';
import { parseArmId } from '../arm/resource-id';
import { consentAdmits, tagValue } from '../config';
import { AutopilotError } from '../errors';
import { shellCommand } from '../text/shell-word';
import type { CallBudget } from './call-budget';
import type { EnginePorts, GrantTarget } from './ports';
import type { Plan, PlanBlocker } from './types';

/** ARM's own type names for the two non-resource scopes a tag may name (when the rules allow them). */
const SCOPE_KIND_TYPES: Record<string, string> = {
  resourcegroup: 'Microsoft.Resources/resourceGroups',
  subscription: 'Microsoft.Resources/subscriptions',
};

/** A tag-chosen grant target that does not exist, is not of a declared type, or does not consent. */
export class GrantTargetRefusedError extends AutopilotError {
  constructor(code: 'GrantTargetNotFound' | 'GrantTargetTypeNotAllowed' | 'GrantTargetNotConsented', scope: string, reason: string) {
    super(code, `role scope '${scope}' (from a tag) is refused: ${reason}`);
  }
}

type Targeted = Plan['roleAssignments'][number] | NonNullable<Plan['dataPlaneRoleAssignments']>[number];

/** The plan's tag-chosen grants, one per distinct target and check. */
function targetedGrants(plan: Plan): Array<Targeted & { target: NonNullable<Targeted['target']> }> {
  const checked = new Set<string>();
  const out: Array<Targeted & { target: NonNullable<Targeted['target']> }> = [];
  for (const ra of [...plan.roleAssignments, ...(plan.dataPlaneRoleAssignments ?? [])]) {
    if (!ra.target) continue;
    const key = `${ra.scope.toLowerCase()}|${ra.target.types.join(',')}|${ra.target.consentTag ?? ''}`;
    if (checked.has(key)) continue;
    checked.add(key);
    out.push(ra as Targeted & { target: NonNullable<Targeted['target']> });
  }
  return out;
}

/** Why ARM's answer about one tag-chosen target refuses it (absent, wrong type, no consent); undefined when it passes. */
async function targetRefusal(
  ra: Targeted & { target: NonNullable<Targeted['target']> },
  source: ReturnType<typeof parseArmId>,
  read: TargetReader,
): Promise<GrantTargetRefusedError | undefined> {
  const found = await read(ra.scope);
  if (!found) return new GrantTargetRefusedError('GrantTargetNotFound', ra.scope, 'it does not exist');
  const allowed = ra.target.types.map((t) => (SCOPE_KIND_TYPES[t.toLowerCase()] ?? t).toLowerCase());
  if (!allowed.includes(found.type.toLowerCase())) {
    return new GrantTargetRefusedError(
      'GrantTargetTypeNotAllowed',
      ra.scope,
      `ARM reports it as ${found.type}, not one of ${ra.target.types.join(', ')}`,
    );
  }
  if (ra.target.consentTag && !consentAdmits(tagValue(found.tags, ra.target.consentTag), parseArmId(ra.scope), source)) {
    return new GrantTargetRefusedError(
      'GrantTargetNotConsented',
      ra.scope,
      `its '${ra.target.consentTag}' tag does not list the workload's subscription or resource group (${source.subscriptionId}/${source.resourceGroup})`,
    );
  }
  return undefined;
}

/**
 * A grant Azure would accept but never honour, so the remediation is `blocked` with `blocker`: nothing
 * is written, and a person must act (the remedy says how).
 */
export class GrantBlockedError extends AutopilotError {
  constructor(readonly blocker: PlanBlocker) {
    super(blocker.code, blocker.detail);
  }
}

/** One GET per target for the whole plan, whichever checks ask for it. */
type TargetReader = (scope: string) => Promise<GrantTarget | undefined>;

function cachedReader(ports: Pick<EnginePorts, 'grantTargets'>, budget: CallBudget): TargetReader {
  const reads = new Map<string, Promise<GrantTarget | undefined>>();
  return (scope) => {
    const k = scope.toLowerCase();
    let read = reads.get(k);
    if (!read) {
      read = ports.grantTargets.read(scope, budget);
      reads.set(k, read);
    }
    return read;
  };
}

/**
 * Proves every tag-chosen scope of the plan before anything is written: the target exists (an ARM GET),
 * ARM reports it as one of the declared types, and, where the rule asks for it, the target's consent
 * tag admits the workload. A tag names a resource id; only ARM's answer says what that id really is.
 * Then every role scope at or inside a Key Vault, whoever named it (a tag, a Dapr component, the rules),
 * must be a vault that honours Azure RBAC (checkVaultPermissionModels).
 */
export async function verifyGrantTargets(plan: Plan, ports: Pick<EnginePorts, 'grantTargets'>, budget: CallBudget): Promise<void> {
  const read = cachedReader(ports, budget);
  const source = parseArmId(plan.resourceId);
  for (const ra of targetedGrants(plan)) {
    const refused = await targetRefusal(ra, source, read);
    if (refused) throw refused;
  }
  await checkVaultPermissionModels(plan, read);
}

/**
 * A Key Vault using access policies (`enableRbacAuthorization` false or absent) ignores Azure RBAC for
 * data actions: "When false, the key vault will use the access policies specified in vault properties,
 * and any policy stored on Azure Resource Manager will be ignored" (keyvault.json, Microsoft.KeyVault
 * 2023-07-01, VaultProperties; examples/getVault.json is such a vault). A role granted there would be
 * reported done while the workload gets 403. The product never writes access policies instead: an
 * access policy has no scope below the vault and no condition, so the rules could not bound it.
 * Stricter than Azure: management actions are still authorized by RBAC on such a vault, but the roles
 * the product grants on vaults are for their data, so every role on one is blocked.
 */
async function checkVaultPermissionModels(plan: Plan, read: TargetReader): Promise<void> {
  const vaults = new Map<string, string>();
  for (const ra of plan.roleAssignments) {
    const vault = keyVaultOf(ra.scope);
    if (vault) vaults.set(vault.toLowerCase(), vault);
  }
  for (const vault of vaults.values()) {
    const found = await read(vault);
    if (!found) throw new GrantTargetRefusedError('GrantTargetNotFound', vault, 'the Key Vault does not exist');
    if (found.enableRbacAuthorization === true) continue;
    const id = parseArmId(vault);
    throw new GrantBlockedError({
      code: 'VaultUsesAccessPolicies',
      detail: `Key Vault '${id.name}' uses access policies (enableRbacAuthorization is not true), so Azure ignores role assignments for its data: a role granted there would not let the workload read it`,
      remedy: `switch the vault to the Azure RBAC permission model (\`${shellCommand(['az', 'keyvault', 'update', '-g', id.resourceGroup ?? '<resource group>', '-n', id.name ?? '<name>', '--enable-rbac-authorization', 'true'])}\`, after granting roles for its existing access policies), or ask its owner for an access policy for the workload's identity; identity-autopilot never writes access policies`,
    });
  }
}

/**
 * The plan's tag-chosen targets ARM now refuses (consent withdrawn, out of bounds, gone), scope (lower
 * case) → why: a grant held there is no longer given (revocation), where apply would refuse to make it.
 * `only` limits the reads to the scopes that matter (those the principal holds).
 */
export async function refusedTargets(
  plan: Plan,
  ports: Pick<EnginePorts, 'grantTargets'>,
  budget: CallBudget,
  only?: (scope: string) => boolean,
): Promise<Map<string, string>> {
  const source = parseArmId(plan.resourceId);
  const read = cachedReader(ports, budget);
  const refused = new Map<string, string>();
  for (const ra of targetedGrants(plan)) {
    if (only && !only(ra.scope)) continue;
    const why = await targetRefusal(ra, source, read);
    if (why)
      refused.set(ra.scope.toLowerCase(), why.code === 'GrantTargetNotConsented' ? `consent withdrawn: ${why.message}` : why.message);
  }
  return refused;
}
