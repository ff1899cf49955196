/**
 * Issue 25 items 4-5: which rules let the sweep migrate a component on its own (ruleConsent). Every app that
 * loads it must be governed by a rule with secretless.migrate, and the component's environment must be one
 * that rule honours: the same environments infra:params grants daprComponents/write on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecretlessComponent } from '../../src/sweep/secretless';
import { ruleConsent } from '../../src/sweep/secretless-migration';
import { rulesFor } from '../support/app-fixture';
import { SUB_A } from '../support/emulator-fixture';

const env = (rg: string) => `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-demo`;
const appIn = (rg: string, name: string, rule?: string) => ({
  resourceId: `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/${name}`,
  governed: rule !== undefined,
  ...(rule ? { rule } : {}),
  identities: { systemAssigned: true, userAssignedClientIds: [] },
  grants: [],
});

const rules = rulesFor(`
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps]
profiles: {}
rules:
  - name: migrate
    match: { resourceGroups: [rg-apps] }
    identity: { kind: SystemAssigned }
    dapr: { targets: { resourceGroups: ["{resourceGroup}"] }, environments: ["${env('rg-platform')}"] }
    secretless: { migrate: true, windowMinutes: 30 }
  - name: report
    match: { resourceGroups: [rg-other] }
    identity: { kind: SystemAssigned }
    dapr: { targets: { resourceGroups: ["{resourceGroup}"] } }
`);

function component(environmentId: string, apps: SecretlessComponent['apps']): SecretlessComponent {
  return {
    componentId: `${environmentId}/daprComponents/state`,
    name: 'state',
    componentType: 'state.azure.blobstorage',
    environmentId,
    method: 'key',
    onKeys: true,
    credentials: [],
    otherSecretFields: [],
    keptInlineSecrets: [],
    apps,
  };
}

describe('secretless: which rules let the sweep migrate a component', () => {
  it("gives the rule's window in the app's own group's environment and in one the rule names", () => {
    assert.deepEqual(ruleConsent(rules, component(env('rg-apps'), [appIn('rg-apps', 'a', 'migrate')])), { windowMinutes: 30 });
    assert.deepEqual(ruleConsent(rules, component(env('rg-platform'), [appIn('rg-apps', 'a', 'migrate')])), { windowMinutes: 30 });
  });

  it('says nothing when no loading app opts in', () => {
    assert.equal(ruleConsent(rules, component(env('rg-other'), [appIn('rg-other', 'b', 'report')])), undefined);
    assert.equal(ruleConsent(rules, component(env('rg-other'), [appIn('rg-other', 'b')])), undefined);
  });

  it("refuses when another loading app's rule does not opt in, or the environment is not the rule's", () => {
    const mixed = ruleConsent(rules, component(env('rg-apps'), [appIn('rg-apps', 'a', 'migrate'), appIn('rg-other', 'b', 'report')]));
    assert.match((mixed as { refusal: string }).refusal, /also loads state, and its rule 'report' does not opt in/);
    const foreign = ruleConsent(rules, component(env('rg-team'), [appIn('rg-apps', 'a', 'migrate')]));
    assert.match(
      (foreign as { refusal: string }).refusal,
      /rg-team.* is not in .*'s resource group nor in rule 'migrate' dapr.environments/,
    );
  });
});
