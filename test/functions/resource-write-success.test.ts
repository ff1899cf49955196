import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedScopeResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator();
const READER = ROLE.reader;
const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';

function assignmentsOf(principalId: string) {
  return env.emulator.state
    .assignmentsFor(principalId)
    .map((a) => ({ scope: a.scope.toLowerCase(), role: a.roleDefinitionGuid, type: a.principalType }));
}

describe('Event Grid trigger: ResourceWriteSuccess → identity and roles', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(TRIGGER_RULES));
  });

  // AKS grants the kubelet identity and writes nothing to the cluster: test/functions/aks-identity.test.ts.
  const types = Object.entries(SEED_TYPES).filter(([, type]) => type !== SEED_TYPES.managedCluster);
  for (const [i, [label, type]] of types.entries()) {
    it(`${type}: gets a system-assigned identity and exactly its roles`, async () => {
      // Manual-policy scale sets (Azure's default) end pending or upgraded: test/functions/scale-set-upgrade.test.ts.
      const policy = type === SEED_TYPES.scaleSet ? { upgradePolicy: 'Automatic' as const } : {};
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-apps',
        type,
        name: `${label.toLowerCase()}-1`,
        ...policy,
      });
      const bodyBefore = structuredClone(env.emulator.state.resource(id)!.body);
      const event = resourceWriteEvent({ resourceId: id, schema: i % 2 === 0 ? 'EventGridSchema' : 'CloudEventSchemaV1_0' });
      const d = await deliver(app, event);
      assert.equal(d.error, undefined, String(d.error));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const after = env.emulator.state.resource(id)!.body;
      assert.equal(after.identity.type, 'SystemAssigned');
      assert.equal(d.outcome!.principalId, after.identity.principalId);
      assert.deepEqual(
        assignmentsOf(after.identity.principalId).sort((a, b) => a.scope.localeCompare(b.scope)),
        [
          { scope: `/subscriptions/${SUB_A}/resourcegroups/rg-apps`, role: READER, type: 'ServicePrincipal' },
          { scope: id.toLowerCase(), role: METRICS_PUBLISHER, type: 'ServicePrincipal' },
        ].sort((a, b) => a.scope.localeCompare(b.scope)),
      );
      // Everything but identity and provisioning state is as it was (GET-modify-PUT keeps the body).
      const { identity: _i, properties: p1, ...rest1 } = after;
      const { identity: _j, properties: p0, ...rest0 } = bodyBefore;
      assert.deepEqual(rest1, rest0);
      assert.deepEqual({ ...p1, provisioningState: 'x' }, { ...p0, provisioningState: 'x' });
      assert.equal(d.outcome!.correlationId, event.data.correlationId);
    });
  }

  it('keeps an existing user-assigned identity when it adds the system-assigned one', async () => {
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', name: 'id-existing' });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-with-ua',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated');
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'SystemAssigned, UserAssigned');
    assert.deepEqual(Object.keys(identity.userAssignedIdentities), [ua.id]);
    assert.equal(assignmentsOf(ua.properties.principalId).length, 0, 'roles go to the system-assigned identity the rule asks for');
  });

  it('creates and attaches a user-assigned identity when the rule says so, and grants it the roles', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua-team',
      type: SEED_TYPES.containerApp,
      name: 'orders',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const uaId = `/subscriptions/${SUB_A}/resourceGroups/rg-ua-team/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`;
    const ua = env.emulator.state.resource(uaId);
    assert.ok(ua, 'the identity was created');
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'UserAssigned');
    assert.deepEqual(Object.keys(identity.userAssignedIdentities), [uaId]);
    assert.deepEqual(assignmentsOf(ua.body.properties.principalId), [
      { scope: `/subscriptions/${SUB_A}/resourcegroups/rg-ua-team`, role: READER, type: 'ServicePrincipal' },
    ]);
    assert.deepEqual(d.outcome!.actions.map((a: { kind: string }) => a.kind).sort(), [
      'identity-written',
      'role-assigned',
      'user-assigned-identity-created',
    ]);
  });

  it('a tag picks an allowed profile; the tagged Key Vault gets the grant', async () => {
    const vault = seedScopeResource(
      env.emulator.state,
      `/subscriptions/${SUB_A}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-orders`,
    );
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-kv',
      tags: { 'autopilot-profiles': 'vault-secrets', 'kv-id': vault },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated');
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.ok(assignmentsOf(principal).some((a) => a.scope === vault.toLowerCase() && a.role === KV_SECRETS_USER));
  });

  it('a second delivery of the same event makes zero ARM calls; a new event for the same resource makes zero writes', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-twice',
    });
    const event = resourceWriteEvent({ resourceId: id });
    assert.equal((await deliver(app, event)).outcome?.status, 'remediated');
    let before = env.emulator.lastSeq;
    const again = await deliver(app, event);
    assert.equal(again.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'duplicate-delivery');
    assert.deepEqual(env.emulator.requestsSince(before), [], 'the ledger knows this event id');
    // Another write to the same resource raises a new event: the engine re-checks and changes nothing.
    before = env.emulator.lastSeq;
    const update = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(update.outcome?.status, 'compliant');
    assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
  });

  it('an event caused by the app itself makes zero ARM calls (loop guard)', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-own',
    });
    await app.self(); // the app learns who it is from its own token once, at start
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id, callerObjectId: env.emulator.appPrincipal.id }));
    assert.equal(d.outcome, undefined);
    assert.equal(d.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'own-write');
    assert.deepEqual(env.emulator.requestsSince(before), []);
  });

  it('ignores, with the reason logged and no ARM call: other event types, deployments, role assignments, children, unsupported types, opt-out', async () => {
    const optedOut = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-optout',
      tags: { 'autopilot-optout': 'true' },
    });
    const base = `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers`;
    const cases: Array<[Record<string, any>, string]> = [
      [
        resourceWriteEvent({ resourceId: `${base}/Microsoft.Web/sites/x`, eventType: 'Microsoft.Resources.ResourceActionSuccess' }),
        'event-type',
      ],
      // Deletes start a clean-up (resource-delete-success.test.ts), but only for a delete operation.
      [
        resourceWriteEvent({ resourceId: `${base}/Microsoft.Web/sites/x`, eventType: 'Microsoft.Resources.ResourceDeleteSuccess' }),
        'not-a-delete',
      ],
      [
        resourceWriteEvent({ resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers/Microsoft.Resources/deployments/d1` }),
        'not-a-workload',
      ],
      [
        resourceWriteEvent({
          resourceId: `${base}/Microsoft.Web/sites/x/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-0000-4000-8000-000000000000`,
          operationName: 'Microsoft.Authorization/roleAssignments/write',
        }),
        'not-a-workload',
      ],
      // Deployment slots are catalogued; a child outside the catalogue (a site's config) is skipped.
      [
        resourceWriteEvent({ resourceId: `${base}/Microsoft.Web/sites/x/config/web`, operationName: 'Microsoft.Web/sites/config/write' }),
        'child-resource',
      ],
      [resourceWriteEvent({ resourceId: `${base}/Microsoft.Storage/storageAccounts/st1` }), 'type-not-governed'],
    ];
    const before = env.emulator.lastSeq;
    for (const [event, reason] of cases) {
      const d = await deliver(app, event);
      const logged = d.logs.find((l) => l.record.event === 'event.ignored')?.record.reason ?? d.outcome?.skipped?.[0]?.reason;
      assert.equal(logged, reason, JSON.stringify(d.logs));
    }
    assert.deepEqual(env.emulator.requestsSince(before), [], 'none of these reached ARM');
    const optOut = await deliver(app, resourceWriteEvent({ resourceId: optedOut }));
    assert.equal(optOut.outcome?.status, 'skipped');
    assert.equal(optOut.outcome?.skipped[0].reason, 'opted-out');
    assert.equal(env.emulator.state.resource(optedOut)!.body.identity, undefined);
  });

  it('rejects malformed events with a logged reason, never reaching ARM', async () => {
    const good = resourceWriteEvent({ resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers/Microsoft.Web/sites/x` });
    const { data: _d, ...noData } = good;
    const huge = { ...good, data: { ...good.data, padding: 'x'.repeat(1024 * 1024) } };
    const cases: unknown[] = [
      noData,
      { ...good, data: 'not an object' },
      { ...good, eventType: 42 },
      { ...good, subject: 'not-an-id', data: { ...good.data, resourceUri: 'also/not/an/id' } },
      huge,
      'not json at all',
      null,
      [good],
    ];
    const before = env.emulator.lastSeq;
    for (const event of cases) {
      const d = await deliver(app, event);
      assert.equal(d.error, undefined, 'a malformed event is acknowledged, not retried');
      const rejected = d.logs.find((l) => l.record.event === 'event.rejected');
      assert.ok(rejected, `rejected with a reason: ${JSON.stringify(d.logs)}`);
      assert.match(rejected.record.detail, /^malformed event: /);
    }
    assert.deepEqual(env.emulator.requestsSince(before), []);
  });

  it('logs one structured line per outcome with the correlation id and no token', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-log',
    });
    const event = resourceWriteEvent({ resourceId: id });
    const d = await deliver(app, event);
    const outcomes = d.logs.filter((l) => l.record.event === 'remediation.outcome');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]!.record.correlationId, event.data.correlationId);
    assert.equal(outcomes[0]!.record.resourceId.toLowerCase(), id.toLowerCase());
    const text = JSON.stringify(d.logs);
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{5,}\./, 'no JWT in the logs');
    assert.doesNotMatch(text, new RegExp(env.emulator.managedIdentityEnvironment.IDENTITY_HEADER));
  });
});

describe('user-assigned identities the app did not create', () => {
  it('are never attached, even when a resource name produces their name (no confused deputy)', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    // Someone else's identity, with roles of its own, named as the rule's template would name it.
    const theirs = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ua-pay', name: 'id-payments' });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua-pay',
      type: SEED_TYPES.containerApp,
      name: 'payments',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'failed');
    assert.equal(d.outcome?.errors[0].code, 'IdentityNotOwned');
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined, 'nothing attached');
    assert.equal(env.emulator.state.assignmentsFor(theirs.properties.principalId).length, 0);
  });

  it('an identity the app created for one resource is reused by that resource only, never by another that names it', async () => {
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    const first = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua-reuse',
      type: SEED_TYPES.containerApp,
      name: 'shop',
    });
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: first }))).outcome?.status, 'remediated');
    // The same name in the same resource group, another governed type: the template names the same identity.
    const second = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua-reuse',
      type: SEED_TYPES.containerGroup,
      name: 'shop',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: second }));
    assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.errors[0].code, 'IdentityNotOwned');
    assert.match(d.outcome?.errors[0].message, /made for '\/subscriptions\/.*containerapps\/shop', not for this resource/i);
    assert.equal(env.emulator.state.resource(second)!.body.identity, undefined, 'nothing attached');
    // The resource it was made for gets it back after someone detaches it.
    env.emulator.state.resource(first)!.body.identity = { type: 'None' };
    const again = await deliver(app, resourceWriteEvent({ resourceId: first }));
    assert.equal(again.outcome?.status, 'remediated', JSON.stringify(again.outcome));
    assert.ok(again.outcome!.actions.some((a: { kind: string }) => a.kind === 'user-assigned-identity-reused'));
  });
});
