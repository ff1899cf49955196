/**
 * Issue 25 item 6: the sandbox's secretless demo, asserted against the emulator's state: the key-based
 * blob state store is reported, refused while the grant is young, migrated by the sweep after the window
 * (its key metadata and secret gone from the emulator), the storage account then ready (with the
 * sole-consumers declaration), and the Service Bus namespace not ready because of the connection string.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '../../src/sandbox/environment';
import { runSecretlessDemo, type SecretlessDemoResult } from '../../src/sandbox/secretless-demo';
import { SANDBOX_PLANTED_KEY } from '../../src/sandbox/secretless-estate';

describe('sandbox: the secretless demo', () => {
  let sandbox: Sandbox;
  let result: SecretlessDemoResult;
  let printed = '';
  before(async () => {
    sandbox = await startSandbox();
    result = await runSecretlessDemo(sandbox.emulator, sandbox.app, (t) => (printed += t));
  });
  after(() => sandbox.close());

  const component = (s: SecretlessDemoResult['sweeps'][number]) => s.components.find((c) => c.componentId === result.ids.componentId)!;
  const target = (s: SecretlessDemoResult['sweeps'][number], id: string) => s.targets.find((t) => t.id === id)!;

  it('reports the key-based blob state store, and refuses to migrate it while the grant is younger than the window', () => {
    const [first] = result.sweeps;
    assert.equal(component(first!).method, 'key');
    assert.equal(component(first!).apps[0]!.grants[0]!.status, 'held');
    assert.deepEqual(
      first!.migrations?.map((m) => [m.name, m.status]),
      [['orders-state', 'refused']],
    );
    assert.match(first!.migrations![0]!.detail, /min old; role assignments take up to 15 min to apply/);
    assert.equal(target(first!, result.ids.storageAccountId).verdict, 'not-ready');
  });

  it('migrates it after the window: the emulator holds the component without its key metadata and secret', () => {
    assert.deepEqual(
      result.sweeps[1]!.migrations?.map((m) => [m.name, m.status]),
      [['orders-state', 'migrated']],
    );
    const body = sandbox.emulator.state.resource(result.ids.componentId)!.body.properties;
    assert.deepEqual(
      body.metadata.map((m: { name: string }) => m.name),
      ['accountName', 'containerName'],
    );
    assert.deepEqual(body.secrets ?? [], []);
    assert.equal(component(result.sweeps[2]!).method, 'managed-identity');
    assert.match(printed, /backdates the createdOn of checkout-keys's role assignments by 20 minutes in the emulator's state/);
  });

  it('then reports the storage account ready (declared sole consumers) and Service Bus not ready (a connection string remains)', () => {
    const third = result.sweeps[2]!;
    assert.equal(target(third, result.ids.storageAccountId).verdict, 'ready');
    const sb = target(third, result.ids.serviceBusId);
    assert.equal(sb.verdict, 'not-ready');
    assert.match(sb.blockers.join(), /legacy-pubsub .*'connectionString' \(connection-string\)/);
    assert.match(printed, /soleConsumerScopes, the app setting AUTOPILOT_SECRETLESS_SOLE_CONSUMERS/);
    assert.ok(!printed.includes(SANDBOX_PLANTED_KEY), 'no key value printed');
  });
});
