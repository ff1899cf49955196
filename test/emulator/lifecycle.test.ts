import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import Ajv from 'ajv';
import {
  creatorOf,
  ROLE,
  resourceDeleteEvent,
  resourceWriteEvent,
  SEED_CREATOR,
  SEED_TYPES,
  seedFederatedCredential,
  seedResource,
  seedUserAssignedIdentity,
} from '../../tools/arm-emulator';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ lro: { durationMs: 100, retryAfterSeconds: 0 } });
const roleId = (guid: string) => `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const WEB_API = '2024-04-01';
const RESOURCES_EVENTS = join(
  __dirname,
  '../../tools/arm-emulator/specs/specification/eventgrid/data-plane/Microsoft.Resources/stable/2018-01-01/Resources.json',
);

/** Validates an event's `data` against the stored Event Grid data-plane spec's definition. */
function dataValidator(definition: string) {
  const spec = JSON.parse(readFileSync(RESOURCES_EVENTS, 'utf8'));
  const validate = new Ajv({ strict: false, allErrors: true }).compile({
    definitions: spec.definitions,
    $ref: `#/definitions/${definition}`,
  });
  const known = Object.keys(spec.definitions[definition].properties);
  return (data: Record<string, unknown>) => {
    assert.ok(validate(data), JSON.stringify(validate.errors));
    assert.deepEqual(
      Object.keys(data).filter((k) => !known.includes(k)),
      [],
      'no property the spec does not define',
    );
  };
}

describe('ResourceDeleteSuccess events', () => {
  const webApp = `/subscriptions/${SUB_A}/resourceGroups/rg-ev/providers/Microsoft.Web/sites/web-ev`;

  it('has the documented Event Grid shape: delete operation, DELETE request, data valid against Resources.json', async () => {
    const caller = randomUUID();
    const at = new Date('2026-01-02T03:04:05.000Z');
    const event = resourceDeleteEvent({ resourceId: webApp, callerObjectId: caller, eventTime: at, apiVersion: WEB_API });
    assert.equal(event.eventType, 'Microsoft.Resources.ResourceDeleteSuccess');
    assert.equal(event.subject, webApp.replace('/resourceGroups/', '/resourcegroups/'));
    assert.equal(event.topic, `/subscriptions/${SUB_A}`);
    assert.equal(event.eventTime, at.toISOString());
    assert.equal(event.dataVersion, '2');
    assert.equal(event.data.operationName, 'Microsoft.Web/sites/delete');
    assert.equal(event.data.authorization.action, 'Microsoft.Web/sites/delete');
    assert.equal(event.data.resourceProvider, 'Microsoft.Web');
    assert.equal(event.data.status, 'Succeeded');
    assert.equal(event.data.httpRequest.method, 'DELETE');
    assert.equal(event.data.httpRequest.url, `https://management.azure.com${webApp}?api-version=${WEB_API}`);
    assert.equal(event.data.claims['http://schemas.microsoft.com/identity/claims/objectidentifier'], caller);
    dataValidator('ResourceDeleteSuccessData')(event.data);

    const [parsed] = await new EventGridDeserializer().deserializeEventGridEvents(event);
    assert.ok(isSystemEvent('Microsoft.Resources.ResourceDeleteSuccess', parsed!));
    assert.notEqual(resourceDeleteEvent({ resourceId: webApp }).id, event.id, 'every event gets its own id');
  });

  it('has the documented CloudEvents 1.0 shape', async () => {
    const event = resourceDeleteEvent({ resourceId: webApp, schema: 'CloudEventSchemaV1_0' });
    assert.equal(event.type, 'Microsoft.Resources.ResourceDeleteSuccess');
    assert.equal(event.source, `/subscriptions/${SUB_A}`);
    assert.equal(event.specversion, '1.0');
    dataValidator('ResourceDeleteSuccessData')(event.data);
    const [parsed] = await new EventGridDeserializer().deserializeCloudEvents(event);
    assert.ok(isSystemEvent('Microsoft.Resources.ResourceDeleteSuccess', parsed!));
  });

  it('write events keep their documented shape', () => {
    const event = resourceWriteEvent({ resourceId: webApp });
    assert.equal(event.eventType, 'Microsoft.Resources.ResourceWriteSuccess');
    assert.equal(event.data.operationName, 'Microsoft.Web/sites/write');
    dataValidator('ResourceWriteSuccessData')(event.data);
  });
});

describe('deleting a resource, as Azure does', () => {
  it("removes its system-assigned principal from the directory; its role assignments stay, orphaned ('Identity not found')", async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-orphan',
      type: SEED_TYPES.webApp,
      name: 'web-orphan',
      identity: { type: 'SystemAssigned' },
    });
    const principalId = env.emulator.state.resource(id)!.body.identity.principalId as string;
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    const { resources, authorization } = env.clients();
    const scope = `/subscriptions/${SUB_A}/resourceGroups/rg-orphan`;
    const created = await authorization.roleAssignments.create(scope, randomUUID(), {
      roleDefinitionId: roleId(ROLE.reader),
      principalId,
      principalType: 'ServicePrincipal',
    });

    await resources.resources.beginDeleteByIdAndWait(id, WEB_API, { updateIntervalInMs: 10 });

    assert.equal(env.emulator.state.directory.get(principalId), undefined, 'the principal is gone from the directory');
    // ARM does not cascade: the assignment stays, listed with its now-unknown principal (Learn:
    // role-based-access-control/troubleshooting, "Role assignments with identity not found").
    const listed = [];
    for await (const a of authorization.roleAssignments.listForScope(scope, { filter: 'atScope()' })) listed.push(a);
    const orphan = listed.find((a) => a.id === created.id);
    assert.ok(orphan, 'the role assignment is still listed');
    assert.equal(orphan.principalId, principalId);
    assert.equal(orphan.principalType, 'ServicePrincipal');
    assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);
  });
});

describe('objects made by a person (seed helpers)', () => {
  it('a role assignment with another createdBy, even with the product-looking name and description', async () => {
    const person = env.emulator.state.directory.create({ type: 'User', displayName: 'Alex Operator' });
    const target = env.emulator.state.directory.create({ displayName: 'some workload' });
    const scope = env.emulator.state.addResourceGroup(SUB_A, 'rg-person');
    const seeded = env.emulator.state.grant({
      principalId: target.id,
      roleDefinitionGuid: ROLE.reader,
      scope,
      createdBy: person.id,
      name: randomUUID(),
      description: 'identity-autopilot: made by hand',
    });
    const got = await env.clients().authorization.roleAssignments.getById(seeded.id);
    assert.equal(got.createdBy, person.id);
    assert.equal(got.description, 'identity-autopilot: made by hand');
    assert.equal(got.name, seeded.name);
  });

  it('identities and federated credentials made by a person, or as if by the app', async () => {
    const { msi } = env.clients();
    const byPerson = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ids', name: 'id-person' });
    const byApp = seedUserAssignedIdentity(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ids',
      name: 'id-app',
      createdBy: creatorOf(env.emulator.appPrincipal),
    });
    assert.deepEqual(
      [(await msi.userAssignedIdentities.get('rg-ids', 'id-person')).systemData?.createdBy, byPerson.systemData.createdByType],
      [SEED_CREATOR.by, 'User'],
    );
    const app = await msi.userAssignedIdentities.get('rg-ids', 'id-app');
    assert.equal(app.systemData?.createdBy, env.emulator.appPrincipal.clientId);
    assert.equal(app.systemData?.createdByType, 'Application');
    assert.equal(byApp.systemData.createdBy, env.emulator.appPrincipal.clientId);

    const issuer = 'https://westeurope.oic.prod-aks.azure.com/tenant/issuer/';
    seedFederatedCredential(
      env.emulator.state,
      byApp.id,
      'fic-person',
      { issuer, subject: 'system:serviceaccount:a:b' },
      'alex@contoso.example',
    );
    seedFederatedCredential(
      env.emulator.state,
      byApp.id,
      'fic-app',
      { issuer, subject: 'system:serviceaccount:a:c' },
      creatorOf(env.emulator.appPrincipal),
    );
    const person = await msi.federatedIdentityCredentials.get('rg-ids', 'id-app', 'fic-person');
    assert.deepEqual([person.systemData?.createdBy, person.systemData?.createdByType], ['alex@contoso.example', 'User']);
    const app2 = await msi.federatedIdentityCredentials.get('rg-ids', 'id-app', 'fic-app');
    assert.deepEqual([app2.systemData?.createdBy, app2.systemData?.createdByType], [env.emulator.appPrincipal.clientId, 'Application']);
  });
});

describe('the event feed: what ARM publishes, delivered late and out of order', () => {
  it('records nothing until enabled', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-feed0',
      type: SEED_TYPES.webApp,
      name: 'web-quiet',
    });
    await rawArm(env.emulator, 'DELETE', `${id}?api-version=${WEB_API}`);
    assert.equal(env.emulator.events.pending.length, 0);
  });

  it('records writes when accepted and deletes when they end; tests take them in any order, with their own eventTime', async () => {
    const feed = env.emulator.events;
    feed.enabled = true;
    try {
      env.emulator.state.grant({
        principalId: env.emulator.appPrincipal.id,
        roleDefinitionGuid: ROLE.owner,
        scope: `/subscriptions/${SUB_A}`,
      });
      env.emulator.state.addResourceGroup(SUB_A, 'rg-feed');
      const app = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-feed',
        type: SEED_TYPES.containerApp,
        name: 'ca-feed',
      });
      const { msi, resources } = env.clients();
      const ua = await msi.userAssignedIdentities.createOrUpdate('rg-feed', 'id-feed', { location: 'westeurope' });
      const poller = await resources.resources.beginDeleteById(app, '2024-03-01', { updateIntervalInMs: 10 });
      assert.deepEqual(
        feed.pending.map((c) => [c.verb, c.resourceId]),
        [['write', ua.id]],
        'the long-running delete is not published while it runs',
      );
      await poller.pollUntilDone();
      const web = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-feed',
        type: SEED_TYPES.webApp,
        name: 'web-feed',
      });
      await rawArm(env.emulator, 'DELETE', `${web}?api-version=${WEB_API}`);
      assert.deepEqual(
        feed.pending.map((c) => [c.verb, c.resourceId]),
        [
          ['write', ua.id],
          ['delete', app],
          ['delete', web],
        ],
      );
      const published = feed.pending.map((c) => c.at.toISOString());

      const events = feed.take({ order: [2, 0, 1] });
      assert.deepEqual(
        events.map((e) => [e.eventType, e.data.operationName]),
        [
          ['Microsoft.Resources.ResourceDeleteSuccess', 'Microsoft.Web/sites/delete'],
          ['Microsoft.Resources.ResourceWriteSuccess', 'Microsoft.ManagedIdentity/userAssignedIdentities/write'],
          ['Microsoft.Resources.ResourceDeleteSuccess', 'Microsoft.App/containerApps/delete'],
        ],
      );
      assert.deepEqual(
        events.map((e) => e.eventTime),
        [published[2], published[0], published[1]],
        'each keeps the time ARM published it',
      );
      assert.equal(events[0]!.data.claims['http://schemas.microsoft.com/identity/claims/objectidentifier'], env.emulator.appPrincipal.id);
      assert.equal(feed.pending.length, 0, 'taken events leave the feed');
      assert.throws(() => feed.take({ order: [1] }), /permutation/);
    } finally {
      feed.enabled = false;
      feed.take();
    }
  });

  it('delivers them to a handler in the chosen order with the chosen delays (late delivery)', async () => {
    const feed = env.emulator.events;
    feed.enabled = true;
    try {
      const ids = ['web-l1', 'web-l2'].map((name) =>
        seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-late', type: SEED_TYPES.webApp, name }),
      );
      for (const id of ids) await rawArm(env.emulator, 'DELETE', `${id}?api-version=${WEB_API}`);
      const received: Array<{ subject: string; at: number }> = [];
      const start = Date.now();
      await feed.deliver(
        async (e) => {
          received.push({ subject: e.subject, at: Date.now() - start });
        },
        { order: 'reversed', delaysMs: [150, 50], schema: 'CloudEventSchemaV1_0' },
      );
      assert.deepEqual(
        received.map((r) => r.subject.split('/').pop()),
        ['web-l2', 'web-l1'],
      );
      assert.ok(received[0]!.at >= 140 && received[1]!.at >= 190, JSON.stringify(received));
    } finally {
      feed.enabled = false;
      feed.take();
    }
  });
});
