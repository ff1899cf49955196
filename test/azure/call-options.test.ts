import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  createHttpHeaders,
  createPipelineRequest,
  type PipelineRequest,
  type PipelineResponse,
  type SendRequest,
} from '@azure/core-rest-pipeline';
import { forCall, handOffAtOf, sdkOptions } from '../../src/azure/call-options';
import { ArmThrottleGate } from '../../src/azure/throttle-gate';
import { TurnPastHandOffError } from '../../src/engine/call-budget';

/**
 * The hand-off time of a port call travels as an argument: the adapter maps the engine's CallBudget to
 * the SDK operation's options, and the throttle gate reads it from the request it paces.
 */
const SUB = '0b0b0b0b-0000-4000-8000-00000000e002';
const SITE = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/a`;

const credential = { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** An SDK client whose pipeline records every request it would send, and answers 200. */
function recordingClient(seen: PipelineRequest[]) {
  return new ResourceManagementClient(credential, SUB, {
    endpoint: 'https://management.azure.com',
    additionalPolicies: [
      { policy: { name: 'record', sendRequest: (request, next) => (seen.push(request), next(request)) }, position: 'perRetry' },
    ],
    httpClient: {
      sendRequest: async (request) => ({
        request,
        status: 200,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        bodyAsText: '{"id":"x"}',
      }),
    },
  });
}

describe("a port call's hand-off time reaches the pipeline with the call", () => {
  it('an SDK operation made with a budget carries its hand-off time on the request; one made without carries none', async () => {
    const seen: PipelineRequest[] = [];
    const client = recordingClient(seen);
    const signal = AbortSignal.timeout(10_000);
    await client.resources.getById(SITE, '2024-04-01', sdkOptions({ signal, handOffAt: 1_234_567 }));
    await client.resources.getById(SITE, '2024-04-01', sdkOptions(signal));
    assert.equal(seen.length, 2);
    assert.equal(handOffAtOf(seen[0]!), 1_234_567);
    assert.equal(handOffAtOf(seen[1]!), undefined);
    assert.equal(seen[0]!.abortSignal, signal, "the deadline is the budget's own signal");
  });

  it('two calls in flight at once each carry their own hand-off time (no shared state between them)', async () => {
    const seen: PipelineRequest[] = [];
    const client = recordingClient(seen);
    const signal = AbortSignal.timeout(10_000);
    await Promise.all([1, 2, 3].map((n) => client.resources.getById(`${SITE}${n}`, '2024-04-01', sdkOptions({ signal, handOffAt: n }))));
    for (const r of seen) assert.equal(handOffAtOf(r), Number(r.url.split('?')[0]!.slice(-1)));
  });

  it('the gate does not send a call whose turn comes after its hand-off time, and sends the same call without one', async () => {
    const gate = new ArmThrottleGate();
    const policy = gate.policy();
    let sent = 0;
    const next: SendRequest = async (request) => {
      sent++;
      // ARM's write bucket nearly empty: the pacing law makes the next write wait.
      return {
        request,
        status: 200,
        headers: createHttpHeaders({ 'x-ms-ratelimit-remaining-subscription-writes': '0' }),
      } as PipelineResponse;
    };
    const put = (handOffAt?: number) =>
      policy.sendRequest(
        forCall(createPipelineRequest({ url: `https://management.azure.com${SITE}?api-version=2024-04-01`, method: 'PUT' }), {
          signal: AbortSignal.timeout(10_000),
          handOffAt,
        }),
        next,
      );
    await put();
    assert.equal(sent, 1);
    const error = await put(Date.now() + 10).catch((e: unknown) => e);
    assert.ok(error instanceof TurnPastHandOffError, String(error));
    assert.ok(error.waitMs > 10, `the turn is further than the hand-off (${error.waitMs} ms)`);
    assert.equal(sent, 1, 'the call was not sent');
  });
});
