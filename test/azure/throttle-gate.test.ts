import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse, type SendRequest } from '@azure/core-rest-pipeline';
import { ArmThrottleGate } from '../../src/azure/throttle-gate';

/**
 * The pacing law in one process, against a bucket that someone else spends too. The answers are made
 * here, not by the emulator: the test needs a second caller spending at a steady, known rate, which is
 * what other instances of the app (or other principals) are to one instance.
 */
const SUB = '0b0b0b0b-0000-4000-8000-00000000e001';

/** ARM's write bucket (200 + 10/s, Learn: request-limits-and-throttling), with `othersPerSecond` spent by callers the gate cannot see. */
function sharedBucket(start: number, othersPerSecond: number) {
  let tokens = start;
  let at = Date.now();
  const stats = { ours: 0, throttled: 0 };
  const settle = () => {
    const now = Date.now();
    tokens = Math.min(200, tokens + ((now - at) / 1000) * (10 - othersPerSecond));
    at = now;
  };
  const next: SendRequest = async (request) => {
    await new Promise((r) => setTimeout(r, 30));
    settle();
    const base = { request, headers: createHttpHeaders() } as PipelineResponse;
    if (tokens < 1) {
      stats.throttled++;
      base.headers.set('retry-after', '1');
      return { ...base, status: 429 };
    }
    tokens -= 1;
    stats.ours++;
    base.headers.set('x-ms-ratelimit-remaining-subscription-writes', String(Math.floor(tokens)));
    return { ...base, status: 200 };
  };
  return { next, stats };
}

describe('ARM throttle gate: the refill the others leave', () => {
  it('another caller spends 8 of the 10 writes a second: the gate measures it and sends at about the 2 left, without a run of 429s', async () => {
    const gate = new ArmThrottleGate();
    const policy = gate.policy();
    const bucket = sharedBucket(15, 8);
    const until = Date.now() + 8000;
    // Four callers of this instance, each sending one write after another for 8 s.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const request = createPipelineRequest({
            url: `https://management.azure.com/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/a?api-version=2024-04-01`,
            method: 'PUT',
          });
          const response = await policy.sendRequest(request, bucket.next);
          if (response.status === 429) await new Promise((r) => setTimeout(r, 1000));
        }
      }),
    );
    // 15 tokens to start with and 2 a second left by the other caller: about 31 writes in 8 s. Counting the
    // whole refill as its own between two answers, the gate ran into 4 429s here; measuring the others, 0.
    assert.ok(bucket.stats.ours >= 20, `kept sending (${bucket.stats.ours} writes)`);
    assert.ok(
      bucket.stats.throttled <= 1,
      `paced below the others' spending, not by 429s (${bucket.stats.throttled} 429s, ${bucket.stats.ours} writes)`,
    );
  });

  it("writeTurnMs says how far the next write's turn is behind the writes waiting here, and books nothing", async () => {
    const gate = new ArmThrottleGate();
    const policy = gate.policy();
    const bucket = sharedBucket(6, 0);
    const put = () =>
      policy.sendRequest(
        createPipelineRequest({
          url: `https://management.azure.com/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/a?api-version=2024-04-01`,
          method: 'PUT',
        }),
        bucket.next,
      );
    assert.equal(gate.writeTurnMs(SUB), 0, 'nothing known about the subscription: no wait');
    await put();
    const alone = gate.writeTurnMs(SUB);
    // Twelve writes queue up at a bucket near its floor: the thirteenth waits behind all of them.
    const queued = Array.from({ length: 12 }, put);
    await new Promise((r) => setTimeout(r, 50));
    const behind = gate.writeTurnMs(SUB);
    assert.ok(behind > alone + 1000, `behind 12 waiting writes (${behind} ms) against alone (${alone} ms)`);
    assert.ok(Math.abs(gate.writeTurnMs(SUB) - behind) < 200, 'asking again books nothing');
    await Promise.all(queued);
    assert.ok(gate.writeTurnMs(SUB) < behind, 'the turn comes closer as the writes go');
    assert.equal(bucket.stats.throttled, 0);
  });
});
