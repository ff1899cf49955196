import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { type Azurite, startAzurite } from '../support/azurite';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();

describe('audit ledger with an identity-based connection', () => {
  let azurite: Azurite;
  before(async () => {
    // Azurite over HTTPS with OAuth: the ledger authenticates with the app's managed identity
    // (a bearer token for https://storage.azure.com from the emulator's token endpoint), as in Azure.
    azurite = await startAzurite({ tls: env.emulator.tls! });
  });
  after(() => azurite?.stop());

  it('writes every outcome with the app identity and finds it by resource and by request', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(
      env,
      rulesFor(TRIGGER_RULES),
      {},
      { AUTOPILOT_LEDGER_TABLE_URL: azurite.tableUrl, AUTOPILOT_LEDGER_TABLE: 'identityledger' },
    );
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ledger',
      type: SEED_TYPES.webApp,
      name: 'web-ledger',
    });
    const issuedBefore = env.emulator.tokensIssued.length;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated');
    const storageTokens = env.emulator.tokensIssued.slice(issuedBefore).filter((t) => t.resource.startsWith('https://storage.azure.com'));
    assert.ok(
      storageTokens.length > 0 && storageTokens.every((t) => t.principalId === env.emulator.appPrincipal.id),
      'storage tokens were issued to the app',
    );
    const [entry] = await app.ledger.byResourceId(id);
    assert.ok(entry);
    assert.equal(entry.status, 'remediated');
    assert.equal(entry.principalId, env.emulator.state.resource(id)!.body.identity.principalId);
    assert.deepEqual(await app.ledger.byRequestId(entry.requestId), entry);
    assert.equal(await app.ledger.hasHandledEvent(d.logs[0]!.record.eventId ?? entry.eventId!), true);
  });
});
