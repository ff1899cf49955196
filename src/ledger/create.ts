import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import type { LedgerConnection } from '../settings/settings';
import { MemoryLedger } from './memory-ledger';
import { TableLedger } from './table-ledger';
import type { LedgerStore } from './types';

export function createLedger(connection: LedgerConnection, credential: TokenCredential, options: { ca?: string } = {}): LedgerStore {
  switch (connection.kind) {
    case 'identity':
      // The app's managed identity, as the host's own identity-based AzureWebJobsStorage connection.
      return new TableLedger(
        new TableClient(connection.tableServiceUrl, connection.table, credential, options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      );
    case 'connection-string':
      // Local runs only (Azurite speaks plain http).
      return new TableLedger(
        TableClient.fromConnectionString(connection.connectionString, connection.table, {
          allowInsecureConnection:
            connection.connectionString.includes('http://') || connection.connectionString.includes('UseDevelopmentStorage'),
        }),
      );
    case 'memory':
      return new MemoryLedger();
  }
}
