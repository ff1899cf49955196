import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseRulesText, type RulesConfig, RulesFileError } from '../../src/config';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const OTHER_SUB = '99999999-9999-9999-9999-999999999999';

/** A small valid rules file as plain data; tests break one thing at a time. */
export function baseRules(): any {
  return {
    version: 1,
    scope: { subscriptions: [SUB] },
    profiles: {
      'kv-reader': {
        roles: [
          {
            role: 'Key Vault Secrets User',
            scope: '{tag:kv-id}',
            tagScope: { resourceTypes: ['Microsoft.KeyVault/vaults'], resourceGroups: ['{resourceGroup}'] },
          },
        ],
      },
      'rg-blob-reader': {
        roles: [{ role: 'Storage Blob Data Reader', scope: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}' }],
      },
    },
    rules: [
      {
        name: 'web-apps',
        match: { types: ['Microsoft.Web/sites'], resourceGroups: ['app-*'], tags: { env: 'prod' } },
        identity: { kind: 'SystemAssigned' },
        profiles: ['kv-reader'],
        tagSelectableProfiles: ['rg-blob-reader'],
      },
    ],
  };
}

export function load(data: unknown): RulesConfig {
  return parseRulesText(stringify(data), 'rules.yaml');
}

/** Asserts that loading fails with InvalidRulesFile at `keyPath`, with a reason matching `reason`. */
export function assertRejected(fn: () => unknown, keyPath: string, reason: RegExp): RulesFileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RulesFileError, `expected a RulesFileError, got ${String(caught)}`);
  assert.equal(caught.code, 'InvalidRulesFile');
  assert.equal(caught.keyPath, keyPath, caught.message);
  assert.match(caught.reason, reason);
  assert.ok(caught.message.startsWith(`rules.yaml: ${keyPath || '(top level)'}: ${caught.reason}`), caught.message);
  return caught;
}
