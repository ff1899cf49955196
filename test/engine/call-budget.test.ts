import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitPassesHandOff } from '../../src/engine/call-budget';

describe('call budget: a wait against the hand-off time', () => {
  it('without a hand-off time no wait passes it; with one, only a wait ending after it does', () => {
    assert.equal(waitPassesHandOff({}, 1e9), false);
    assert.equal(waitPassesHandOff({ handOffAt: 1000 }, 500, 400), false);
    assert.equal(waitPassesHandOff({ handOffAt: 1000 }, 700, 400), true);
  });
});
