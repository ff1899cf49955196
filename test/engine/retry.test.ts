import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineExceededError, withBackoff } from '../../src/engine/retry';

const fast = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 4 };

describe('withBackoff: retries what the SDK does not, within the budget', () => {
  it('retries a retryable failure until it succeeds, reporting each retry', async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await withBackoff(
      'x',
      async () => (++calls < 3 ? Promise.reject(new Error('replicating')) : 'done'),
      () => true,
      fast,
      { signal: AbortSignal.timeout(5000) },
      (_e, n) => retries.push(n),
    );
    assert.equal(result, 'done');
    assert.deepEqual(retries, [1, 2]);
  });

  it("a failure that is not retryable, or the last attempt's, is thrown as it is", async () => {
    let calls = 0;
    await assert.rejects(
      withBackoff(
        'x',
        async () => Promise.reject(new Error(`no ${++calls}`)),
        () => false,
        fast,
        { signal: AbortSignal.timeout(5000) },
      ),
      /no 1/,
    );
    calls = 0;
    await assert.rejects(
      withBackoff(
        'x',
        async () => Promise.reject(new Error(`again ${++calls}`)),
        () => true,
        fast,
        { signal: AbortSignal.timeout(5000) },
      ),
      /again 4/,
    );
  });

  it("past the budget's deadline it stops with DeadlineExceeded, not another attempt", async () => {
    let calls = 0;
    const budget = { signal: AbortSignal.timeout(30) };
    const slow = { initialDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 10 };
    await assert.rejects(
      withBackoff(
        'grant',
        async () => (calls++, Promise.reject(new Error('busy'))),
        () => true,
        slow,
        budget,
      ),
      DeadlineExceededError,
    );
    assert.equal(calls, 1);
  });
});
