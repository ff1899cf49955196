import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { virtualMachineScaleSets } from '../../src/azure/resource-types/virtual-machine-scale-sets';
import { shellCommand } from '../../src/text/shell-word';

/** The words bash makes of a command line, run where files exist (so an unquoted `*` would expand). */
function bashWords(commandLine: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'shell-words-'));
  for (const f of ['a.txt', 'b.txt']) writeFileSync(join(dir, f), '');
  const r = spawnSync('bash', ['-c', `printf '%s\\n' ${commandLine}`], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

/** The command a remedy names, between backticks. */
function commandOf(remedy: string): string {
  const m = /`([^`]+)`/.exec(remedy);
  assert.ok(m, `no command in: ${remedy}`);
  return m[1]!;
}

describe('remedies name shell-safe commands (issue 24 D17)', () => {
  it("the scale-set remedy's --instance-ids '*' reaches az as '*', not as the files of the directory", () => {
    const need = virtualMachineScaleSets.followUp!({
      id: '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-batch',
      name: 'vmss-batch',
      sku: { capacity: 2 },
      properties: { upgradePolicy: { mode: 'Manual' } },
    });
    assert.deepEqual(bashWords(commandOf(need!.remedy!)), [
      'az',
      'vmss',
      'update-instances',
      '-g',
      'rg-batch',
      '-n',
      'vmss-batch',
      '--instance-ids',
      '*',
    ]);
  });

  it("a resource group name with parentheses, spaces or a quote (the creator's choice) stays one word", () => {
    const rg = "rg (prod) it's $HOME";
    const need = virtualMachineScaleSets.followUp!({
      id: `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/v;rm`,
      name: 'v;rm',
      properties: {},
    });
    const words = bashWords(commandOf(need!.remedy!));
    assert.equal(words[4], rg);
    assert.equal(words[6], 'v;rm');
    assert.equal(words.length, 9);
  });

  it('shellCommand leaves plain words alone and quotes the rest', () => {
    assert.equal(shellCommand(['az', 'group', 'show', '-n', 'rg-web']), 'az group show -n rg-web');
    assert.equal(shellCommand(['*', "it's"]), `'*' 'it'\\''s'`);
  });
});
