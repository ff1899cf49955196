import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManagementGroupsAPI } from '@azure/arm-managementgroups';
import { armClientOptions } from '../../src/azure/clients';
import { ROLE } from '../../tools/arm-emulator';
import { DESCENDANTS_PAGE_SIZE } from '../../tools/arm-emulator/handlers/management-groups';
import { SPEC_DIRECTORY } from '../../tools/arm-emulator/spec-validation';
import { takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const EXAMPLE = JSON.parse(
  // The stored examples moved with the emulator to tools/arm-emulator/specs (SPEC_DIRECTORY).
  readFileSync(
    join(
      SPEC_DIRECTORY,
      'specification/managementgroups/resource-manager/Microsoft.Management/ManagementGroups/stable/2023-04-01/examples/GetDescendants.json',
    ),
    'utf8',
  ),
);
const env = useEmulator({ subscriptions: [] });

function client(principal = env.emulator.appPrincipal) {
  return new ManagementGroupsAPI(
    env.emulator.credentialFor(principal),
    armClientOptions(env.connection(env.emulator.credentialFor(principal))),
  );
}

describe('emulator: management groups (descendants), from the spec example', () => {
  it('answers the example hierarchy as the example does', async () => {
    const state = env.emulator.state;
    const root = EXAMPLE.parameters.groupId as string;
    const [group, subscription] = EXAMPLE.responses['200'].body.value as Array<{ name: string; properties: { displayName: string } }>;
    state.addManagementGroup(root, state.tenantId, 'Example root');
    state.addManagementGroup(group!.name, root, group!.properties.displayName);
    state.addSubscription(subscription!.name, subscription!.properties.displayName);
    state.moveSubscription(subscription!.name, root);
    state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.reader,
      scope: `/providers/Microsoft.Management/managementGroups/${root}`,
    });
    const got = [];
    for await (const d of client().managementGroups.listDescendants(root)) got.push(d);
    assert.deepEqual(
      got.map((d) => ({ name: d.name, type: d.type, id: d.id, properties: { displayName: d.displayName, parent: d.parent } })),
      EXAMPLE.responses['200'].body.value,
    );
  });

  it('pages with nextLink and refuses a caller without descendants/read (403 before 404)', async () => {
    const state = env.emulator.state;
    state.addManagementGroup('mg-big');
    for (let i = 0; i < DESCENDANTS_PAGE_SIZE + 7; i++)
      state.moveSubscription(`5${String(i).padStart(7, '0')}-0000-4000-8000-000000000000`, 'mg-big');
    state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.reader,
      scope: '/providers/Microsoft.Management/managementGroups/mg-big',
    });
    let count = 0;
    for await (const d of client().managementGroups.listDescendants('mg-big')) if (d.id?.startsWith('/subscriptions/')) count++;
    assert.equal(count, DESCENDANTS_PAGE_SIZE + 7);
    const stranger = state.directory.create({ displayName: 'stranger' });
    const denied = async (group: string) => {
      for await (const _ of client(stranger).managementGroups.listDescendants(group)) break;
    };
    await assert.rejects(
      denied('mg-big'),
      (e: { statusCode?: number; code?: string }) => e.statusCode === 403 && e.code === 'AuthorizationFailed',
    );
    await assert.rejects(denied('mg-does-not-exist'), (e: { statusCode?: number }) => e.statusCode === 403);
    await takeSpecViolations(env.emulator);
  });

  it('Resource Graph: a query names subscriptions or management groups, never both, at most ten groups, and only known ones', async () => {
    const path = '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01';
    const query = 'resources | take 1';
    const both = await rawArm(env.emulator, 'POST', path, {
      body: { query, subscriptions: ['50000000-0000-4000-8000-000000000000'], managementGroups: ['mg-big'] },
    });
    const many = await rawArm(env.emulator, 'POST', path, {
      body: { query, managementGroups: Array.from({ length: 11 }, () => 'mg-big') },
    });
    const unknown = await rawArm(env.emulator, 'POST', path, { body: { query, managementGroups: ['mg-nowhere'] } });
    const ok = await rawArm(env.emulator, 'POST', path, { body: { query, managementGroups: ['mg-big'] } });
    assert.deepEqual([both.status, many.status, unknown.status, ok.status], [400, 400, 400, 200]);
    assert.match(JSON.stringify(both.json), /InvalidQueryScope/);
    assert.match(JSON.stringify(many.json), /TooManyManagementGroups/);
    assert.match(JSON.stringify(unknown.json), /ManagementGroupNotFound/);
    await takeSpecViolations(env.emulator);
  });
});
