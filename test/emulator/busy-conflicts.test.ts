import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ArmClientPool } from '../../src/azure/clients';
import { ArmResourcePort } from '../../src/azure/resource-port';
import { ArmCallError } from '../../src/errors';
import { ROLE } from '../../tools/arm-emulator';
import { beginOperation } from '../../tools/arm-emulator/handlers/operations';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ lro: { timeFactor: 1 / 1000, retryAfterSeconds: 0 } });

/** A write while another operation runs gets the RP's own conflict; the product reads each the RP's way. */
describe("busy resources: each RP's conflict, and how the product classifies it", () => {
  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
  });

  const cases = [
    {
      type: SEED_TYPES.managedCluster,
      api: '2024-09-01',
      method: 'PUT',
      code: 'OperationNotAllowed',
      message: /Another operation \(Updating\) is in progress/,
    },
    {
      type: SEED_TYPES.containerGroup,
      api: '2023-05-01',
      method: 'PUT',
      code: 'ContainerGroupTransitioning',
      message: /is still transitioning, please retry later/,
    },
    {
      type: SEED_TYPES.virtualMachine,
      api: '2024-07-01',
      method: 'PATCH',
      code: 'AnotherOperationInProgress',
      message: /Another operation on this or dependent resource is in progress/,
    },
  ] as const;

  for (const c of cases) {
    it(`${c.type}: a second write during an operation gets 409 ${c.code}, which the product treats as transient`, async () => {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-conflict',
        type: c.type,
        name: `busy-${c.code.toLowerCase()}`,
      });
      const body = c.method === 'PUT' ? env.emulator.state.resource(id)!.body : { identity: { type: 'SystemAssigned' } };
      beginOperation(env.emulator.state, id, 60_000);
      const raw = await rawArm(env.emulator, c.method, `${id}?api-version=${c.api}`, {
        body: c.method === 'PUT' ? { ...body, identity: { type: 'SystemAssigned' } } : body,
      });
      assert.equal(raw.status, 409);
      assert.equal(raw.json.error.code, c.code);
      assert.match(raw.json.error.message, c.message);

      const port = new ArmResourcePort(new ArmClientPool(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal))), {
        pollIntervalMs: 20,
      });
      const state = (await port.read(id, AbortSignal.timeout(10_000)))!;
      assert.equal(state.provisioningState, 'Updating');
      const error = await port.writeIdentity(state, { type: 'SystemAssigned' }, AbortSignal.timeout(10_000)).catch((e: unknown) => e);
      assert.ok(error instanceof ArmCallError, String(error));
      assert.equal(error.code, c.code);
      assert.equal(error.transient, true, 'clears once the running operation ends');
      await takeSpecViolations(env.emulator);
    });
  }

  it('AKS OperationNotAllowed for anything but a running operation (quota, an unsupported change) stays permanent', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-conflict',
      type: SEED_TYPES.managedCluster,
      name: 'aks-quota',
    });
    const fault = env.emulator.faults.add({
      method: 'PUT',
      path: 'aks-quota',
      action: {
        kind: 'error',
        status: 409,
        code: 'OperationNotAllowed',
        message: 'Operation is not allowed: Operation results in exceeding quota limits of Core.',
      },
    });
    try {
      const port = new ArmResourcePort(new ArmClientPool(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal))), {
        pollIntervalMs: 20,
      });
      const state = (await port.read(id, AbortSignal.timeout(10_000)))!;
      const error = await port.writeIdentity(state, { type: 'SystemAssigned' }, AbortSignal.timeout(10_000)).catch((e: unknown) => e);
      assert.ok(error instanceof ArmCallError);
      assert.equal(error.code, 'OperationNotAllowed');
      assert.equal(error.transient, false);
    } finally {
      fault.remove();
    }
  });

  it("operations last each RP's realistic time scaled by the time factor: AKS minutes, web apps at once", async () => {
    const aks = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-durations',
      type: SEED_TYPES.managedCluster,
      name: 'aks-timed',
    });
    const put = await rawArm(env.emulator, 'PUT', `${aks}?api-version=2024-09-01`, {
      body: { ...env.emulator.state.resource(aks)!.body, identity: { type: 'SystemAssigned' } },
    });
    assert.equal(put.status, 200);
    const op = [...env.emulator.state.operations.values()].at(-1)!;
    // 6 minutes x 1/1000.
    assert.ok(Math.abs(op.completeAt - Date.parse(op.startTime) - 360) <= 5, `${op.completeAt - Date.parse(op.startTime)} ms`);
    await takeSpecViolations(env.emulator);
  });
});
