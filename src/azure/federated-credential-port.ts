import type { FederatedIdentityCredential } from '@azure/arm-msi';
import { parseArmId } from '../arm/resource-id';
import type { CallBudget } from '../engine/call-budget';
import type { FederatedCredential, FederatedCredentialPort } from '../engine/ports';
import type { FederatedCredentialPlan } from '../engine/types';
import { ArmCallError } from '../errors';
import { armCall } from './arm-call-error';
import { sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';
import { type AppSelf, createdByApp } from './user-assigned-identity-port';

/**
 * Learn (workload-identity-federation-considerations, "Concurrent updates aren't supported"): writing
 * several federated credentials under one user-assigned identity at once "triggers concurrency
 * detection logic, which causes requests to fail with 409-conflict". It clears once the other write
 * ends, so for this call a 409 is worth another attempt (the engine re-lists first).
 */
const CONCURRENT_WRITE = { isBusyConflict: (status: number) => status === 409 };

/** Federated identity credentials of user-assigned identities, through `@azure/arm-msi` (api-version 2024-11-30). */
export class MsiFederatedCredentialPort implements FederatedCredentialPort {
  constructor(
    private readonly clients: ArmClientPool,
    private readonly self: () => Promise<AppSelf>,
  ) {}

  async list(identityId: string, call: CallBudget | AbortSignal): Promise<FederatedCredential[]> {
    const { subscriptionId, resourceGroup, name } = parseArmId(identityId);
    const msi = this.clients.for(subscriptionId!).msi;
    const self = await this.self();
    return armCall(`GET ${identityId}/federatedIdentityCredentials`, async () => {
      const out: FederatedCredential[] = [];
      for await (const f of msi.federatedIdentityCredentials.list(resourceGroup!, name!, sdkOptions(call))) out.push(toCredential(f, self));
      return out;
    });
  }

  async get(identityId: string, name: string, call: CallBudget | AbortSignal): Promise<FederatedCredential | undefined> {
    const { subscriptionId, resourceGroup, name: identity } = parseArmId(identityId);
    const msi = this.clients.for(subscriptionId!).msi;
    try {
      const found = await armCall(`GET ${identityId}/federatedIdentityCredentials/${name}`, () =>
        msi.federatedIdentityCredentials.get(resourceGroup!, identity!, name, sdkOptions(call)),
      );
      return toCredential(found, await this.self());
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
  }

  /** FederatedIdentityCredentials_Delete (msi 2024-11-30: 200 deleted, 204 none); a concurrent write on the identity answers 409. */
  async remove(identityId: string, name: string, call: CallBudget | AbortSignal): Promise<'removed' | 'absent'> {
    const { subscriptionId, resourceGroup, name: identity } = parseArmId(identityId);
    const msi = this.clients.for(subscriptionId!).msi;
    let status = 0;
    await armCall(
      `DELETE ${identityId}/federatedIdentityCredentials/${name}`,
      () =>
        msi.federatedIdentityCredentials.delete(resourceGroup!, identity!, name, {
          ...sdkOptions(call),
          onResponse: (r) => void (status = r.status),
        }),
      CONCURRENT_WRITE,
    );
    return status === 204 ? 'absent' : 'removed';
  }

  async put(
    identityId: string,
    credential: FederatedCredentialPlan & { issuer: string },
    call: CallBudget | AbortSignal,
  ): Promise<'created' | 'updated'> {
    const { subscriptionId, resourceGroup, name } = parseArmId(identityId);
    const msi = this.clients.for(subscriptionId!).msi;
    let status = 0;
    await armCall(
      `PUT ${identityId}/federatedIdentityCredentials/${credential.name}`,
      () =>
        msi.federatedIdentityCredentials.createOrUpdate(
          resourceGroup!,
          name!,
          credential.name,
          { issuer: credential.issuer, subject: credential.subject, audiences: [...credential.audiences] },
          { ...sdkOptions(call), onResponse: (r) => void (status = r.status) },
        ),
      CONCURRENT_WRITE,
    );
    return status === 201 ? 'created' : 'updated';
  }
}

function toCredential(f: FederatedIdentityCredential, self: AppSelf): FederatedCredential {
  return {
    name: f.name ?? '',
    issuer: f.issuer ?? '',
    subject: f.subject ?? '',
    audiences: f.audiences ?? [],
    ours: createdByApp(f.systemData?.createdBy, self),
  };
}
