import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bookingPastHandOff,
  MAX_PACED_DELAY_MS,
  pacedDelayMs,
  RESUMED_HOLD_MS,
  resumedTurnTooFar,
  throttledPastHandOff,
} from '../../src/engine/pacing';
import { fakePacing, SUB } from './fake-ports';

describe('pacing decisions: wait inside the delivery, or hand the rest to the queue', () => {
  const soon = () => Date.now() + 5000;

  it('no hand-off time (the trigger cannot hand off) or no pacing port: never a hold, and nothing is booked', () => {
    const pacing = fakePacing({ closedForMs: 60_000, bookWritesMs: 60_000, writeTurnMs: 60_000 });
    assert.equal(throttledPastHandOff(pacing, SUB, undefined), undefined);
    assert.equal(resumedTurnTooFar(pacing, SUB, undefined), undefined);
    assert.equal(bookingPastHandOff(pacing, SUB, 3, undefined), undefined);
    assert.equal(bookingPastHandOff(undefined, SUB, 3, soon()), undefined);
    assert.deepEqual(pacing.booked, []);
  });

  it('a 429 that reopens before the hand-off time is waited for; one after it is a hold for its whole Retry-After', () => {
    assert.equal(throttledPastHandOff(fakePacing({ closedForMs: 1000 }), SUB, soon()), undefined);
    const hold = throttledPastHandOff(fakePacing({ closedForMs: 60_000 }), SUB, soon());
    assert.equal(hold?.delayMs, 60_000);
  });

  it('a resumed remediation waits for a near turn, goes back for a far one (behind its own new booking)', () => {
    assert.equal(resumedTurnTooFar(fakePacing({ writeTurnMs: RESUMED_HOLD_MS }), SUB, soon()), undefined);
    const pacing = fakePacing({ writeTurnMs: 8000, bookWritesMs: 12_000 });
    assert.equal(resumedTurnTooFar(pacing, SUB, soon())?.delayMs, 12_000);
    assert.deepEqual(pacing.booked, [1]);
  });

  it('a booking inside the delivery goes ahead; past it the delay is the booking, capped, never under a Retry-After', () => {
    assert.equal(bookingPastHandOff(fakePacing({ bookWritesMs: 1000 }), SUB, 3, soon()), undefined);
    assert.equal(bookingPastHandOff(fakePacing({ bookWritesMs: 9000 }), SUB, 3, soon())?.delayMs, 9000);
    assert.equal(bookingPastHandOff(fakePacing({ bookWritesMs: 90_000 }), SUB, 3, soon())?.delayMs, MAX_PACED_DELAY_MS);
    assert.equal(pacedDelayMs(fakePacing({ closedForMs: 40_000 }), SUB, 90_000), 40_000);
  });
});
