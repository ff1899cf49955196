import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { runSweep } from '../../src/sweep';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { aksRules } from '../functions/rules.fixture';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { buildSweepApp } from './fixture';

const env = useEmulator();

/** The sweep plans AKS with the same facts as a full GET: Resource Graph rows carry the kubelet identity. */
describe('compliance sweep: AKS clusters are judged by the kubelet identity', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildSweepApp(env, rulesFor(aksRules()));
  });

  it('reports the kubelet identity missing its roles, then compliant once it holds them (the control plane never counts)', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-sweep-aks',
      type: SEED_TYPES.managedCluster,
      name: 'aks-sweep',
    });
    const body = env.emulator.state.resource(id)!.body;
    const kubelet = body.properties.identityProfile.kubeletidentity.objectId as string;
    const scope = `/subscriptions/${SUB_A}/resourceGroups/rg-sweep-aks`;
    // The control plane holding the role does not make the cluster compliant: pods do not run as it.
    env.emulator.state.grant({ principalId: body.identity.principalId, roleDefinitionGuid: ROLE.reader, scope });
    const first = await runSweep(app, { reportOnly: true });
    const finding = first.findings.find((f) => f.resourceId.toLowerCase() === id.toLowerCase());
    assert.ok(finding, JSON.stringify(first.findings));
    assert.equal(finding.principalId, kubelet);
    assert.deepEqual(finding.problems, ['role-assignments-missing']);

    env.emulator.state.grant({ principalId: kubelet, roleDefinitionGuid: ROLE.reader, scope });
    const second = await runSweep(app, { reportOnly: true });
    assert.equal(
      second.findings.find((f) => f.resourceId.toLowerCase() === id.toLowerCase()),
      undefined,
    );
    assert.ok(second.totals.compliant >= 1);
  });
});
