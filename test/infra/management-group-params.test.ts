import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { renderAppPermissionsParameters, withManagementGroupsResolved } from '../../scripts/infra/params';
import { ROLE } from '../../tools/arm-emulator';
import { rgReaderRules } from '../functions/rules.fixture';
import { rulesFor } from '../support/app-fixture';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';

const SUB_C = '33333333-3333-4333-8333-333333333333';
const env = useEmulator({ subscriptions: [SUB_A, SUB_B, SUB_C] });

const rules = (scope: string) =>
  rulesFor(
    rgReaderRules(
      `
  - name: all
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`,
      scope,
    ),
  );

describe('npm run infra:params with management groups: the grants loop over every subscription under them', () => {
  let armEnv: NodeJS.ProcessEnv;
  let credential: ReturnType<typeof env.emulator.credentialFor>;
  before(() => {
    const state = env.emulator.state;
    state.addManagementGroup('mg-platform');
    state.addManagementGroup('mg-platform-eu', 'mg-platform');
    state.moveSubscription(SUB_B, 'mg-platform');
    state.moveSubscription(SUB_C, 'mg-platform-eu');
    const deployer = state.directory.create({ displayName: 'deployer', type: 'User' });
    state.grant({
      principalId: deployer.id,
      roleDefinitionGuid: ROLE.reader,
      scope: '/providers/Microsoft.Management/managementGroups/mg-platform',
      principalType: 'User',
    });
    credential = env.emulator.credentialFor(deployer);
    const caPath = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(caPath, env.emulator.ca);
    armEnv = { AUTOPILOT_ARM_ENDPOINT: env.emulator.url, AUTOPILOT_ARM_CA_PATH: caPath };
  });

  it('resolves the groups (nested included) and writes every governed subscription into the parameters', async () => {
    const config = await withManagementGroupsResolved(rules(`  subscriptions: ["${SUB_A}"]\n  managementGroups: [mg-platform]`), {
      offline: false,
      env: armEnv,
      credential,
    });
    const file = renderAppPermissionsParameters(config);
    assert.deepEqual([...file.parameters.governedSubscriptionIds.value].sort(), [SUB_A, SUB_B, SUB_C].sort());
  });

  it('offline: a group-only scope is refused (it cannot be resolved), a mixed one keeps the listed subscriptions', async () => {
    await assert.rejects(
      withManagementGroupsResolved(rules('  managementGroups: [mg-platform]'), { offline: true, env: armEnv, credential }),
      /needs ARM/,
    );
    const mixed = await withManagementGroupsResolved(rules(`  subscriptions: ["${SUB_A}"]\n  managementGroups: [mg-platform]`), {
      offline: true,
      env: armEnv,
      credential,
    });
    assert.deepEqual(mixed.scope.subscriptions, [SUB_A]);
  });
});
