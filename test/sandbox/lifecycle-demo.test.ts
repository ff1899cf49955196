/**
 * The sandbox's lifecycle demo (issue 22, item 8) as `npm run sandbox` runs it: the same function, the
 * same emulator and app from startSandbox. What it prints must be what happened, so each part's facts
 * are asserted on the emulator's state (what was removed, what was kept): a change that stops the demo
 * from showing the clean-up, the revocation or the budget fails here instead of silently printing less.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '../../src/sandbox/environment';
import { LIFECYCLE_SUBSCRIPTION, type LifecycleDemoResult, runLifecycleDemo } from '../../src/sandbox/lifecycle-demo';
import { ROLE } from '../../tools/arm-emulator';

const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const rg = (name: string) => `/subscriptions/${LIFECYCLE_SUBSCRIPTION}/resourceGroups/${name}`;
const vault = (name: string) => `${rg('rg-vaults')}/providers/Microsoft.KeyVault/vaults/${name}`;
const site = (group: string, name: string) => `${rg(group)}/providers/Microsoft.Web/sites/${name}`;

describe('sandbox: the lifecycle demo (clean-up, revocation, budget)', () => {
  let sandbox: Sandbox;
  let result: LifecycleDemoResult;
  let printed = '';
  /** What a principal holds now, as `role guid @ scope name`. */
  const held = (principalId: string) =>
    sandbox.emulator.state
      .assignmentsFor(principalId)
      .map((a) => `${a.roleDefinitionGuid} @ ${a.scope.split('/').pop()}`)
      .sort();
  const principalOf = (id: string): string => sandbox.emulator.state.resource(id)!.body.identity.principalId;

  before(async () => {
    sandbox = await startSandbox();
    result = await runLifecycleDemo(sandbox.emulator, sandbox.app, (text) => (printed += text));
  });
  after(() => sandbox.close());

  it("clean-up on delete: the deleted apps' grants and the identity the product made are gone; the person's assignment stays", () => {
    assert.deepEqual(
      [...result.cleanUp].sort(),
      [
        'app-retired: Contributor @ rg-apps -> kept: not made by identity-autopilot',
        'app-retired: Key Vault Secrets User @ kv-orders -> removed',
        'app-retired: Reader @ rg-apps -> removed',
        'ca-retired: Key Vault Secrets User @ kv-orders -> removed',
        'ca-retired: identity id-ca-retired -> removed',
      ],
      printed,
    );
    const state = sandbox.emulator.state;
    assert.equal(state.resource(`${rg('rg-apps')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ca-retired`), undefined);
    // On the deleted apps' resource group only the person's Contributor is left; on kv-orders only app-invoices' grant (report).
    const at = (scope: string) => [...state.roleAssignments.values()].filter((a) => a.scope.toLowerCase() === scope.toLowerCase());
    assert.deepEqual(
      at(rg('rg-apps')).map((a) => a.roleDefinitionGuid),
      [ROLE.contributor],
    );
    assert.deepEqual(
      at(vault('kv-orders')).map((a) => a.principalId),
      [principalOf(site('rg-team-b', 'app-invoices'))],
    );
    assert.match(printed, /left behind: Contributor @ rg-apps \(app-retired's principal\); identity id-ca-retired deleted/);
  });

  it('a re-pointed kv-id tag: revoked at once under enforce, kept and reported under report', () => {
    assert.deepEqual(result.applied, [
      'app-checkout: Key Vault Secrets User @ kv-orders -> revoked (tag kv-id now names kv-payments)',
      'app-invoices: Key Vault Secrets User @ kv-orders -> kept (the sweep reports it)',
    ]);
    assert.deepEqual(held(principalOf(site('rg-team-a', 'app-checkout'))), [`${KV_SECRETS_USER} @ kv-payments`]);
    assert.deepEqual(held(principalOf(site('rg-team-b', 'app-invoices'))), [
      `${KV_SECRETS_USER} @ kv-orders`,
      `${KV_SECRETS_USER} @ kv-payments`,
    ]);
  });

  it('the timer sweep: withdrawn consent revoked under enforce, listed under report; excess holders are not compliant', () => {
    assert.deepEqual([...result.swept].sort(), [
      'app-invoices: Key Vault Secrets User @ kv-orders -> listed (tag kv-id now names kv-payments)',
      "app-partner-feed: Key Vault Secrets User @ kv-partner -> listed (consent withdrawn: kv-partner's kv-consumers tag does not list rg-team-b)",
      "app-partner-sync: Key Vault Secrets User @ kv-partner -> revoked (consent withdrawn: kv-partner's kv-consumers tag does not list rg-team-a)",
    ]);
    assert.deepEqual(held(principalOf(site('rg-team-a', 'app-partner-sync'))), []);
    assert.deepEqual(held(principalOf(site('rg-team-b', 'app-partner-feed'))), [`${KV_SECRETS_USER} @ kv-partner`]);
    assert.ok(result.nonCompliant.includes('app-invoices') && result.nonCompliant.includes('app-partner-feed'), result.nonCompliant.join());
  });

  it("the budget: the sweep's count of the demo subscription, and a new grant blocked with RoleAssignmentBudget, nothing written", () => {
    const inSubscription = [...sandbox.emulator.state.roleAssignments.values()].filter((a) =>
      a.scope.toLowerCase().startsWith(`/subscriptions/${LIFECYCLE_SUBSCRIPTION}`),
    );
    assert.deepEqual(Object.keys(result.roleAssignments), [LIFECYCLE_SUBSCRIPTION]);
    assert.equal(result.roleAssignments[LIFECYCLE_SUBSCRIPTION], inSubscription.length, 'counted at the sweep, nothing granted since');
    assert.deepEqual(result.budget, { status: 'blocked', code: 'RoleAssignmentBudget' });
    assert.equal(sandbox.emulator.state.resource(site('rg-team-a', 'app-late'))!.body.identity, undefined);
  });
});
