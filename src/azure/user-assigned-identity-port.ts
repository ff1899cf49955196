import type { UserAssignedIdentity, UserAssignedIdentityPort } from '../engine/ports';
import type { UserAssignedIdentityPlan } from '../engine/types';
import { ArmCallError } from '../errors';
import { armCall } from './arm-call-error';
import type { ArmClientPool } from './clients';

/** Tag put on identities this product creates, so people can tell where they came from. */
export const CREATED_BY_TAG = 'created-by';

/** Creates or reuses user-assigned identities through `@azure/arm-msi`. */
export class MsiUserAssignedIdentityPort implements UserAssignedIdentityPort {
  constructor(private readonly clients: ArmClientPool) {}

  async ensure(plan: UserAssignedIdentityPlan, signal: AbortSignal): Promise<UserAssignedIdentity> {
    const msi = this.clients.for(plan.subscriptionId).msi;
    try {
      const found = await armCall(`GET ${plan.id}`, () => msi.userAssignedIdentities.get(plan.resourceGroup, plan.name, { abortSignal: signal }));
      return { id: found.id ?? plan.id, principalId: found.principalId!, clientId: found.clientId!, created: false };
    } catch (e) {
      if (!(e instanceof ArmCallError && e.isNotFound)) throw e;
    }
    let status = 0;
    const created = await armCall(`PUT ${plan.id}`, () =>
      msi.userAssignedIdentities.createOrUpdate(
        plan.resourceGroup,
        plan.name,
        { location: plan.location, tags: { [CREATED_BY_TAG]: 'identity-autopilot' } },
        { abortSignal: signal, onResponse: (r) => void (status = r.status) },
      ),
    );
    // 200 means a concurrent remediation created it first: reuse, not create.
    return { id: created.id ?? plan.id, principalId: created.principalId!, clientId: created.clientId!, created: status === 201 };
  }
}
