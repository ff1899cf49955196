import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subscriptionIdFor } from '../../src/app/subscription-by-name';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { grantAppOwner } from '../support/app-fixture';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { cli } from './bin';

const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

describe('--subscription takes a name, as az does (issue 24 D22)', () => {
  it("plan and sweep accept the sandbox subscription's name in any case; an unknown name is a usage error", () => {
    const plan = cli(['plan', WEB, '--sandbox', '--subscription', 'contoso DEMO', '-o', 'tsv', '--query', 'outcome.status']);
    assert.equal(plan.code, 0, plan.err);
    assert.equal(plan.out, 'planned\n');
    const sweep = cli([
      'sweep',
      '--sandbox',
      '--report-only',
      '--subscription',
      'Contoso Demo',
      '-o',
      'tsv',
      '--query',
      'report.totals.scanned',
    ]);
    assert.equal(sweep.code, 0, sweep.err);
    assert.equal(sweep.out, '12\n');
    const unknown = cli(['plan', WEB, '--sandbox', '--subscription', 'No Such Subscription']);
    assert.equal(unknown.code, 2, unknown.err);
    assert.match(
      unknown.err,
      /^ERROR: --subscription: subscription 'No Such Subscription' not found: it is neither a subscription id nor the name/m,
    );
  });

  it('ledger, which signs in to nothing, refuses a name rather than not checking it; an id of another subscription is refused too', () => {
    const byName = cli(['ledger', WEB, '--subscription', 'Contoso Demo', '--ledger-connection-string', 'UseDevelopmentStorage=true']);
    assert.equal(byName.code, 2, byName.err);
    assert.match(byName.err, /^ERROR: --subscription: ledger compares the resource id with a subscription id; 'Contoso Demo' is not one/m);
    const other = cli([
      'ledger',
      WEB,
      '--subscription',
      '00000000-0000-0000-0000-000000000001',
      '--ledger-connection-string',
      'UseDevelopmentStorage=true',
    ]);
    assert.equal(other.code, 2, other.err);
    assert.match(other.err, /is not in subscription 00000000-0000-0000-0000-000000000001/);
  });

  describe('against the emulator', () => {
    const env = useEmulator({ subscriptions: [] });

    it('resolves a unique name to its id, refuses a name two subscriptions share, and passes an id through', async () => {
      const state = env.emulator.state;
      state.addSubscription(SUB_A, 'Shared Name');
      state.addSubscription(SUB_B, 'shared name');
      state.addSubscription('00000000-0000-4000-8000-00000000c0de', 'Payments');
      for (const s of [SUB_A, SUB_B, '00000000-0000-4000-8000-00000000c0de']) grantAppOwner(env.emulator, s);
      const connection = env.connection(env.emulator.credentialFor(env.emulator.appPrincipal));
      assert.equal(await subscriptionIdFor(connection, 'PAYMENTS'), '00000000-0000-4000-8000-00000000c0de');
      await assert.rejects(subscriptionIdFor(connection, 'Shared Name'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'AmbiguousSubscriptionName');
        assert.match(e.message, new RegExp(`${SUB_A}.*${SUB_B}|${SUB_B}.*${SUB_A}`));
        return true;
      });
      const seq = env.emulator.lastSeq;
      assert.equal(await subscriptionIdFor(connection, SUB_B), SUB_B);
      assert.equal(env.emulator.requestsSince(seq).length, 0, 'an id needs no call');
    });
  });
});
