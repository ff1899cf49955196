import { AutopilotError } from '../../errors';
import type { CallBudget } from '../call-budget';
import type { EnginePorts, FederatedCredential } from '../ports';
import { type FederatedCredentialPlan, TOKEN_EXCHANGE_AUDIENCE } from '../types';
import { creates, type GrantAction, type GrantKind } from './grant-kind';

/** Learn (workload-identity-federation-considerations): at most 20 federated credentials per identity. */
export const MAX_FEDERATED_CREDENTIALS = 20;

const sameCredential = (found: FederatedCredential, wanted: { issuer: string; subject: string }) =>
  found.issuer === wanted.issuer && found.subject === wanted.subject;
const rightAudiences = (found: FederatedCredential) => found.audiences.length === 1 && found.audiences[0] === TOKEN_EXCHANGE_AUDIENCE;

/**
 * Compares what an identity has with what the service account needs: `exists` (our name, or the same
 * issuer and subject under another name, which Azure would refuse to duplicate: "Issuer and subject
 * combination already exists"), `write` (missing, or ours and stale), or a refusal: someone else's
 * credential under our name is never overwritten, and an identity at the limit of 20 is not written.
 */
export function credentialDecision(
  existing: FederatedCredential[],
  wanted: FederatedCredentialPlan & { issuer: string },
  identityId: string,
): { kind: 'exists'; name: string } | { kind: 'write'; replaces: boolean } {
  const named = existing.find((f) => f.name.toLowerCase() === wanted.name.toLowerCase());
  if (named) {
    if (sameCredential(named, wanted) && rightAudiences(named)) return { kind: 'exists', name: named.name };
    if (!named.ours) {
      throw new AutopilotError(
        'FederatedCredentialConflict',
        `federated credential '${named.name}' on ${identityId} trusts issuer '${named.issuer}' and subject '${named.subject}', and identity-autopilot did not write it; it is not overwritten. Remove or rename it to let the product add its own`,
      );
    }
    return { kind: 'write', replaces: true };
  }
  const duplicate = existing.find((f) => sameCredential(f, wanted) && rightAudiences(f));
  if (duplicate) return { kind: 'exists', name: duplicate.name };
  if (existing.length >= MAX_FEDERATED_CREDENTIALS) {
    throw new AutopilotError(
      'FederatedCredentialLimit',
      `${identityId} already has ${existing.length} federated credentials, the most an identity may have (Learn: workload-identity-federation-considerations); none is added`,
    );
  }
  return { kind: 'write', replaces: false };
}

/**
 * The third kind of grant: a federated identity credential that lets a service account's tokens stand
 * for its identity (AKS workload identity). One per identity and cluster; listed on every attempt, as
 * Azure refuses concurrent credential writes on one identity (409).
 */
export interface FederatedCredentialContext {
  /** The service account's user-assigned identity. */
  identityId: string;
  principalId?: string;
  /** The cluster the credential trusts, and the service account it is for. */
  clusterId: string;
  serviceAccount: string;
  wanted: FederatedCredentialPlan & { issuer: string };
}

/** A credential to write; `replaces` when it rewrites a stale one of ours under the same name. */
export type DesiredCredential = FederatedCredentialPlan & { issuer: string; replaces?: boolean };

export const federatedCredentialGrants: GrantKind<FederatedCredentialContext, DesiredCredential, FederatedCredential> = {
  desired: (context) => [context.wanted],

  observe: (ports, context, budget) => ports.federatedCredentials.list(context.identityId, budget),

  diff(desired, observed, context) {
    const owner = { principalId: context.principalId, resourceId: context.clusterId, source: context.serviceAccount };
    const actions: GrantAction<DesiredCredential, FederatedCredential>[] = [];
    const kept = new Set<string>();
    for (const wanted of desired) {
      // Someone else's credential under our name, or an identity at its limit, is refused here (throws).
      const decision = credentialDecision([...observed], wanted, context.identityId);
      if (decision.kind === 'exists') kept.add(decision.name.toLowerCase());
      else actions.push({ kind: 'create', grant: { ...wanted, replaces: decision.replaces }, owner });
      kept.add(wanted.name.toLowerCase());
    }
    // ARM says the product wrote it (systemData.createdBy), on an identity made for this service account.
    for (const found of observed) {
      if (found.ours && !kept.has(found.name.toLowerCase())) actions.push({ kind: 'remove', grant: found, owner });
    }
    return actions;
  },
};

/** Lists the identity's credentials and compares: the credential to write, or the name it is held under. */
export async function reconcileCredential(
  ports: EnginePorts,
  context: FederatedCredentialContext,
  budget: CallBudget,
): Promise<{ write?: DesiredCredential; heldAs?: string }> {
  const observed = await federatedCredentialGrants.observe(ports, context, budget);
  const actions = federatedCredentialGrants.diff(federatedCredentialGrants.desired(context), observed, context);
  const write = creates(actions)[0];
  if (write) return { write };
  // Nothing to write: the wanted credential exists, under its own name or an equivalent one's.
  const held = credentialDecision([...observed], context.wanted, context.identityId);
  return { heldAs: held.kind === 'exists' ? held.name : context.wanted.name };
}
