/**
 * What the predown hook selects (scripts/infra/teardown.ts): only the deployment's own pieces outside
 * the resource group, in an order Azure accepts, and nothing the product made for workloads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  planTeardown,
  type TeardownContext,
  TeardownInputError,
  type TeardownInventory,
  teardownContextFromEnv,
} from '../../scripts/infra/teardown';

const SUB = '11111111-1111-4111-8111-111111111111';
const OTHER_SUB = '22222222-2222-4222-8222-222222222222';
const APP = 'aaaaaaaa-0000-4000-8000-000000000001';
const WORKLOAD = 'bbbbbbbb-0000-4000-8000-000000000002';
const ENGINE = 'eeeeeeee-0000-4000-8000-000000000001';
const ASSIGNER = 'eeeeeeee-0000-4000-8000-000000000002';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-test`;
const FUNC = `${RG}/providers/Microsoft.Web/sites/func-tok`;

const context: TeardownContext = {
  environmentName: 'test',
  resourceGroupId: RG,
  appPrincipalId: APP,
  functionAppId: FUNC,
  governedSubscriptionIds: [SUB, OTHER_SUB],
  customRoleGuids: [ENGINE],
};
const roleDef = (sub: string, guid: string) => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const assignment = (scope: string, guid: string, principalId: string, name: string) => ({
  id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
  scope,
  roleDefinitionId: roleDef(SUB, guid),
  principalId,
});

function inventory(): TeardownInventory {
  return {
    roleAssignments: [
      assignment(`/subscriptions/${SUB}`, ENGINE, APP, 'a1'),
      assignment(`/subscriptions/${SUB}`, ASSIGNER, APP, 'a2'),
      assignment(`/subscriptions/${OTHER_SUB}`, ENGINE, APP, 'a3'),
      assignment(`/subscriptions/${SUB}`, READER, APP, 'a4'), // granted by hand: not the deployment's
      assignment(`${RG}/providers/Microsoft.Storage/storageAccounts/sttok`, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', APP, 'a5'), // goes with the group
      assignment(`/subscriptions/${SUB}/resourceGroups/rg-app`, ENGINE, APP, 'a6'), // not at subscription scope
      assignment(`/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Web/sites/web`, READER, WORKLOAD, 'a7'), // the product's output
    ],
    roleDefinitions: [
      { name: ENGINE, roleName: 'identity-autopilot engine (test, tok)', type: 'CustomRole', assignableScopes: [`/subscriptions/${SUB}`] },
      {
        name: ASSIGNER,
        roleName: 'identity-autopilot role assigner (test, tok)',
        type: 'CustomRole',
        assignableScopes: [`/subscriptions/${SUB}`],
      },
      { name: READER, roleName: 'Reader', type: 'BuiltInRole', assignableScopes: ['/'] },
    ],
    eventSubscriptions: [
      {
        id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-events/providers/Microsoft.EventGrid/systemTopics/t2/eventSubscriptions/identity-autopilot`,
        destinationResourceId: `${FUNC}/functions/resourceWriteSuccess`,
      },
      {
        id: `${RG}/providers/Microsoft.EventGrid/systemTopics/t1/eventSubscriptions/identity-autopilot`,
        destinationResourceId: `${FUNC}/functions/resourceWriteSuccess`,
      },
      {
        id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-events/providers/Microsoft.EventGrid/systemTopics/t2/eventSubscriptions/someone-else`,
        destinationResourceId: `/subscriptions/${OTHER_SUB}/resourceGroups/x/providers/Microsoft.Web/sites/other/functions/f`,
      },
      {
        id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-events/providers/Microsoft.EventGrid/systemTopics/t2/eventSubscriptions/webhook`,
      },
    ],
    systemTopics: [
      { id: `${RG}/providers/Microsoft.EventGrid/systemTopics/t1`, tags: { 'azd-env-name': 'test' } },
      {
        id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-events/providers/Microsoft.EventGrid/systemTopics/t2`,
        tags: { 'azd-env-name': 'test' },
      },
      {
        id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-x/providers/Microsoft.EventGrid/systemTopics/t3`,
        tags: { 'azd-env-name': 'prod' },
      },
      { id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-y/providers/Microsoft.EventGrid/systemTopics/t4` },
    ],
  };
}

describe('planTeardown', () => {
  const plan = planTeardown(context, inventory());
  const ids = plan.steps.map((s) => `${s.kind} ${s.id.split('/').pop()}`);

  it("deletes event subscriptions, then the app identity's assignments of the deployment's roles, then the roles, then foreign topics", () => {
    assert.deepEqual(ids, [
      'eventSubscription identity-autopilot',
      'roleAssignment a1',
      'roleAssignment a2',
      'roleAssignment a3',
      `roleDefinition ${ENGINE}`,
      `roleDefinition ${ASSIGNER}`,
      'systemTopic t2',
    ]);
    // Roles are deleted where they were created: the first governed subscription.
    assert.ok(plan.steps.filter((s) => s.kind === 'roleDefinition').every((s) => s.id.startsWith(`/subscriptions/${SUB}/providers/`)));
  });

  it("never selects the product's own output, hand-made grants, or anything azd down deletes", () => {
    const selected = plan.steps.map((s) => s.id);
    for (const name of ['a4', 'a5', 'a6', 'a7']) assert.ok(!selected.some((id) => id.endsWith(`/${name}`)), name);
    assert.ok(!selected.some((id) => id.includes('/t1')), 'the topic and subscription inside the resource group are left to azd down');
    assert.ok(!selected.some((id) => id.endsWith('/someone-else') || id.endsWith('/webhook') || id.endsWith('/t3') || id.endsWith('/t4')));
    const kept = Object.fromEntries(plan.kept.map((k) => [k.id.split('/').pop(), k.why]));
    assert.match(kept.a4!, /not one of this deployment's custom roles/);
    assert.match(kept.a6!, /not at the scope of a governed subscription/);
    assert.match(kept.t1!, /azd down deletes it/);
  });

  it('deletes a role only when ARM names it as the deployment does, whatever GUID the environment holds', () => {
    const tampered = planTeardown(
      { ...context, customRoleGuids: [READER] },
      { ...inventory(), roleDefinitions: [{ name: READER, roleName: 'Reader', type: 'BuiltInRole', assignableScopes: ['/'] }] },
    );
    assert.equal(tampered.steps.filter((s) => s.kind === 'roleDefinition' || s.kind === 'roleAssignment').length, 0);
    assert.match(tampered.kept.find((k) => k.id === READER)!.why, /not one this deployment created/);
    const otherEnv = planTeardown(context, {
      ...inventory(),
      roleDefinitions: [{ name: ENGINE, roleName: 'identity-autopilot engine (prod, tok)', type: 'CustomRole', assignableScopes: [] }],
    });
    assert.equal(otherEnv.steps.filter((s) => s.kind === 'roleDefinition').length, 0, "another environment's role");
  });
});

describe('teardownContextFromEnv', () => {
  const env = {
    AZURE_ENV_NAME: 'test',
    AZURE_SUBSCRIPTION_ID: SUB,
    AZURE_RESOURCE_GROUP: 'rg-test',
    AZURE_FUNCTION_APP_ID: FUNC,
    AZURE_FUNCTION_APP_PRINCIPAL_ID: APP,
    AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS: JSON.stringify([SUB, OTHER_SUB]),
    AUTOPILOT_ENGINE_ROLE_ID: ENGINE,
    AUTOPILOT_ROLE_ASSIGNER_ROLE_ID: '',
  };

  it('reads the azd outputs (array outputs are JSON), with an empty role assigner id for deployments without one', () => {
    assert.deepEqual(teardownContextFromEnv(env), { ...context, customRoleGuids: [ENGINE] });
  });

  it('names the variable that is missing or malformed', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ AZURE_FUNCTION_APP_PRINCIPAL_ID: '' }, /AZURE_FUNCTION_APP_PRINCIPAL_ID is not set/],
      [{ AZURE_FUNCTION_APP_PRINCIPAL_ID: 'x' }, /AZURE_FUNCTION_APP_PRINCIPAL_ID must be a GUID/],
      [{ AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS: 'sub1,sub2' }, /must be a JSON array/],
      [{ AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS: '[]' }, /non-empty JSON array/],
      [{ AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS: '["prod"]' }, /AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS must be a GUID/],
      [{ AZURE_FUNCTION_APP_ID: `/subscriptions/${SUB}` }, /resource id of a Function App/],
      [{ AZURE_RESOURCE_GROUP: 'rg/../x' }, /not a resource group name/],
    ];
    for (const [override, message] of cases) {
      assert.throws(
        () => teardownContextFromEnv({ ...env, ...override }),
        (e: unknown) => e instanceof TeardownInputError && message.test(e.message),
        JSON.stringify(override),
      );
    }
  });
});
