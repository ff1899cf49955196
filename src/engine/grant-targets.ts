import { parseArmId } from '../arm/resource-id';
import { consentAdmits, tagValue } from '../config';
import { AutopilotError } from '../errors';
import type { CallBudget } from './call-budget';
import type { EnginePorts } from './ports';
import type { Plan } from './types';

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
  ports: Pick<EnginePorts, 'grantTargets'>,
  budget: CallBudget,
): Promise<GrantTargetRefusedError | undefined> {
  const found = await ports.grantTargets.read(ra.scope, budget);
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
 * Proves every tag-chosen scope of the plan before anything is written: the target exists (an ARM GET),
 * ARM reports it as one of the declared types, and, where the rule asks for it, the target's consent
 * tag admits the workload. A tag names a resource id; only ARM's answer says what that id really is.
 */
export async function verifyGrantTargets(plan: Plan, ports: Pick<EnginePorts, 'grantTargets'>, budget: CallBudget): Promise<void> {
  const source = parseArmId(plan.resourceId);
  for (const ra of targetedGrants(plan)) {
    const refused = await targetRefusal(ra, source, ports, budget);
    if (refused) throw refused;
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
  const refused = new Map<string, string>();
  for (const ra of targetedGrants(plan)) {
    if (only && !only(ra.scope)) continue;
    const why = await targetRefusal(ra, source, ports, budget);
    if (why)
      refused.set(ra.scope.toLowerCase(), why.code === 'GrantTargetNotConsented' ? `consent withdrawn: ${why.message}` : why.message);
  }
  return refused;
}
