import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { TableLedger } from '../../src/ledger/table-ledger';
import type { LedgerEntry, LedgerStore } from '../../src/ledger/types';
import { useAzurite } from '../support/azurite';

/**
 * A remediation's ledger rows are created once and then carried on only by the same remediation
 * (src/ledger/request-rows.ts): a request id arriving with another resource or another start never
 * replaces what the row says the app did. The same for the Table ledger (Azurite) and the in-memory one.
 */
const storage = useAzurite();
const RG = '/subscriptions/0b0b0b0b-0000-4000-8000-00000000c002/resourceGroups/rg-rows/providers/Microsoft.Web/sites';
const VICTIM = `${RG}/web-victim`;
const ATTACKER = `${RG}/web-attacker`;
let tables = 0;

const stores: Array<[string, () => LedgerStore]> = [
  [
    'table ledger (Azurite)',
    () =>
      new TableLedger(
        TableClient.fromConnectionString(storage.azurite.connectionString, `rows${++tables}`, { allowInsecureConnection: true }),
      ),
  ],
  ['memory ledger', () => new MemoryLedger()],
];

function entry(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    requestId: '6f1c2d3e-0000-4000-8000-000000000001',
    trigger: 'eventGrid',
    correlationId: 'c',
    resourceId: VICTIM,
    status: 'remediated',
    actions: [{ kind: 'identity-written', from: 'None', to: 'SystemAssigned', principalId: 'p-victim' }],
    skipped: [],
    errors: [],
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 1000,
    finishedAt: '2026-12-01T10:00:01.000Z',
    ...overrides,
  } as LedgerEntry;
}

for (const [name, make] of stores) {
  describe(`ledger request rows: ${name}`, () => {
    it('a row is never replaced by an entry for another resource or start under its request id; the same remediation carries it on', async () => {
      const ledger = make();
      const victim = entry({ status: 'deferred' });
      await ledger.append(victim);
      await assert.rejects(
        ledger.append(entry({ resourceId: ATTACKER, actions: [] })),
        (e: Error & { code?: string }) => e.code === 'LedgerRequestConflict' && /another resource/.test(e.message),
      );
      await assert.rejects(
        ledger.append(entry({ startedAt: '2026-12-01T11:00:00.000Z', status: 'compliant', actions: [] })),
        (e: Error & { code?: string }) => e.code === 'LedgerRequestConflict',
      );
      assert.deepEqual(await ledger.byRequestId(victim.requestId), victim, 'the row is as the victim left it');
      assert.deepEqual(await ledger.byResourceId(ATTACKER), [], 'nothing written for the other resource');
      // The same remediation, handed off and carried on (same resource, same start), updates its one row.
      const done = entry({ trigger: 'queue', status: 'remediated', durationMs: 5000, finishedAt: '2026-12-01T10:00:05.000Z' });
      await ledger.append(done);
      assert.deepEqual(await ledger.byRequestId(victim.requestId), done);
      assert.deepEqual(await ledger.byResourceId(VICTIM), [done]);
    });
  });
}
