import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ResourceManagementClient } from '@azure/arm-resources';
import { armClientOptions } from '../../src/azure/clients';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { rejectsWith } from '../support/assertions';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

// The SDK's retry behaviour against injected 5xx/429 faults, read back from the emulator's request
// log. (Split from faults.test.ts because the default policy's real delays take seconds.)
const env = useEmulator();
const WEB_API = '2024-04-01';
/** Timers may fire a little early relative to Date.now(); lower bounds allow for that only. */
const CLOCK_SLACK_MS = 15;
/**
 * The smallest share of the nominal exponential delay (base * 2^retry) the SDK was seen to wait:
 * measured with Math.random() forced to 0, the default client's first retry came after 400 ms.
 */
const MIN_BACKOFF_FRACTION = 0.4;

let ownerGranted = false;
beforeEach(() => {
  if (ownerGranted) return;
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
  ownerGranted = true;
});

function webApp(resourceGroup: string, name: string): string {
  return seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup, type: SEED_TYPES.webApp, name });
}

/** Requests since `seq` whose path contains `fragment`. */
function callsTo(seq: number, fragment: string) {
  return env.emulator.requestsSince(seq).filter((r) => r.path.toLowerCase().includes(fragment.toLowerCase()));
}

describe('SDK retries against injected faults', () => {
  it('a 503 with Retry-After is retried once the Retry-After has passed', async () => {
    const id = webApp('rg-503', 'web-503');
    const fault = env.emulator.faults.add({
      path: 'web-503',
      times: 1,
      action: { kind: 'error', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 1 },
    });
    try {
      const seq = env.emulator.lastSeq;
      const got = await env.clients().resources.resources.getById(id, WEB_API);
      assert.equal(got.id, id);
      const calls = callsTo(seq, 'web-503');
      assert.deepEqual(
        calls.map((c) => c.status),
        [503, 200],
      );
      assert.ok(calls[1]!.at - calls[0]!.at >= 1000 - CLOCK_SLACK_MS, `retried after ${calls[1]!.at - calls[0]!.at} ms`);
    } finally {
      fault.remove();
    }
  });

  it('a 500 without Retry-After is retried once, after an exponential-backoff delay', async () => {
    const id = webApp('rg-500', 'web-500');
    const fault = env.emulator.faults.add({
      path: 'web-500',
      times: 1,
      action: { kind: 'error', status: 500, code: 'InternalServerError' },
    });
    try {
      const seq = env.emulator.lastSeq;
      const got = await env.clients().resources.resources.getById(id, WEB_API);
      assert.equal(got.id, id);
      const calls = callsTo(seq, 'web-500');
      assert.deepEqual(
        calls.map((c) => [c.status, c.errorCode]),
        [
          [500, 'InternalServerError'],
          [200, undefined],
        ],
      );
      // Observed with the pinned SDK: the first retry waits 0.4-0.8 s (exactly 400 ms when
      // Math.random() returns 0), i.e. never less than 40% of the 1 s base delay.
      assert.ok(
        calls[1]!.at - calls[0]!.at >= MIN_BACKOFF_FRACTION * 1000 - CLOCK_SLACK_MS,
        `retried after ${calls[1]!.at - calls[0]!.at} ms`,
      );
    } finally {
      fault.remove();
    }
  });

  it('a persistent 500 is tried 1 + maxRetries times with growing delays, then thrown; 501 and a bare 429 are not retried', async () => {
    const id = webApp('rg-500s', 'web-500s');
    const retryDelayInMs = 60;
    const client = new ResourceManagementClient(env.emulator.credentialFor(env.emulator.appPrincipal), SUB_A, {
      ...armClientOptions({
        endpoint: env.emulator.url,
        ca: env.emulator.ca,
        credential: env.emulator.credentialFor(env.emulator.appPrincipal),
      }),
      retryOptions: { maxRetries: 3, retryDelayInMs },
    });
    const fault = env.emulator.faults.add({ path: 'web-500s', action: { kind: 'error', status: 500, code: 'InternalServerError' } });
    try {
      let seq = env.emulator.lastSeq;
      await rejectsWith(client.resources.getById(id, WEB_API), 500, 'InternalServerError');
      const calls = callsTo(seq, 'web-500s');
      assert.equal(calls.length, 4, 'one attempt and three retries');
      assert.equal(fault.hits, 4);
      // Retry n waits at least MIN_BACKOFF_FRACTION of retryDelayInMs * 2^n: the delays grow.
      for (let n = 0; n < 3; n++) {
        const gap = calls[n + 1]!.at - calls[n]!.at;
        assert.ok(gap >= MIN_BACKOFF_FRACTION * retryDelayInMs * 2 ** n - CLOCK_SLACK_MS, `retry ${n + 1} after ${gap} ms`);
      }
      fault.remove();

      const notImplemented = env.emulator.faults.add({ path: 'web-500s', action: { kind: 'error', status: 501, code: 'NotImplemented' } });
      seq = env.emulator.lastSeq;
      await rejectsWith(client.resources.getById(id, WEB_API), 501, 'NotImplemented');
      assert.equal(callsTo(seq, 'web-500s').length, 1);
      notImplemented.remove();

      const bare429 = env.emulator.faults.add({ path: 'web-500s', action: { kind: 'error', status: 429, code: 'TooManyRequests' } });
      seq = env.emulator.lastSeq;
      await rejectsWith(client.resources.getById(id, WEB_API), 429, 'TooManyRequests');
      assert.equal(callsTo(seq, 'web-500s').length, 1, 'a 429 without Retry-After is not retried');
      bare429.remove();
    } finally {
      env.emulator.faults.clear();
    }
  });
});
