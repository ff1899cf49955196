/**
 * The azd predown hook (scripts/infra/predown.ts) run as azd runs it, a child process with the
 * environment's values, against the emulator: it reads ARM with the deployer's credential (here the
 * emulator's managed identity, an Owner), lists, asks for a confirmation it cannot get without a
 * terminal, and deletes in an order ARM accepts. The emulator has no Event Grid: the hook's read of
 * system topics fails there and is reported, which also shows a failed read never stops the rest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { runScriptAgainstEmulator, type ScriptResult } from './script-runner';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const DEPLOYED_APP = 'aaaaaaaa-1111-4111-8111-000000000001';
const WORKLOAD = 'bbbbbbbb-1111-4111-8111-000000000002';
const RG = `/subscriptions/${SUB_A}/resourceGroups/rg-test`;

describe('predown hook against the emulator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-predown-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const roles = { engine: '', assigner: '' };
  const assignments: Record<string, string> = {};

  before(() => {
    // The deployer: Owner in both subscriptions (deleting assignments and role definitions needs it).
    for (const sub of [SUB_A, SUB_B])
      env.emulator.state.grant({
        principalId: env.emulator.appPrincipal.id,
        roleDefinitionGuid: ROLE.owner,
        scope: `/subscriptions/${sub}`,
      });
    // The emulator serves Event Grid system topics now (wire-events): a read the hook cannot make is injected.
    env.emulator.faults.add({
      method: 'GET',
      path: /\/providers\/Microsoft\.EventGrid\/systemTopics$/i,
      action: { kind: 'error', status: 400, code: 'NoRegisteredProviderFound', message: 'injected: Event Grid cannot be listed' },
    });
  });

  // What main.bicep leaves in the governed subscriptions, fresh for every case.
  beforeEach(() => {
    const state = env.emulator.state;
    for (const [key, record] of [...state.roleAssignments.entries()])
      if (record.principalId !== env.emulator.appPrincipal.id) state.roleAssignments.delete(key);
    const scopes = [`/subscriptions/${SUB_A}`, `/subscriptions/${SUB_B}`];
    roles.engine = state.addCustomRole({
      roleName: 'identity-autopilot engine (test, tok)',
      actions: ['Microsoft.Web/sites/read'],
      assignableScopes: scopes,
    }).guid;
    roles.assigner = state.addCustomRole({
      roleName: 'identity-autopilot role assigner (test, tok)',
      actions: ['Microsoft.Authorization/roleAssignments/write'],
      assignableScopes: scopes,
    }).guid;
    const grant = (scope: string, roleDefinitionGuid: string, principalId = DEPLOYED_APP) =>
      state.grant({ principalId, roleDefinitionGuid, scope, principalType: 'ServicePrincipal' }).id;
    assignments.engineA = grant(`/subscriptions/${SUB_A}`, roles.engine);
    assignments.assignerA = grant(`/subscriptions/${SUB_A}`, roles.assigner);
    assignments.engineB = grant(`/subscriptions/${SUB_B}`, roles.engine);
    assignments.readerByHand = grant(`/subscriptions/${SUB_A}`, ROLE.reader);
    assignments.storage = grant(`${RG}/providers/Microsoft.Storage/storageAccounts/sttok`, ROLE.reader);
    assignments.workload = grant(`/subscriptions/${SUB_A}/resourceGroups/rg-app`, ROLE.reader, WORKLOAD);
  });

  function run(args: string[], extra: Record<string, string> = {}): Promise<ScriptResult> {
    return runScriptAgainstEmulator(env.emulator, dir, 'scripts/infra/predown.ts', args, {
      AZURE_ENV_NAME: 'test',
      AZURE_SUBSCRIPTION_ID: SUB_A,
      AZURE_RESOURCE_GROUP: 'rg-test',
      AZURE_FUNCTION_APP_ID: `${RG}/providers/Microsoft.Web/sites/func-tok`,
      AZURE_FUNCTION_APP_PRINCIPAL_ID: DEPLOYED_APP,
      AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS: JSON.stringify([SUB_A, SUB_B]),
      AUTOPILOT_ENGINE_ROLE_ID: roles.engine,
      AUTOPILOT_ROLE_ASSIGNER_ROLE_ID: roles.assigner,
      ...extra,
    });
  }

  const exists = (id: string) => [...env.emulator.state.roleAssignments.values()].some((a) => a.id === id);
  const deletes = () => env.emulator.requests.filter((r) => r.method === 'DELETE');

  it("--dry-run lists the deployment's assignments and roles, what it leaves alone, and the read it could not make; deletes nothing", async () => {
    const before = deletes().length;
    const r = await run(['--dry-run']);
    assert.equal(r.status, 1, 'a failed read is a problem');
    assert.match(r.stdout, /5 object\(s\) outside the resource group will be deleted/);
    for (const id of [assignments.engineA, assignments.assignerA, assignments.engineB]) assert.ok(r.stdout.includes(id!), id);
    assert.match(r.stdout, /custom role 'identity-autopilot engine \(test, tok\)'/);
    assert.match(r.stdout, /custom role 'identity-autopilot role assigner \(test, tok\)'/);
    assert.ok(r.stdout.includes(`${assignments.readerByHand}: role ${ROLE.reader} is not one of this deployment's custom roles`));
    assert.doesNotMatch(r.stdout, new RegExp(assignments.workload!.split('/').pop()!), "the product's output is not even listed");
    assert.match(r.stdout, /could not read[\s\S]*GET \/subscriptions\/[-\w]+\/providers\/Microsoft\.EventGrid\/systemTopics: 400 /);
    assert.equal(deletes().length, before);
  });

  it('without a terminal and without --yes it deletes nothing and fails, so azd down stops', async () => {
    const before = deletes().length;
    const r = await run([]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not confirmed \(no terminal to ask on\): nothing deleted/);
    assert.equal(deletes().length, before);
    assert.ok(exists(assignments.engineA!));
  });

  it("AUTOPILOT_PREDOWN_YES=true deletes the assignments, then the custom roles; hand-made grants, the group's and the workloads' stay", async () => {
    const r = await run([], { AUTOPILOT_PREDOWN_YES: 'true' });
    assert.equal(r.status, 1, 'the Event Grid read failed, so the hook still reports a problem');
    for (const key of ['engineA', 'assignerA', 'engineB']) assert.ok(!exists(assignments[key]!), key);
    for (const key of ['readerByHand', 'storage', 'workload']) assert.ok(exists(assignments[key]!), key);
    assert.ok(!env.emulator.state.roleDefinitions.has(roles.engine));
    assert.ok(!env.emulator.state.roleDefinitions.has(roles.assigner));
    assert.match(r.stdout, /deleted custom role 'identity-autopilot engine \(test, tok\)'/);
    // Order: every assignment DELETE before the first role definition DELETE.
    const order = deletes()
      .slice(-5)
      .map((q) => (/roleDefinitions/i.test(q.path) ? 'def' : 'assignment'));
    assert.deepEqual(order, ['assignment', 'assignment', 'assignment', 'def', 'def']);
  });

  it('a custom role someone else still holds is refused by ARM (RoleDefinitionHasAssignments) and reported', async () => {
    const other = env.emulator.state.grant({
      principalId: WORKLOAD,
      roleDefinitionGuid: roles.engine,
      scope: `/subscriptions/${SUB_B}/resourceGroups/rg-x`,
      principalType: 'ServicePrincipal',
    });
    const r = await run(['--yes']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `DELETE /subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${roles.engine}: 409 RoleDefinitionHasAssignments`,
      ),
    );
    assert.ok(env.emulator.state.roleDefinitions.has(roles.engine));
    assert.ok(!env.emulator.state.roleDefinitions.has(roles.assigner), 'the role nobody else holds is deleted');
    assert.ok(exists(other.id));
  });

  it('AUTOPILOT_PREDOWN_SKIP=true skips it without a call', async () => {
    const before = env.emulator.requests.length;
    const r = await run([], { AUTOPILOT_PREDOWN_SKIP: 'true' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /skipped/);
    assert.equal(env.emulator.requests.length, before);
  });

  it("a missing azd output stops it with the variable's name", async () => {
    const r = await run([], { AZURE_FUNCTION_APP_PRINCIPAL_ID: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /AZURE_FUNCTION_APP_PRINCIPAL_ID is not set/);
  });
});
