import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText } from '../../src/config';
import { excessReason, massRevocationGuard, type OwnedRoleAssignment, revocationLine } from '../../src/engine/revocation';
import type { Plan } from '../../src/engine/types';

const SUB = '11111111-1111-4111-8111-111111111111';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-apps`;
const WEB = `${RG}/providers/Microsoft.Web/sites/web`;
const KV = (n: string) => `${RG}/providers/Microsoft.KeyVault/vaults/${n}`;
const KV_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const rules = parseRulesText(
  `
version: 1
scope:
  subscriptions: ["${SUB}"]
profiles:
  vault:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:kv-id}"
        tagScope: { resourceTypes: [Microsoft.KeyVault/vaults], resourceGroups: ["{resourceGroup}"] }
rules:
  - name: web
    identity: { kind: SystemAssigned }
    profiles: [vault]
`,
  'x.yaml',
);
const plan = { resourceId: WEB, rule: 'web', profiles: ['vault'] } as unknown as Plan;
const owned = (source: string, scope: string, rule = 'web'): OwnedRoleAssignment => ({
  id: `${scope}/providers/Microsoft.Authorization/roleAssignments/x`,
  principalId: 'p',
  scope,
  roleDefinitionGuid: KV_USER,
  owner: { rule, source, resourceId: WEB },
});

describe('revocation reasons', () => {
  it('names what changed: a re-pointed tag, a re-pointed Dapr component, a profile or rule gone, a refused target; nothing while still given', () => {
    const desired = [{ scope: KV('kv-b'), roleDefinitionGuid: KV_USER, profile: 'vault' }];
    assert.equal(excessReason(plan, rules, owned('vault', KV('kv-a')), desired), 'tag kv-id now names kv-b');
    assert.equal(excessReason(plan, rules, owned('vault', KV('kv-b')), desired), undefined);
    assert.equal(
      excessReason(plan, rules, owned('vault', KV('kv-b')), desired, new Map([[KV('kv-b').toLowerCase(), 'consent withdrawn: x']])),
      'consent withdrawn: x',
    );
    assert.equal(excessReason(plan, rules, owned('old', KV('kv-a')), desired), "profile 'old' no longer applies to it");
    assert.equal(excessReason(plan, rules, owned('vault', KV('kv-a'), 'gone'), desired), "rule 'gone' no longer applies; rule 'web' does");
    const dapr = [{ scope: KV('kv-new'), roleDefinitionGuid: KV_USER, profile: 'dapr:secrets' }];
    assert.equal(excessReason(plan, rules, owned('dapr:secrets', KV('kv-old')), dapr), "component 'secrets' now points at kv-new");
    assert.equal(excessReason(plan, rules, owned('dapr:secrets', KV('kv-old')), []), "component 'secrets' no longer needs it");
    assert.equal(
      revocationLine({ role: 'Key Vault Secrets User', assignment: { scope: KV('kv-a') }, reason: 'tag kv-id now names kv-b' }),
      '- Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)',
    );
  });

  it('the mass-revocation guard: at the limit allowed, over it refused unless confirmed', () => {
    assert.deepEqual(massRevocationGuard(50, 50, false), { allowed: true });
    const refused = massRevocationGuard(51, 50, false);
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.code, 'MassRevocationGuard');
    assert.deepEqual(massRevocationGuard(51, 50, true), { allowed: true });
  });
});
