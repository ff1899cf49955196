import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { TableLedger } from '../../src/ledger/table-ledger';
import type { LedgerStore } from '../../src/ledger/types';
import { useAzurite } from '../support/azurite';

/**
 * The claim contract (src/ledger/claims.ts), the same for the Table ledger against Azurite (real
 * conditional creates, replaces and deletes with ETags) and for the in-memory one.
 */
const storage = useAzurite();
const SITE = '/subscriptions/0b0b0b0b-0000-4000-8000-00000000c001/resourceGroups/rg-claims/providers/Microsoft.Web/sites/web-claims';
let tables = 0;

const stores: Array<[string, () => LedgerStore]> = [
  [
    'table ledger (Azurite)',
    () =>
      new TableLedger(
        TableClient.fromConnectionString(storage.azurite.connectionString, `claims${++tables}`, { allowInsecureConnection: true }),
      ),
  ],
  ['memory ledger', () => new MemoryLedger()],
];

for (const [name, make] of stores) {
  describe(`claims: ${name}`, () => {
    it('one holder at a time; a second claim names the holder; the id is compared without case', async () => {
      const ledger = make();
      const first = await ledger.claim(SITE, 'rem-1', 30_000);
      assert.equal(first.held, true);
      const second = await ledger.claim(SITE.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/'), 'rem-2', 30_000);
      assert.equal(second.held, false);
      assert.equal(!second.held && second.holder, 'rem-1');
      assert.ok(!second.held && Date.parse(second.expiresAt) > Date.now());
    });

    it('a claim released without a changed mark says nothing to look at again, and the resource can be claimed afresh', async () => {
      const ledger = make();
      const first = await ledger.claim(SITE, 'rem-1', 30_000);
      assert.ok(first.held);
      assert.equal(await ledger.release(first.token), undefined);
      assert.equal(await ledger.markChanged(SITE, { eventId: 'late' }), false, 'no live claim: the caller must remediate itself');
      assert.equal((await ledger.claim(SITE, 'rem-2', 30_000)).held, true);
    });

    it('a later write marked while the claim is held comes back from release, with its event', async () => {
      const ledger = make();
      const first = await ledger.claim(SITE, 'rem-1', 30_000);
      assert.ok(first.held);
      assert.equal(
        await ledger.markChanged(SITE, { eventId: 'evt-2', eventTime: '2026-11-30T01:00:00.000Z', correlationId: 'corr-2' }),
        true,
      );
      assert.equal(await ledger.markChanged(SITE, { eventId: 'evt-3', eventTime: '2026-11-30T01:00:01.000Z' }), true);
      const later = await ledger.release(first.token);
      assert.equal(later?.eventId, 'evt-3', 'the newest mark');
      assert.equal(later?.eventTime, '2026-11-30T01:00:01.000Z');
      assert.equal((await ledger.claim(SITE, 'rem-2', 30_000)).held, true, 'released');
    });

    it('an expired claim (its holder stopped) is taken over; the stopped holder releasing later touches nothing', async () => {
      const ledger = make();
      const dead = await ledger.claim(SITE, 'rem-dead', 50);
      assert.ok(dead.held);
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(await ledger.markChanged(SITE, { eventId: 'x' }), false, 'an expired claim takes no marks: nobody would look at them');
      const next = await ledger.claim(SITE, 'rem-next', 30_000);
      assert.ok(next.held, 'taken over');
      assert.equal(await ledger.markChanged(SITE, { eventId: 'evt-for-next' }), true);
      assert.equal(await ledger.release(dead.token), undefined, 'the old holder gets nothing that belongs to the new one');
      const still = await ledger.claim(SITE, 'rem-third', 30_000);
      assert.equal(still.held, false, 'the new holder still holds it');
      assert.equal((await ledger.release(next.token))?.eventId, 'evt-for-next');
    });

    it('held for the queue: others learn it is queued; its own remediation claims it again, without the marks made meanwhile', async () => {
      const ledger = make();
      const first = await ledger.claim(SITE, 'rem-queued', 30_000);
      assert.ok(first.held);
      assert.equal(await ledger.markChanged(SITE, { eventId: 'before-hand-off' }), true);
      const queuedUntil = new Date(Date.now() + 20_000).toISOString();
      await ledger.hold(first.token, queuedUntil, new Date(Date.now() + 60_000).toISOString());
      const other = await ledger.claim(SITE, 'rem-other', 30_000);
      assert.equal(other.held, false);
      assert.equal(!other.held && other.queuedUntil, queuedUntil);
      assert.equal(await ledger.markChanged(SITE, { eventId: 'while-queued' }), true);
      // The queued part carries on under the same remediation id: it reads the resource afresh, so the marks go.
      const resumed = await ledger.claim(SITE, 'rem-queued', 30_000);
      assert.ok(resumed.held);
      const again = await ledger.claim(SITE, 'rem-other', 30_000);
      assert.equal(!again.held && again.queuedUntil, undefined, 'running again, no longer queued');
      assert.equal(await ledger.release(resumed.token), undefined);
    });

    it('many instances claiming at once: exactly one holds it', async () => {
      const ledger = make();
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ledger.claim(SITE, `rem-${i}`, 30_000)));
      assert.equal(results.filter((r) => r.held).length, 1);
      const holder = results.findIndex((r) => r.held);
      for (const r of results) if (!r.held) assert.equal(r.holder, `rem-${holder}`);
    });
  });
}
