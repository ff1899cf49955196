// The `npm run build` output (tsc, the repository's node_modules) inside the real Node.js worker, as
// `func start` runs a clone: the same registrations as the deployed package, and an invocation that
// reaches the lazily loaded runtime through the worker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { packagedApp, sourceApp } from './app-builds';
import { type FunctionMetadata, FunctionsHost, rawBindings, Status } from './host';
import { emulatorAppSettings, eventGridInput } from './support';

const env = useEmulator();

/** What the host registers from a function's metadata, without the generated binding names. */
function registration(fn: FunctionMetadata) {
  return { name: fn.name, bindings: rawBindings(fn).map(({ name, ...b }) => ({ ...b, name: name === '$return' ? name : 'trigger' })) };
}

describe('the tsc build inside the Azure Functions Node.js worker', () => {
  let source: FunctionsHost;
  let settings: Record<string, string>;
  before(async () => {
    grantAppOwner(env.emulator);
    settings = emulatorAppSettings(env.emulator, TRIGGER_RULES);
    source = await FunctionsHost.start({ appDir: sourceApp(), env: settings });
  });
  after(async () => {
    await source?.close();
  });

  it('registers exactly what the deployed package registers', async () => {
    const fromSource = await source.functionsMetadata();
    assert.equal(fromSource.result.status, Status.Success, JSON.stringify(fromSource.result));
    const packaged = await FunctionsHost.start({ appDir: packagedApp(), env: settings });
    try {
      const fromPackage = await packaged.functionsMetadata();
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual(fromSource.functionMetadataResults.map(registration).sort(byName), fromPackage.functionMetadataResults.map(registration).sort(byName));
      assert.ok(fromSource.functionMetadataResults.length >= 7);
    } finally {
      await packaged.close();
    }
  });

  it('an Event Grid event remediates the resource through the lazily loaded runtime', async () => {
    const metadata = await source.functionsMetadata();
    const functions = await source.loadFunctions(metadata.functionMetadataResults);
    const fn = functions.get('resourceWriteSuccess')!;
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', type: SEED_TYPES.containerApp, name: 'ca-worker-src' });
    const { response } = await source.invoke(fn, eventGridInput(fn, resourceWriteEvent({ resourceId: id, schema: 'CloudEventSchemaV1_0' })));
    assert.equal(response.result.status, Status.Success, JSON.stringify(response.result));
    assert.equal(env.emulator.state.resource(id)!.body.identity?.type, 'SystemAssigned');
  });
});
