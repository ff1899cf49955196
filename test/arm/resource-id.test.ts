import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArmId } from '../../src/arm/resource-id';
import { isAutopilotError } from '../../src/errors';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { GOOD_WEB, HOSTILE_IDS } from '../support/hostile-ids';

const env = useEmulator({ subscriptions: [SUB_A] });

function refusal(value: unknown): Error {
  try {
    parseArmId(value);
  } catch (e) {
    return e as Error;
  }
  assert.fail(`${JSON.stringify(value)} was accepted`);
}

describe('ARM ids are canonical and strict (src/arm/resource-id.ts)', () => {
  for (const { label, id } of HOSTILE_IDS) {
    it(`refuses ${label} with InvalidResourceId and a clean message`, () => {
      const e = refusal(id);
      assert.ok(isAutopilotError(e, 'InvalidResourceId'), `${e.name}: ${e.message}`);
      assert.doesNotMatch(e.message, /TypeError|Cannot read|undefined/);
      // The message quotes the id with control characters spelled out, never raw.
      assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f\u202e]/);
    });
  }

  it('refuses values that are not strings, without a TypeError', () => {
    for (const value of [undefined, null, 42, {}, ['/subscriptions']]) {
      const e = refusal(value);
      assert.ok(isAutopilotError(e, 'InvalidResourceId'), `${String(value)}: ${e.message}`);
    }
  });

  it('still accepts canonical ids, extension scopes and one trailing slash (dropped)', () => {
    assert.equal(parseArmId(GOOD_WEB).id, GOOD_WEB);
    assert.equal(parseArmId(`${GOOD_WEB}/`).id, GOOD_WEB);
    assert.equal(parseArmId(`/subscriptions/${SUB_A}/resourcegroups/rg.with.dots(1)`).resourceGroup, 'rg.with.dots(1)');
    assert.equal(parseArmId(`${GOOD_WEB}/slots/staging`).type, 'Microsoft.Web/sites/slots');
    assert.equal(parseArmId('/providers/Microsoft.Management/managementGroups/mg1').kind, 'managementGroup');
  });

  it('each id marked normalised really reaches another path through the SDK (getById), so refusing it matters', async () => {
    // What the product would send if the parser let it through: the real ResourceManagementClient's
    // getById (path '/{resourceId}', skipEncoding) and core-client's URL building.
    grantAppOwner(env.emulator);
    const { resources } = env.clients();
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ids', type: SEED_TYPES.webApp, name: 'web-ids' });
    for (const { label, id } of HOSTILE_IDS.filter((h) => h.normalised)) {
      const before = env.emulator.lastSeq;
      await resources.resources.getById(id, '2024-04-01').catch(() => undefined);
      const sent = env.emulator.requestsSince(before).find((r) => r.method === 'GET');
      assert.ok(sent, `${label}: the SDK sent a request`);
      assert.notEqual(sent.path.toLowerCase(), id.toLowerCase(), `${label}: the SDK sent exactly the id (${sent.rawPath})`);
    }
    // The control: a canonical id reaches exactly its own path.
    const before = env.emulator.lastSeq;
    await resources.resources.getById(GOOD_WEB, '2024-04-01');
    assert.equal(env.emulator.requestsSince(before)[0]!.path, GOOD_WEB);
    await takeSpecViolations(env.emulator);
  });
});
