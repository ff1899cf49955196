import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import Ajv from 'ajv';
import { ROLE, resourceDeleteEvent, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();
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
