import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FederatedCredentialContext,
  federatedCredentialGrants,
  reconcileCredential,
} from '../../../src/engine/grants/federated-credentials';
import type { FederatedCredential } from '../../../src/engine/ports';
import { TOKEN_EXCHANGE_AUDIENCE } from '../../../src/engine/types';
import { budget, FakeAzure, SUB } from '../fake-ports';

const CLUSTER = `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks`;
const IDENTITY = `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wi-app`;
const context: FederatedCredentialContext = {
  identityId: IDENTITY,
  principalId: 'wi-pid',
  clusterId: CLUSTER,
  serviceAccount: 'app/api',
  wanted: { name: 'aks-abc', issuer: 'https://issuer/', subject: 'system:serviceaccount:app:api', audiences: [TOKEN_EXCHANGE_AUDIENCE] },
};
const credential = (name: string, ours: boolean, issuer = 'https://issuer/', subject = context.wanted.subject): FederatedCredential => ({
  name,
  issuer,
  subject,
  audiences: [TOKEN_EXCHANGE_AUDIENCE],
  ours,
});
const owner = { principalId: 'wi-pid', resourceId: CLUSTER, source: 'app/api' };

describe('grant kind: federated credentials', () => {
  it('missing: a create for the cluster and service account; a stale one of ours under our name: a create that replaces', () => {
    assert.deepEqual(federatedCredentialGrants.diff([context.wanted], [], context), [
      { kind: 'create', grant: { ...context.wanted, replaces: false }, owner },
    ]);
    const stale = federatedCredentialGrants.diff([context.wanted], [credential('aks-abc', true, 'https://old-issuer/')], context);
    assert.deepEqual(stale, [{ kind: 'create', grant: { ...context.wanted, replaces: true }, owner }]);
  });

  it("a credential the product wrote under another name is a remove; someone else's is left alone", () => {
    const leftover = credential('aks-old', true, 'https://gone/');
    const manual = credential('manual', false, 'https://elsewhere/');
    const actions = federatedCredentialGrants.diff([context.wanted], [credential('aks-abc', true), leftover, manual], context);
    assert.deepEqual(actions, [{ kind: 'remove', grant: leftover, owner }]);
  });

  it('the same issuer and subject under another name holds the grant: no create, and it is not removed', () => {
    const duplicate = credential('set-by-hand', true);
    assert.deepEqual(federatedCredentialGrants.diff([context.wanted], [duplicate], context), []);
  });

  it("someone else's credential under our name is refused, never overwritten", () => {
    assert.throws(
      () => federatedCredentialGrants.diff([context.wanted], [credential('aks-abc', false, 'https://other/')], context),
      (e: { code?: string }) => e.code === 'FederatedCredentialConflict',
    );
  });

  it('reconcile lists the identity once and says what to write, or the name it is held under', async () => {
    const azure = new FakeAzure();
    assert.deepEqual((await reconcileCredential(azure.ports(), context, budget())).write, { ...context.wanted, replaces: false });
    azure.credentials.set(IDENTITY, [credential('set-by-hand', false)]);
    const held = await reconcileCredential(azure.ports(), context, budget());
    assert.equal(held.write, undefined);
    assert.equal(held.heldAs, 'set-by-hand');
    assert.deepEqual(azure.calls, [`listCredentials ${IDENTITY}`, `listCredentials ${IDENTITY}`]);
  });
});
