/**
 * Issue 23 (7): which Dapr component writes are the product's business, told from the component id and
 * the rules alone. The trigger-level proof (no ARM call, acknowledged) is in
 * test/functions/dapr-components.test.ts "issue 23 (7)"; these are the governance cases around it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { componentEventSkip } from '../../src/app/dapr-component-events';
import { parseRulesText } from '../../src/config';
import { GovernedSubscriptions } from '../../src/engine/governed-subscriptions';

const SUB = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const component = (sub: string, rg: string, env = 'env') =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/${env}/daprComponents/c1`;

function autopilot(daprSection: string) {
  const rules = parseRulesText(
    `
version: 1
scope: { subscriptions: ["${SUB}"], resourceGroups: ["rg-apps-*"] }
profiles: {}
rules:
  - name: apps
    identity: { kind: SystemAssigned }
${daprSection}
`,
    'component-events.yaml',
  );
  return { rules, governance: new GovernedSubscriptions(rules, undefined) };
}

const DAPR = `    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
      environments: ["/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/env-shared"]`;
const skip = async (a: ReturnType<typeof autopilot>, id: string) => (await componentEventSkip(a, id, AbortSignal.timeout(5000)))?.reason;

describe('Dapr component events: governance before any read', () => {
  it('no rule with a dapr section: ignored', async () => {
    assert.equal(await skip(autopilot(''), component(SUB, 'rg-apps-1')), 'no-dapr-rule');
  });

  it('an environment in an ungoverned subscription: ignored', async () => {
    assert.equal(await skip(autopilot(DAPR), component(OTHER, 'rg-apps-1')), 'subscription-not-governed');
  });

  it('an environment in an ungoverned resource group that no rule names: ignored', async () => {
    assert.equal(await skip(autopilot(DAPR), component(SUB, 'rg-platform', 'env-private')), 'environment-not-governed');
  });

  it('an environment in a governed resource group, or named in dapr.environments: handled', async () => {
    assert.equal(await skip(autopilot(DAPR), component(SUB, 'rg-apps-1')), undefined);
    assert.equal(await skip(autopilot(DAPR), component(SUB, 'rg-platform', 'env-shared')), undefined);
  });
});
