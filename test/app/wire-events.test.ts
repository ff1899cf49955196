import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type WireEventsOptions, wireEvents } from '../../src/app/wire-events';
import { ArmManagementGroupPort } from '../../src/azure/management-group-port';
import { EXIT } from '../../src/cli/exit-codes';
import { runCli } from '../../src/cli/main';
import { GovernedSubscriptions } from '../../src/engine/governed-subscriptions';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { rulesFor } from '../support/app-fixture';
import { SUB_A, SUB_B, takeSpecViolations, useEmulator } from '../support/emulator-fixture';

const SUB_C = '33333333-3333-4333-8333-333333333333';
const env = useEmulator({ subscriptions: [SUB_A, SUB_B, SUB_C] });

const rules = (types = '[Microsoft.Web/sites, Microsoft.App/containerApps]') =>
  rulesFor(`
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  managementGroups: [mg-wired]
  resourceTypes: ${types}
profiles: {}
rules:
  - name: all
    identity: { kind: SystemAssigned }
`);

describe('identity-autopilot wire-events: a system topic and an event subscription in every governed subscription', () => {
  let options: WireEventsOptions;
  let connection: ReturnType<typeof env.connection>;
  const governed = (r: ReturnType<typeof rules>) => new GovernedSubscriptions(r, new ArmManagementGroupPort(connection));

  before(() => {
    const state = env.emulator.state;
    state.addManagementGroup('mg-wired');
    state.moveSubscription(SUB_B, 'mg-wired');
    // The operator who runs the command: Owner on the group (inherited by SUB_B) and on SUB_A; nothing on SUB_C.
    const operator = state.directory.create({ displayName: 'operator', type: 'User' });
    state.grant({
      principalId: operator.id,
      roleDefinitionGuid: ROLE.owner,
      scope: '/providers/Microsoft.Management/managementGroups/mg-wired',
      principalType: 'User',
    });
    state.grant({ principalId: operator.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}`, principalType: 'User' });
    connection = env.connection(env.emulator.credentialFor(operator));
    const fn = seedResource(state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-autopilot',
      type: SEED_TYPES.webApp,
      name: 'func-autopilot',
    });
    options = {
      functionAppId: fn,
      topicResourceGroup: 'rg-autopilot-events',
      location: 'westeurope',
      deadLetter: {
        storageAccountId: `/subscriptions/${SUB_A}/resourceGroups/rg-autopilot/providers/Microsoft.Storage/storageAccounts/stautopilot`,
        container: 'deadletter',
      },
    };
    // SUB_B already has the subscription's one system topic, elsewhere: it is reused, not duplicated.
    state.addResourceGroup(SUB_B, 'rg-platform');
    const existing = `/subscriptions/${SUB_B}/resourceGroups/rg-platform/providers/Microsoft.EventGrid/systemTopics/platform-arm`;
    state.resources.set(existing.toLowerCase(), {
      id: existing,
      body: {
        id: existing,
        name: 'platform-arm',
        type: 'Microsoft.EventGrid/systemTopics',
        location: 'global',
        tags: {},
        properties: { source: `/subscriptions/${SUB_B}`, topicType: 'Microsoft.Resources.Subscriptions', provisioningState: 'Succeeded' },
      },
    });
  });

  it('first run: creates what is missing, reuses an existing topic, resolves the management group', async () => {
    const r = rules();
    const results = await wireEvents(connection, r, governed(r), options);
    assert.deepEqual(
      results.map((x) => [x.subscriptionId, x.topic?.action, x.eventSubscription?.action, x.error]),
      [
        [SUB_A, 'created', 'created', undefined],
        [SUB_B, 'reused', 'created', undefined],
      ],
    );
    const sub = env.emulator.state.resource(`${results[1]!.topic!.id}/eventSubscriptions/identity-autopilot`)!.body.properties;
    assert.equal(sub.destination.properties.resourceId, `${options.functionAppId}/functions/resourceWriteSuccess`);
    assert.deepEqual(sub.filter.advancedFilters[0].values, [
      'Microsoft.Web/sites/write',
      'Microsoft.App/containerApps/write',
      'Microsoft.Resources/tags/write',
      'Microsoft.Web/sites/delete',
      'Microsoft.App/containerApps/delete',
      'Microsoft.App/managedEnvironments/daprComponents/delete',
    ]);
    assert.deepEqual(sub.filter.includedEventTypes, [
      'Microsoft.Resources.ResourceWriteSuccess',
      'Microsoft.Resources.ResourceDeleteSuccess',
    ]);
    assert.equal(sub.deadLetterWithResourceIdentity.identity.type, 'SystemAssigned');
    assert.ok(
      env.emulator.state.resourceGroups.has(`/subscriptions/${SUB_A}/resourcegroups/rg-autopilot-events`),
      'the topic resource group was created',
    );
  });

  it('second run: idempotent, reads only and makes no write', async () => {
    const r = rules();
    const seq = env.emulator.lastSeq;
    const results = await wireEvents(connection, r, governed(r), options);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    assert.deepEqual(
      results.map((x) => [x.topic?.action, x.eventSubscription?.action]),
      [
        ['reused', 'unchanged'],
        ['reused', 'unchanged'],
      ],
    );
  });

  it('a change in the governed types updates each event subscription, and a new subscription under the group is wired in one run', async () => {
    env.emulator.state.moveSubscription(SUB_C, 'mg-wired');
    const r = rules('[Microsoft.Web/sites]');
    const results = await wireEvents(connection, r, governed(r), options);
    assert.deepEqual(
      results.map((x) => [x.subscriptionId, x.topic?.action, x.eventSubscription?.action]),
      [
        [SUB_A, 'reused', 'updated'],
        [SUB_B, 'reused', 'updated'],
        [SUB_C, 'created', 'created'],
      ],
    );
  });

  it('a subscription the operator may not write is reported with its error; the others are still wired', async () => {
    const outsider = env.emulator.state.directory.create({ displayName: 'outsider', type: 'User' });
    env.emulator.state.grant({
      principalId: outsider.id,
      roleDefinitionGuid: ROLE.reader,
      scope: '/providers/Microsoft.Management/managementGroups/mg-wired',
      principalType: 'User',
    });
    const weak = env.connection(env.emulator.credentialFor(outsider));
    const r = rules('[Microsoft.Compute/virtualMachines]');
    const results = await wireEvents(weak, r, new GovernedSubscriptions(r, new ArmManagementGroupPort(weak)), options);
    assert.equal(results.length, 3);
    for (const x of results) assert.match(x.error ?? '', /AuthorizationFailed|does not have authorization/);
    await takeSpecViolations(env.emulator);
  });

  it('refuses a function app id that is not a Function App before any call', async () => {
    const r = rules();
    const seq = env.emulator.lastSeq;
    await assert.rejects(
      wireEvents(connection, r, governed(r), {
        ...options,
        functionAppId: `/subscriptions/${SUB_A}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x`,
      }),
      /not a Function App id/,
    );
    assert.equal(env.emulator.lastSeq, seq);
  });

  it('the CLI command needs the Function App, resource group and region, and says so before any session', async () => {
    const saved = { ...process.env };
    for (const k of ['AZURE_FUNCTION_APP_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_LOCATION']) delete process.env[k];
    let err = '';
    try {
      const code = await runCli(['wire-events', '--location', 'westeurope'], {
        io: { out: () => undefined, err: (t: string) => (err += t) },
      });
      assert.equal(code, EXIT.usage);
      assert.match(err, /wire-events needs --function-app-id, --resource-group and --location/);
    } finally {
      Object.assign(process.env, saved);
    }
  });
});
