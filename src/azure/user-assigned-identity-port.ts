import type { Identity } from '@azure/arm-msi';
import { parseArmId } from '../arm/resource-id';
import type { CallBudget } from '../engine/call-budget';
import { ownerTagValue } from '../engine/identity-owner';
import type { UserAssignedIdentity, UserAssignedIdentityPort, UserAssignedIdentityRecord } from '../engine/ports';
import type { UserAssignedIdentityPlan } from '../engine/types';
import { ArmCallError, AutopilotError } from '../errors';
import { armCall } from './arm-call-error';
import { sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';

/** Tags put on identities this product creates: who created them, under which rule, and for whom. */
export const CREATED_BY_TAG = 'created-by';
export const CREATED_BY_VALUE = 'identity-autopilot';
export const RULE_TAG = 'identity-autopilot-rule';
export const OWNER_TAG = 'identity-autopilot-owner';

/** Who the app is, as ARM records a creator in `systemData.createdBy`. */
export interface AppSelf {
  principalId?: string;
  clientId?: string;
}

/**
 * Whether ARM records the app as an object's creator (`systemData.createdBy`, or a role assignment's
 * `createdBy`). Only ARM writes these. Which id ARM records for a service principal is not documented
 * precisely (ARM RPC common-api-contracts: "a string identifier for the identity"), so the app's client
 * id and object id both count.
 */
export function createdByApp(createdBy: string | undefined, self: AppSelf): boolean {
  if (!createdBy) return false;
  const mine = [self.clientId, self.principalId].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  return mine.includes(createdBy.toLowerCase());
}

function tag(tags: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(tags ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/**
 * Why `found` may not be reused for `plan`, or undefined when it may. Two facts together:
 * - ARM's `systemData.createdBy` names this app's own principal (createdByApp). Only ARM writes
 *   systemData, so a squatter's identity (same name, created first) never passes, whatever tags it carries.
 * - The owner tag, written by this app at creation, names this resource (or this rule's shared
 *   identity). Tags alone prove nothing (anyone can copy them onto their own identity), which is why
 *   the first check comes first; together they bind the identity to the resource it was made for.
 */
export function ownershipProblem(found: Identity, plan: UserAssignedIdentityPlan, self: AppSelf): string | undefined {
  const createdBy = found.systemData?.createdBy?.toLowerCase();
  if (!createdByApp(createdBy, self)) {
    return `it was not created by identity-autopilot (systemData.createdBy is ${createdBy ? `'${createdBy}'` : 'absent'})`;
  }
  const owner = tag(found.tags, OWNER_TAG);
  if (owner === undefined || owner.toLowerCase() !== ownerTagValue(plan.owner)) {
    return plan.owner.startsWith('rule:')
      ? `it is not rule '${plan.rule}'s shared identity (tag ${OWNER_TAG} is ${owner === undefined ? 'absent' : `'${owner}'`})`
      : `it was made for ${owner === undefined ? 'another resource (no owner recorded)' : `'${owner}'`}, not for this resource`;
  }
  return undefined;
}

/** Creates or reuses user-assigned identities through `@azure/arm-msi`. */
export class MsiUserAssignedIdentityPort implements UserAssignedIdentityPort {
  constructor(
    private readonly clients: ArmClientPool,
    /** The app's own principal (from its token); creator ids are compared with it. */
    private readonly self: () => Promise<AppSelf>,
  ) {}

  async find(plan: UserAssignedIdentityPlan, call: CallBudget | AbortSignal): Promise<UserAssignedIdentity | undefined> {
    const msi = this.clients.for(plan.subscriptionId).msi;
    let found: Identity;
    try {
      found = await armCall(`GET ${plan.id}`, () => msi.userAssignedIdentities.get(plan.resourceGroup, plan.name, sdkOptions(call)));
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
    const problem = ownershipProblem(found, plan, await this.self());
    if (problem) throw notOwned(plan, `it exists, but ${problem}`);
    return { id: found.id ?? plan.id, principalId: found.principalId!, clientId: found.clientId!, created: false };
  }

  read(identityId: string, call: CallBudget | AbortSignal): Promise<UserAssignedIdentityRecord | undefined> {
    return readIdentity(this.clients, this.self, identityId, call);
  }

  /** DELETE (UserAssignedIdentities_Delete, msi 2024-11-30: 200 deleted, 204 none). Its federated credentials go with it. */
  async remove(identityId: string, call: CallBudget | AbortSignal): Promise<'removed' | 'absent'> {
    const { subscriptionId, resourceGroup, name } = parseArmId(identityId);
    let status = 0;
    await armCall(`DELETE ${identityId}`, () =>
      this.clients
        .for(subscriptionId!)
        .msi.userAssignedIdentities.delete(resourceGroup!, name!, { ...sdkOptions(call), onResponse: (r) => void (status = r.status) }),
    );
    return status === 204 ? 'absent' : 'removed';
  }

  async ensure(plan: UserAssignedIdentityPlan, call: CallBudget | AbortSignal): Promise<UserAssignedIdentity> {
    const msi = this.clients.for(plan.subscriptionId).msi;
    const reuse = async (found: Identity, how: string): Promise<UserAssignedIdentity> => {
      const problem = ownershipProblem(found, plan, await this.self());
      if (problem) throw notOwned(plan, `${how}, but ${problem}`);
      return { id: found.id ?? plan.id, principalId: found.principalId!, clientId: found.clientId!, created: false };
    };
    try {
      const found = await armCall(`GET ${plan.id}`, () => msi.userAssignedIdentities.get(plan.resourceGroup, plan.name, sdkOptions(call)));
      return await reuse(found, 'it exists');
    } catch (e) {
      if (!(e instanceof ArmCallError && e.isNotFound)) throw e;
    }
    let status = 0;
    let created: Identity;
    try {
      created = await armCall(`PUT ${plan.id}`, () =>
        msi.userAssignedIdentities.createOrUpdate(
          plan.resourceGroup,
          plan.name,
          {
            location: plan.location,
            tags: { [CREATED_BY_TAG]: CREATED_BY_VALUE, [RULE_TAG]: plan.rule, [OWNER_TAG]: ownerTagValue(plan.owner) },
          },
          {
            ...sdkOptions(call),
            // Create-only: if someone created the name between our GET and this PUT, ARM answers 412
            // instead of letting us overwrite (and then adopt) their identity.
            requestOptions: { customHeaders: { 'If-None-Match': '*' } },
            onResponse: (r) => void (status = r.status),
          },
        ),
      );
    } catch (e) {
      if (!(e instanceof ArmCallError && e.status === 412)) throw e;
      // Someone created it first: a duplicate delivery of this very remediation, or a squatter.
      const found = await armCall(`GET ${plan.id}`, () => msi.userAssignedIdentities.get(plan.resourceGroup, plan.name, sdkOptions(call)));
      return reuse(found, 'it was created by someone else between our read and our create-only PUT (412)');
    }
    if (status === 201) return { id: created.id ?? plan.id, principalId: created.principalId!, clientId: created.clientId!, created: true };
    // 200: an RP that ignored If-None-Match updated an existing identity. Reuse it only if it is ours.
    return reuse(created, 'it already existed when we created it (200)');
  }
}

/** One GET of an identity, with what proves who made it (systemData.createdBy) and for whom (the owner tag). */
export async function readIdentity(
  clients: ArmClientPool,
  self: () => Promise<AppSelf>,
  identityId: string,
  call: CallBudget | AbortSignal,
): Promise<UserAssignedIdentityRecord | undefined> {
  const { subscriptionId, resourceGroup, name } = parseArmId(identityId);
  let found: Identity;
  try {
    found = await armCall(`GET ${identityId}`, () =>
      clients.for(subscriptionId!).msi.userAssignedIdentities.get(resourceGroup!, name!, sdkOptions(call)),
    );
  } catch (e) {
    if (e instanceof ArmCallError && e.isNotFound) return undefined;
    throw e;
  }
  const owner = tag(found.tags, OWNER_TAG);
  return {
    id: found.id ?? identityId,
    ...(found.principalId ? { principalId: found.principalId } : {}),
    ...(found.clientId ? { clientId: found.clientId } : {}),
    createdByUs: createdByApp(found.systemData?.createdBy, await self()),
    ...(owner !== undefined ? { ownerRecord: owner } : {}),
  };
}

function notOwned(plan: UserAssignedIdentityPlan, reason: string): AutopilotError {
  return new AutopilotError(
    'IdentityNotOwned',
    `${plan.id} is not attached: ${reason}. An identity is only reused by the resource it was made for` +
      (plan.owner.startsWith('rule:') ? '' : ` (${plan.owner}); declare the rule's identity shared to share one on purpose`),
  );
}
