import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationRetryDelayMs, nextResumePoint, transientRetryDelayMs } from '../../src/engine/hand-off';
import type { Plan } from '../../src/engine/types';

const systemAssignedByUs = { principal: { kind: 'system-assigned-after-write' } } as Plan;
const existing = { principal: { kind: 'existing', principalId: 'p', identity: 'SystemAssigned' } } as Plan;

describe('hand-off: what the next attempt carries on from, and when', () => {
  it('counts hand-offs and keeps every action so far', () => {
    const actions = [{ kind: 'follow-up-done' as const, code: 'X', detail: 'd' }];
    const first = nextResumePoint(undefined, actions, existing, {});
    assert.equal(first.attempt, 1);
    assert.deepEqual(first.actions, actions);
    assert.equal(nextResumePoint(first, actions, existing, {}).attempt, 2);
  });

  it('a principal this remediation created holds nothing yet, until a grant is made to it', () => {
    const written = [{ kind: 'identity-written' as const, from: 'None', to: 'SystemAssigned' }];
    assert.equal(nextResumePoint(undefined, written, systemAssignedByUs, {}).principalIsNew, true);
    assert.equal(nextResumePoint(undefined, written, existing, {}).principalIsNew, false);
    const granted = [
      ...written,
      { kind: 'role-assigned' as const, scope: '/s', roleDefinitionId: '/d', role: 'Reader', assignmentId: '/a' },
    ];
    assert.equal(nextResumePoint(undefined, granted, systemAssignedByUs, {}).principalIsNew, false);
  });

  it('403 retries grow from a 120th of the window, at most a sixth, never past its end; other transients from 15 s to 5 min', () => {
    const window = 30 * 60_000;
    assert.deepEqual(
      [1, 2, 3, 10].map((n) => authorizationRetryDelayMs(window, n, 0)),
      [15_000, 30_000, 60_000, 300_000],
    );
    assert.equal(authorizationRetryDelayMs(window, 10, window - 1000), 1000);
    assert.deepEqual([1, 2, 6, 20].map(transientRetryDelayMs), [15_000, 30_000, 300_000, 300_000]);
  });
});
