/**
 * Issue 10, item 1: a tag chooses a scope only among what the administrator declared for it. Every
 * attack goes through the real triggers (Event Grid handler, HTTP) against the emulator, with the app
 * holding exactly the grants infra/ derives from these rules (no Owner).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedScopeResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';

const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const PROFILE_TAG = 'identity-autopilot-profiles';

export const TAG_SCOPE_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}", "${SUB_B}"]
  resourceTypes: [Microsoft.Web/sites]
profiles:
  own-vault:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:kv-id}"
        tagScope:
          resourceTypes: [Microsoft.KeyVault/vaults]
          resourceGroups: ["{resourceGroup}"]
  platform-vault:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:platform-kv-id}"
        tagScope:
          resourceTypes: [Microsoft.KeyVault/vaults]
          resourceGroups: ["rg-platform-*"]
          consentTag: kv-consumers
  declared-subscription:
    roles:
      - role: Reader
        scope: "{tag:sub-id}"
        tagScope:
          resourceTypes: [subscription]
          subscriptions: ["{subscriptionId}"]
rules:
  - name: web
    identity: { kind: SystemAssigned }
    tagSelectableProfiles: [own-vault, platform-vault, declared-subscription]
`;

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });

const vaultId = (sub: string, rg: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;

describe('tag-derived scopes: only what the administrator declared, proven by a GET before any grant', () => {
  let app: Autopilot;
  const ownVault = vaultId(SUB_A, 'rg-team-a', 'kv-team-a');
  const otherTeamsVault = vaultId(SUB_A, 'rg-team-b', 'kv-team-b');
  const otherSubscriptionsVault = vaultId(SUB_B, 'rg-team-a', 'kv-team-a');
  const platformVault = vaultId(SUB_A, 'rg-platform-kv', 'kv-platform');

  before(() => {
    const rules = rulesFor(TAG_SCOPE_RULES);
    // No grant carries `*/read`: the vault GET is allowed by the engine role's derived
    // `Microsoft.KeyVault/vaults/read` alone.
    const permissions = grantDerived(env, rules, SUB_A);
    grantDerived(env, rules, SUB_B);
    assert.ok(permissions.actions.includes('Microsoft.KeyVault/vaults/read'));
    for (const v of [ownVault, otherTeamsVault, otherSubscriptionsVault]) seedScopeResource(env.emulator.state, v);
    seedScopeResource(env.emulator.state, platformVault, 'westeurope', {
      'kv-consumers': 'rg-team-a, 99999999-9999-4999-8999-999999999999',
    });
    env.emulator.state.addResourceGroup(SUB_A, 'rg-team-a');
    // App Service authentication in front, so the HTTP test below is an authorised Entra caller.
    app = buildApp(env, rules, {}, { ...EASY_AUTH_ON });
  });

  /** A web app in rg-team-a (the attacker's own resource group) tagged to pick `profile` with `tags`. */
  function taggedWebApp(name: string, profile: string, tags: Record<string, string>, resourceGroup = 'rg-team-a'): string {
    return seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup,
      type: SEED_TYPES.webApp,
      name,
      tags: { [PROFILE_TAG]: profile, ...tags },
    });
  }

  /** Delivers the event; asserts the refusal code and that nothing at all was written. */
  async function assertRefused(id: string, code: string, detail: RegExp): Promise<void> {
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, 'a refusal is permanent: acknowledged, not redelivered');
    assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.errors[0].code, code, d.outcome?.errors[0].message);
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.match(d.outcome?.errors[0].message, detail);
    assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), [], 'no identity, no role assignment');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  }

  it("tagging one's web app kv-id=/subscriptions/<id> is refused (no subscription-wide grant)", async () => {
    await assertRefused(
      taggedWebApp('web-sub', 'own-vault', { 'kv-id': `/subscriptions/${SUB_A}` }),
      'TagScopeNotAllowed',
      /whole subscription/,
    );
  });

  it('a whole resource group, even its own, is refused unless declared', async () => {
    await assertRefused(
      taggedWebApp('web-rg', 'own-vault', { 'kv-id': `/subscriptions/${SUB_A}/resourceGroups/rg-team-a` }),
      'TagScopeNotAllowed',
      /whole resource group/,
    );
  });

  it("another team's vault (another resource group) is refused", async () => {
    await assertRefused(
      taggedWebApp('web-other-team', 'own-vault', { 'kv-id': otherTeamsVault }),
      'TagScopeNotAllowed',
      /resource group 'rg-team-b'/,
    );
  });

  it('a vault in another governed subscription is refused, even in a resource group of the same name', async () => {
    await assertRefused(
      taggedWebApp('web-other-sub', 'own-vault', { 'kv-id': otherSubscriptionsVault }),
      'TagScopeNotAllowed',
      new RegExp(`subscription ${SUB_B}`),
    );
  });

  it('a target of an undeclared type is refused', async () => {
    const storage = `/subscriptions/${SUB_A}/resourceGroups/rg-team-a/providers/Microsoft.Storage/storageAccounts/stteama`;
    seedScopeResource(env.emulator.state, storage);
    await assertRefused(
      taggedWebApp('web-storage', 'own-vault', { 'kv-id': storage }),
      'TagScopeNotAllowed',
      /Microsoft\.Storage\/storageAccounts/,
    );
  });

  it('a declared target that does not exist is refused before anything is written', async () => {
    await assertRefused(
      taggedWebApp('web-missing', 'own-vault', { 'kv-id': vaultId(SUB_A, 'rg-team-a', 'kv-nowhere') }),
      'GrantTargetNotFound',
      /does not exist/,
    );
  });

  it('a legitimate tag-selected vault inside the declared constraints is granted', async () => {
    const id = taggedWebApp('web-legit', 'own-vault', { 'kv-id': ownVault });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.deepEqual(
      env.emulator.state.assignmentsFor(principal).map((a) => [a.scope.toLowerCase(), a.roleDefinitionGuid]),
      [[ownVault.toLowerCase(), KV_SECRETS_USER]],
    );
    const read = env.emulator.requestsSince(before).find((r) => r.method === 'GET' && r.path.toLowerCase() === ownVault.toLowerCase());
    assert.equal(read?.status, 200, 'the vault was read (exists, is a vault) with the derived Microsoft.KeyVault/vaults/read');
    assert.deepEqual(
      env.emulator.requestsSince(before).filter((r) => r.status === 403),
      [],
    );
  });

  it('a consent-requiring vault grants the workloads it lists and refuses the others', async () => {
    const listed = taggedWebApp('web-consented', 'platform-vault', { 'platform-kv-id': platformVault });
    const ok = await deliver(app, resourceWriteEvent({ resourceId: listed }));
    assert.equal(ok.outcome?.status, 'remediated', JSON.stringify(ok.outcome));
    const unlisted = taggedWebApp('web-not-consented', 'platform-vault', { 'platform-kv-id': platformVault }, 'rg-team-b');
    await assertRefused(unlisted, 'GrantTargetNotConsented', /'kv-consumers' tag does not list/);
  });

  it('a subscription scope the administrator declared is read, then granted; another subscription is not', async () => {
    const id = taggedWebApp('web-declared-sub', 'declared-subscription', { 'sub-id': `/subscriptions/${SUB_A}` });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.ok(
      env.emulator
        .requestsSince(before)
        .some((r) => r.method === 'GET' && r.path.toLowerCase() === `/subscriptions/${SUB_A}` && r.status === 200),
    );
    const other = taggedWebApp('web-declared-other-sub', 'declared-subscription', { 'sub-id': `/subscriptions/${SUB_B}` });
    await assertRefused(other, 'TagScopeNotAllowed', new RegExp(`subscription ${SUB_B}`));
  });

  it('the HTTP API refuses the same subscription-wide tag', async () => {
    const id = taggedWebApp('web-http-sub', 'own-vault', { 'kv-id': `/subscriptions/${SUB_A}` });
    const before = env.emulator.lastSeq;
    const response = await call(app, 'remediationsPost', {
      method: 'POST',
      url: 'http://localhost/api/remediations',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ resourceId: id, mode: 'apply' }) },
    });
    const body = response.body;
    assert.equal(body.outcome.status, 'failed', JSON.stringify(body));
    assert.equal(body.outcome.errors[0].code, 'TagScopeNotAllowed');
    assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
  });
});
