import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SANDBOX_STATE_FILE } from '../../src/sandbox/environment';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { cli } from './bin';

const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

describe('--sandbox-state keeps the estate between commands (issue 24 D20)', () => {
  it('apply, then plan: the plan finds the fix made; without it, apply says the change will not last', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sandbox-state-')), 'state');
    const applied = cli(['apply', WEB, '--sandbox-state', dir, '-o', 'json']);
    assert.equal(applied.code, 0, applied.err);
    assert.equal(JSON.parse(applied.out).outcome.status, 'remediated');
    assert.doesNotMatch(applied.err, /starts afresh/);
    assert.ok(existsSync(join(dir, SANDBOX_STATE_FILE)));
    const planned = cli(['plan', WEB, '--sandbox-state', dir, '-o', 'json', '--detailed-exitcode']);
    assert.equal(planned.code, 0, `nothing left to change: ${planned.out}${planned.err}`);
    const { outcome } = JSON.parse(planned.out);
    assert.notEqual(outcome.status, 'planned');
    assert.equal(outcome.plan.identity.action, 'none', JSON.stringify(outcome.plan));

    const fresh = cli(['apply', WEB, '--sandbox', '-o', 'none']);
    assert.equal(fresh.code, 0, fresh.err);
    assert.match(
      fresh.err,
      /^WARNING: the sandbox starts afresh for every command: this change is gone when it ends \(--sandbox-state <dir> keeps it\)$/m,
    );
  });
});
