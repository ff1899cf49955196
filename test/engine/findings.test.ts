import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addFindings, outcomeOf } from '../../src/engine/findings';

describe('findings: what a run found, added up step by step into one outcome', () => {
  it('later findings win, skipped and errors add up, and neither input is changed', () => {
    const first = { status: 'skipped' as const, rule: 'a', skipped: [{ reason: 'r1', detail: 'd1' }] };
    const second = {
      status: 'planned' as const,
      skipped: [{ reason: 'r2', detail: 'd2' }],
      errors: [{ code: 'E', message: 'm', transient: false }],
    };
    const merged = addFindings(first, second);
    assert.equal(merged.status, 'planned');
    assert.equal(merged.rule, 'a');
    assert.deepEqual(
      merged.skipped?.map((s) => s.reason),
      ['r1', 'r2'],
    );
    assert.equal(merged.errors?.length, 1);
    assert.equal(first.skipped.length, 1);
  });

  it('an outcome without a status failed; it keeps the first start across hand-offs', () => {
    const started = Date.now() - 5000;
    const outcome = outcomeOf({ correlationId: 'c', resourceId: '/r' }, started, {
      errors: [{ code: 'X', message: 'm', transient: false }],
    });
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(outcome.actions, []);
    assert.equal(outcome.startedAt, new Date(started).toISOString());
    assert.ok(outcome.durationMs >= 5000);
  });
});
