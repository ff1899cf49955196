import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartialApplyError } from '../../src/engine/apply';
import { TurnPastHandOffError, WriteStillRunningError } from '../../src/engine/call-budget';
import { DEFAULT_BUSY_RETRY_MS, deferral, failure, handOffReason, type StoppedAt } from '../../src/engine/deferral';
import { ArmCallError } from '../../src/errors';
import { fakePacing, webApp } from './fake-ports';

const settings = { authorizationRetryWindowMs: 30 * 60_000, maxHandOffs: 3 };
const at = (extra: Partial<StoppedAt> = {}): StoppedAt => ({
  resourceId: webApp('a').id,
  handOff: { transientFailures: false },
  actions: [],
  ...extra,
});
const forbidden = () =>
  new ArmCallError('AuthorizationFailed', 'refused', 403, false, {
    permission: { action: 'Microsoft.Web/sites/write', scope: '/s', linked: false },
  });

describe('hand-off decisions for an error that stops a remediation', () => {
  it('a write still running: hand off with its operation, to be polled and not written again', () => {
    const why = handOffReason(
      new WriteStillRunningError({ style: 'location', url: 'https://arm/op' }, 4000),
      at({ resource: webApp('a') }),
      settings,
      undefined,
    );
    assert.equal(why?.reason, 'operation-running');
    assert.equal(why?.retryAfterMs, 4000);
    assert.equal(why?.next?.operation?.monitor.url, 'https://arm/op');
  });

  it('a call not sent before the hand-off time (also inside a partial apply): throttled, the turn as delay', () => {
    assert.equal(handOffReason(new TurnPastHandOffError(6000), at(), settings, fakePacing())?.retryAfterMs, 6000);
    const partial = new PartialApplyError({ identityAfter: 'None', actions: [], observed: {} }, [new TurnPastHandOffError(3000)]);
    assert.equal(handOffReason(partial, at(), settings, fakePacing())?.reason, 'throttled');
  });

  it('403s are retried through hand-offs inside the authorization window, with growing delays, then fail naming the permission', () => {
    const first = handOffReason(forbidden(), at(), settings, undefined);
    assert.equal(first?.reason, 'authorization-propagating');
    assert.equal(first?.retryAfterMs, 15_000);
    const since = new Date(Date.now() - 31 * 60_000).toISOString();
    const late = at({ resume: { attempt: 5, actions: [], principalIsNew: false, authorizationFailingSince: since } });
    assert.equal(handOffReason(forbidden(), late, settings, undefined), undefined);
    const failed = failure(forbidden(), late, settings);
    assert.match(failed.errors![0]!.message, /may not perform 'Microsoft.Web\/sites\/write' on '\/s' \(still refused 30 minute/);
  });

  it('transient failures: 429 and busy conflicts are handed off; others only when the trigger hands those off too', () => {
    assert.equal(
      handOffReason(new ArmCallError('TooManyRequests', 'slow down', 429, true), at(), settings, undefined)?.reason,
      'throttled',
    );
    assert.equal(
      handOffReason(new ArmCallError('AnotherOperationInProgress', 'busy', 409, true), at(), settings, undefined)?.retryAfterMs,
      DEFAULT_BUSY_RETRY_MS,
    );
    const unavailable = new ArmCallError('ServiceUnavailable', 'later', 503, true);
    assert.equal(handOffReason(unavailable, at(), settings, undefined), undefined);
    assert.equal(handOffReason(unavailable, at({ handOff: { transientFailures: true } }), settings, undefined)?.reason, 'transient');
    assert.equal(
      handOffReason(new ArmCallError('BadRequest', 'no', 400, false), at({ handOff: { transientFailures: true } }), settings, undefined),
      undefined,
    );
  });

  it('a hand-off past the bound fails instead (authorization retries are bounded by their window only)', () => {
    const point = { resume: { attempt: 3, actions: [], principalIsNew: false }, actions: [] };
    assert.equal(
      deferral(point, settings, { reason: 'resource-busy', detail: 'busy', retryAfterMs: 1 }).errors?.[0]?.code,
      'HandOffLimitReached',
    );
    assert.equal(deferral(point, settings, { reason: 'authorization-propagating', detail: '403', retryAfterMs: 1 }).status, 'deferred');
    const ok = deferral({ actions: [] }, settings, { reason: 'throttled', detail: 'x', retryAfterMs: 1234.6 });
    assert.equal(ok.deferral?.retryAfterMs, 1235);
    assert.equal(ok.deferral?.resume.attempt, 1);
  });
});
