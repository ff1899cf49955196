import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { OWNER_TAG } from '../../src/azure/user-assigned-identity-port';
import { ownerTagValue } from '../../src/engine/identity-owner';
import { executeRemovals, type Removal } from '../../src/engine/removals';
import { federatedCredentialName } from '../../src/engine/workload-identity';
import { ROLE } from '../../tools/arm-emulator';
import { seedFederatedCredential } from '../../tools/arm-emulator/handlers/federated-credentials';
import { seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { buildApp, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { remediatedWebApp, webReaderRules } from '../support/lifecycle';

/**
 * The removal machinery every lifecycle path uses, through the real SDK adapters against the emulator:
 * each object is read afresh right before its DELETE and removed only when ARM proves it the product's
 * for the owner named; everything else is kept and reported.
 */
const env = useEmulator();
const budget = () => ({ signal: AbortSignal.timeout(20_000) });
const assignmentId = (scope: string, name: string) => `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;

describe('executeRemovals: only what ARM proves ours, re-read right before each DELETE', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(webReaderRules()));
  });

  it("removes the app's own assignment for the resource, keeps a person's copy with the same description, and is idempotent", async () => {
    const rg = `/subscriptions/${SUB_A}/resourceGroups/rg-removals`;
    const { id, principalId } = await remediatedWebApp(env, app, 'rg-removals', 'rm-1');
    const ours = env.emulator.state.assignmentsFor(principalId).find((a) => a.roleDefinitionGuid === ROLE.reader)!;
    const byHand = env.emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.contributor, scope: rg });
    byHand.description = ours.description;
    const owner = { resourceId: id, principalId };
    const removals: Removal[] = [
      { kind: 'role-assignment', assignmentId: assignmentId(ours.scope, ours.name), owner, reason: 'test' },
      { kind: 'role-assignment', assignmentId: assignmentId(byHand.scope, byHand.name), owner, reason: 'test' },
    ];
    const from = env.emulator.lastSeq;
    const result = await executeRemovals(removals, app.ports, budget());
    assert.deepEqual(
      result.records.map((r) => [r.status, r.roleDefinitionGuid]),
      [
        ['removed', ROLE.reader],
        ['kept', ROLE.contributor],
      ],
      JSON.stringify(result),
    );
    assert.match(result.records[1]!.detail!, /createdBy/);
    const left = env.emulator.state.assignmentsFor(principalId).map((a) => a.roleDefinitionGuid);
    assert.deepEqual(left, [ROLE.contributor], "the person's assignment stays");
    const calls = env.emulator.requestsSince(from).map((r) => r.method);
    assert.deepEqual(calls, ['GET', 'DELETE', 'GET'], 'a fresh GET before each DELETE, none for what is kept');

    const again = await executeRemovals(removals.slice(0, 1), app.ports, budget());
    assert.deepEqual(
      again.records.map((r) => r.status),
      ['absent'],
      'a redelivery finds it gone',
    );
  });

  it('keeps an assignment of ours when the owner named is another resource or principal', async () => {
    const { id, principalId } = await remediatedWebApp(env, app, 'rg-removals2', 'rm-2');
    const ours = env.emulator.state.assignmentsFor(principalId)[0]!;
    const aid = assignmentId(ours.scope, ours.name);
    const result = await executeRemovals(
      [
        { kind: 'role-assignment', assignmentId: aid, owner: { resourceId: `${id}x`, principalId }, reason: 'test' },
        {
          kind: 'role-assignment',
          assignmentId: aid,
          owner: { resourceId: id, principalId: '00000000-0000-4000-8000-000000000001' },
          reason: 'test',
        },
      ],
      app.ports,
      budget(),
    );
    assert.deepEqual(
      result.records.map((r) => r.status),
      ['kept', 'kept'],
      JSON.stringify(result),
    );
    assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);
  });

  it("keeps an identity and a credential a person made, even with the product's owner tag and credential name", async () => {
    const cluster = `/subscriptions/${SUB_A}/resourceGroups/rg-removals3/providers/Microsoft.ContainerService/managedClusters/aks-x`;
    const identity = seedUserAssignedIdentity(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-removals3',
      name: 'id-by-hand',
    });
    identity.tags = { [OWNER_TAG]: ownerTagValue(cluster) };
    const identityId = String(identity.id);
    const name = federatedCredentialName(cluster);
    seedFederatedCredential(env.emulator.state, identityId, name, {
      issuer: 'https://issuer.example/',
      subject: 'system:serviceaccount:a:b',
    });
    const from = env.emulator.lastSeq;
    const result = await executeRemovals(
      [
        { kind: 'federated-credential', identityId, name, owner: { resourceId: cluster }, reason: 'test' },
        { kind: 'user-assigned-identity', identityId, owner: { resourceId: cluster, identityOwner: cluster }, reason: 'test' },
      ],
      app.ports,
      budget(),
    );
    assert.deepEqual(
      result.records.map((r) => [r.kind, r.status]),
      [
        ['federated-credential', 'kept'],
        ['user-assigned-identity', 'kept'],
      ],
      JSON.stringify(result),
    );
    assert.deepEqual(
      env.emulator.requestsSince(from).filter((r) => r.method === 'DELETE'),
      [],
    );
    assert.ok(env.emulator.state.resource(identityId));
  });
});
