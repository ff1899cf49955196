import type { UserAssignedIdentity, UserAssignedIdentityPort } from '../engine/ports';
import type { UserAssignedIdentityPlan } from '../engine/types';
import { ArmCallError, AutopilotError } from '../errors';
import { armCall } from './arm-call-error';
import type { ArmClientPool } from './clients';

/** Tags put on identities this product creates: who created them, and under which rule. */
export const CREATED_BY_TAG = 'created-by';
export const CREATED_BY_VALUE = 'identity-autopilot';
export const RULE_TAG = 'identity-autopilot-rule';

/**
 * An existing identity is reused only if this product created it for the same rule. Otherwise a
 * resource whose name (or tag) happens to produce the name of someone else's identity would get that
 * identity, and its roles, attached by us: we would be the confused deputy doing an `assign/action`
 * its creator may not hold. To let the product reuse an identity made by hand, tag it with both tags.
 */
function ownedByRule(tags: Record<string, string> | undefined, rule: string): boolean {
  const get = (name: string) => Object.entries(tags ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  return get(CREATED_BY_TAG) === CREATED_BY_VALUE && get(RULE_TAG) === rule;
}

/** Creates or reuses user-assigned identities through `@azure/arm-msi`. */
export class MsiUserAssignedIdentityPort implements UserAssignedIdentityPort {
  constructor(private readonly clients: ArmClientPool) {}

  async ensure(plan: UserAssignedIdentityPlan, signal: AbortSignal): Promise<UserAssignedIdentity> {
    const msi = this.clients.for(plan.subscriptionId).msi;
    try {
      const found = await armCall(`GET ${plan.id}`, () => msi.userAssignedIdentities.get(plan.resourceGroup, plan.name, { abortSignal: signal }));
      if (!ownedByRule(found.tags, plan.rule)) {
        throw new AutopilotError(
          'IdentityNotOwned',
          `${plan.id} exists but was not created by identity-autopilot for rule '${plan.rule}' (tags ${CREATED_BY_TAG}=${CREATED_BY_VALUE}, ${RULE_TAG}=${plan.rule}); it is not attached`,
        );
      }
      return { id: found.id ?? plan.id, principalId: found.principalId!, clientId: found.clientId!, created: false };
    } catch (e) {
      if (!(e instanceof ArmCallError && e.isNotFound)) throw e;
    }
    let status = 0;
    const created = await armCall(`PUT ${plan.id}`, () =>
      msi.userAssignedIdentities.createOrUpdate(
        plan.resourceGroup,
        plan.name,
        { location: plan.location, tags: { [CREATED_BY_TAG]: CREATED_BY_VALUE, [RULE_TAG]: plan.rule } },
        { abortSignal: signal, onResponse: (r) => void (status = r.status) },
      ),
    );
    // 200 means a concurrent remediation created it first: reuse, not create.
    return { id: created.id ?? plan.id, principalId: created.principalId!, clientId: created.clientId!, created: status === 201 };
  }
}
