/**
 * Issue 23 item 8: a tagScope that allows every resource group and has no consentTag lets whoever can
 * tag a workload point it at any team's vault in the subscription. It stays allowed (a platform team
 * may mean it), but `validate` and start-up warn with the key path and suggest consentTag.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createAutopilot } from '../../src/app/composition';
import { validateRulesText } from '../../src/config';
import { readSettings } from '../../src/settings/settings';
import { baseRules, load } from './helpers';

const KV_TAG_SCOPE = 'profiles.kv-reader.roles[0].tagScope';

function withKvTagScope(tagScope: Record<string, unknown>): any {
  const data = baseRules();
  data.profiles['kv-reader'].roles[0].tagScope = { resourceTypes: ['Microsoft.KeyVault/vaults'], ...tagScope };
  return data;
}

const warningsOf = (data: unknown) => (load(data).warnings ?? []).map((w) => [w.keyPath, w.reason] as const);

describe('over-wide tag scopes are not silent (issue 23.8)', () => {
  it('resourceGroups ["*"] without consentTag: a warning with the key path that suggests consentTag', () => {
    const warnings = warningsOf(withKvTagScope({ resourceGroups: ['*'] }));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const [keyPath, reason] = warnings[0]!;
    assert.equal(keyPath, KV_TAG_SCOPE);
    assert.match(reason, /resourceGroups \["\*"\] and no consentTag: a tag can reach any Microsoft\.KeyVault\/vaults .*any team's/);
    assert.match(reason, /Add consentTag/);
  });

  it('the same for subscriptions without resourceGroups, and for a Dapr rule whose targets allow every group', () => {
    assert.deepEqual(
      warningsOf(withKvTagScope({ subscriptions: ['{subscriptionId}'] })).map(([k]) => k),
      [KV_TAG_SCOPE],
    );
    const dapr = baseRules();
    dapr.scope.resourceTypes = ['Microsoft.Web/sites', 'Microsoft.App/containerApps'];
    dapr.rules.push({
      name: 'dapr',
      match: { types: ['Microsoft.App/containerApps'] },
      identity: { kind: 'SystemAssigned' },
      dapr: { targets: { resourceGroups: ['*'] } },
    });
    assert.deepEqual(
      warningsOf(dapr).map(([k]) => k),
      ['rules[1].dapr.targets'],
    );
  });

  it('no warning with a consentTag, with named or patterned groups, or with the workload’s own group', () => {
    assert.deepEqual(warningsOf(withKvTagScope({ resourceGroups: ['*'], consentTag: 'kv-consumers' })), []);
    assert.deepEqual(warningsOf(withKvTagScope({ resourceGroups: ['rg-shared', 'team-a-*'] })), []);
    assert.deepEqual(warningsOf(baseRules()), []);
  });

  it('validate shows it with its line; the real binary prints it', () => {
    const text = stringify(withKvTagScope({ resourceGroups: ['*'] }));
    const { problems, warnings } = validateRulesText(text, 'rules.yaml');
    assert.deepEqual(problems, []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.keyPath, KV_TAG_SCOPE);
    assert.equal(warnings[0]!.line, text.split('\n').findIndex((l) => l.includes('tagScope')) + 1);

    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'wide.yaml');
    writeFileSync(file, text);
    const bin = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
    const r = spawnSync(process.execPath, [bin, 'validate', file, '-o', 'json'], { encoding: 'utf8', timeout: 90_000, input: '' });
    assert.equal(r.status, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { valid: boolean; warnings: Array<{ keyPath: string; reason: string }> };
    assert.equal(body.valid, true);
    assert.deepEqual(
      body.warnings.map((w) => w.keyPath),
      [KV_TAG_SCOPE],
    );
  });

  it('start-up logs it (rules.warning) with the key path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'wide.yaml');
    writeFileSync(file, stringify(withKvTagScope({ resourceGroups: ['*'] })));
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      createAutopilot(readSettings({ AUTOPILOT_RULES_PATH: file, AUTOPILOT_ARM_ENDPOINT: 'https://127.0.0.1:9' }), {
        credential: { getToken: async () => null },
      });
    } finally {
      process.stderr.write = write;
    }
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'rules.warning');
    assert.ok(warning, lines.join(''));
    assert.equal(warning.keyPath, KV_TAG_SCOPE);
    assert.match(String(warning.reason), /consentTag/);
  });
});
