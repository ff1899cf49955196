import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArmId } from '../../src/arm/resource-id';
import { type Rule, resolveIdentityTemplate, resolveScopeTemplate, type TagScopeConstraint } from '../../src/config';
import { isAutopilotError } from '../../src/errors';
import { assertRejected, baseRules, load, OTHER_SUB, SUB } from './helpers';

const config = load(baseRules());
const resourceId = parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Web/sites/web1`);
const KV = `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv1`;

/** A declaration that lets these tests reach the other checks; tag-scope.test.ts covers the declaration itself. */
const ANY_VAULT_OR_GROUP: TagScopeConstraint = { resourceTypes: ['Microsoft.KeyVault/vaults', 'resourceGroup'], resourceGroups: ['*'] };

function resolve(template: string, tags: Record<string, string> = {}): string {
  return resolveScopeTemplate(template, { resourceId, tags }, config, ANY_VAULT_OR_GROUP);
}

function assertCode(fn: () => unknown, code: string, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isAutopilotError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (detail) assert.match(err.message, detail);
    return true;
  });
}

describe('resolveScopeTemplate', () => {
  it('fills the resource placeholders', () => {
    assert.equal(resolve('/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}'), `/subscriptions/${SUB}/resourceGroups/app-web`);
    assert.equal(resolve('{resourceId}'), resourceId.id);
    assert.equal(
      resolve(
        '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Storage/storageAccounts/st{resourceName}',
      ),
      `/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Storage/storageAccounts/stweb1`,
    );
  });

  it('takes a whole resource id from a tag (tag name case-insensitive), dropping a trailing slash', () => {
    assert.equal(resolve('{tag:kv-id}', { 'KV-ID': `${KV}/` }), KV);
  });

  it('uses a tag as a single segment elsewhere', () => {
    assert.equal(
      resolve('/subscriptions/{subscriptionId}/resourceGroups/{tag:data-rg}', { 'data-rg': 'rg-data' }),
      `/subscriptions/${SUB}/resourceGroups/rg-data`,
    );
  });

  it('throws ScopeTemplateUnresolved for a missing or empty tag', () => {
    assertCode(() => resolve('{tag:kv-id}'), 'ScopeTemplateUnresolved', /no 'kv-id' tag/);
    assertCode(() => resolve('{tag:kv-id}', { 'kv-id': '  ' }), 'ScopeTemplateUnresolved', /empty/);
  });

  it('refuses a tag value that tries path traversal', () => {
    assertCode(
      () => resolve('{tag:kv-id}', { 'kv-id': `${resourceId.id}/../../../../providers/Microsoft.Web/sites/x` }),
      'ScopeOutsideGovernedSubscriptions',
      /'\.\.'/,
    );
    assertCode(
      () => resolve('/subscriptions/{subscriptionId}/resourceGroups/{tag:data-rg}', { 'data-rg': `../../../subscriptions/${OTHER_SUB}` }),
      'ScopeOutsideGovernedSubscriptions',
    );
    assertCode(
      () =>
        resolve('/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Storage/storageAccounts/{tag:sa}', {
          sa: '..',
        }),
      'ScopeOutsideGovernedSubscriptions',
    );
  });

  it('refuses a tag value with "/" in a single-segment position', () => {
    assertCode(
      () =>
        resolve('/subscriptions/{subscriptionId}/resourceGroups/{tag:data-rg}', {
          'data-rg': 'rg/providers/Microsoft.KeyVault/vaults/other',
        }),
      'ScopeOutsideGovernedSubscriptions',
      /contains '\/'/,
    );
  });

  it('refuses a scope in another subscription, a management group, or a malformed id', () => {
    assertCode(
      () => resolve('{tag:kv-id}', { 'kv-id': KV.replace(SUB, OTHER_SUB) }),
      'ScopeOutsideGovernedSubscriptions',
      /not in scope.subscriptions/,
    );
    assertCode(
      () => resolve('{tag:kv-id}', { 'kv-id': '/providers/Microsoft.Management/managementGroups/root' }),
      'ScopeOutsideGovernedSubscriptions',
      /management group/,
    );
    assertCode(() => resolve('{tag:kv-id}', { 'kv-id': 'https://kv1.vault.azure.net' }), 'ScopeOutsideGovernedSubscriptions');
    assertCode(
      () => resolve('{tag:kv-id}', { 'kv-id': `/subscriptions/${SUB}//resourceGroups/x` }),
      'ScopeOutsideGovernedSubscriptions',
      /empty segment/,
    );
  });
});

describe('resolveIdentityTemplate', () => {
  const userAssigned: Pick<Rule, 'identity'> = {
    identity: { kind: 'UserAssigned', nameTemplate: 'id-{resourceName}-{tag:team}', resourceGroupTemplate: '{resourceGroup}' },
  };

  it('fills name and resource group', () => {
    assert.deepEqual(resolveIdentityTemplate(userAssigned, { resourceId, tags: { Team: 'pay' } }), {
      name: 'id-web1-pay',
      resourceGroup: 'app-web',
    });
  });

  it('rejects a result that is not a valid identity name', () => {
    assertCode(
      () => resolveIdentityTemplate(userAssigned, { resourceId, tags: { team: 'a b' } }),
      'IdentityTemplateInvalid',
      /not a valid identity name/,
    );
    assertCode(() => resolveIdentityTemplate(userAssigned, { resourceId, tags: { team: 'x'.repeat(130) } }), 'IdentityTemplateInvalid');
  });

  it('rejects a tag that would inject a path into the resource group', () => {
    const rule: Pick<Rule, 'identity'> = { identity: { kind: 'UserAssigned', nameTemplate: 'id-x', resourceGroupTemplate: '{tag:rg}' } };
    assertCode(
      () => resolveIdentityTemplate(rule, { resourceId, tags: { rg: 'rg/../../other' } }),
      'IdentityTemplateInvalid',
      /contains '\/'/,
    );
    assertCode(
      () => resolveIdentityTemplate(rule, { resourceId, tags: { rg: 'bad.' } }),
      'IdentityTemplateInvalid',
      /not a valid resource group name/,
    );
    assertCode(() => resolveIdentityTemplate(rule, { resourceId, tags: {} }), 'ScopeTemplateUnresolved');
  });
});

describe('{parentName}: a child resource names its parent', () => {
  const slot = parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Web/sites/web1/slots/staging`);
  const perSlot: Pick<Rule, 'identity'> = {
    identity: { kind: 'UserAssigned', nameTemplate: 'id-slot-{parentName}-{resourceName}', resourceGroupTemplate: '{resourceGroup}' },
  };

  it("fills a slot's site name, and is unresolved for a top-level resource", () => {
    assert.deepEqual(resolveIdentityTemplate(perSlot, { resourceId: slot, tags: {} }), {
      name: 'id-slot-web1-staging',
      resourceGroup: 'app-web',
    });
    assertCode(() => resolveIdentityTemplate(perSlot, { resourceId, tags: {} }), 'ScopeTemplateUnresolved', /no parent/);
  });

  it('is refused at load in a rule that also matches a top-level type, and its absence is warned about for slots', () => {
    const rules = (types: string[], name: string) => {
      const data = baseRules();
      data.rules[0] = {
        name: 'slots',
        match: { types },
        identity: { kind: 'UserAssigned', userAssigned: { name } },
        profiles: ['rg-blob-reader'],
      };
      return data;
    };
    assertRejected(
      () => load(rules(['Microsoft.Web/sites', 'Microsoft.Web/sites/slots'], 'id-{parentName}-{resourceName}')),
      'rules[0].identity.userAssigned.name',
      /only child resources have/,
    );
    assert.deepEqual(load(rules(['Microsoft.Web/sites/slots'], 'id-slot-{parentName}_{resourceName}')).warnings, []);
    assert.match(
      load(rules(['Microsoft.Web/sites/slots'], 'id-slot-{parentName}-{resourceName}')).warnings![0]!.reason,
      /'web-a' with slot 'staging' and site 'web' with slot 'a-staging'/,
    );
    assert.match(
      load(rules(['Microsoft.Web/sites/slots'], 'id-slot-{resourceName}')).warnings![0]!.reason,
      /without \{parentName\}.*'staging' slot/,
    );
  });
});
