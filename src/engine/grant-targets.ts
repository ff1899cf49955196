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

/**
 * Proves every tag-chosen scope of the plan before anything is written: the target exists (an ARM GET),
 * ARM reports it as one of the declared types, and, where the rule asks for it, the target's consent
 * tag admits the workload. A tag names a resource id; only ARM's answer says what that id really is.
 */
export async function verifyGrantTargets(plan: Plan, ports: Pick<EnginePorts, 'grantTargets'>, budget: CallBudget): Promise<void> {
  const checked = new Set<string>();
  const source = parseArmId(plan.resourceId);
  for (const ra of [...plan.roleAssignments, ...(plan.dataPlaneRoleAssignments ?? [])]) {
    if (!ra.target) continue;
    const key = `${ra.scope.toLowerCase()}|${ra.target.types.join(',')}|${ra.target.consentTag ?? ''}`;
    if (checked.has(key)) continue;
    checked.add(key);
    const found = await ports.grantTargets.read(ra.scope, budget);
    if (!found) throw new GrantTargetRefusedError('GrantTargetNotFound', ra.scope, 'it does not exist');
    const allowed = ra.target.types.map((t) => (SCOPE_KIND_TYPES[t.toLowerCase()] ?? t).toLowerCase());
    if (!allowed.includes(found.type.toLowerCase())) {
      throw new GrantTargetRefusedError(
        'GrantTargetTypeNotAllowed',
        ra.scope,
        `ARM reports it as ${found.type}, not one of ${ra.target.types.join(', ')}`,
      );
    }
    if (ra.target.consentTag) {
      const consent = tagValue(found.tags, ra.target.consentTag);
      if (!consentAdmits(consent, parseArmId(ra.scope), source)) {
        throw new GrantTargetRefusedError(
          'GrantTargetNotConsented',
          ra.scope,
          `its '${ra.target.consentTag}' tag does not list the workload's subscription or resource group (${source.subscriptionId}/${source.resourceGroup})`,
        );
      }
    }
  }
}
