import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LedgerConnection, readSettings } from '../settings/settings';
import type { GlobalOptions } from './context';
import { CommandFailed, UsageError } from './context';

/**
 * Where the CLI's audit ledger is, and why there. In order:
 * 1. `--ledger <table url>` (by identity) or `--ledger-connection-string <string>` (Azurite:
 *    `UseDevelopmentStorage=true`);
 * 2. the app settings in the environment: AUTOPILOT_LEDGER_TABLE_URL, AUTOPILOT_LEDGER_CONNECTION_STRING,
 *    AzureWebJobsStorage when it is a connection string (src/settings/settings.ts, as the app reads them);
 * 3. the same settings in `local.settings.json` in the current folder: the file `func start` reads, so the
 *    CLI reads the ledger the local app writes (by default Azurite's, `UseDevelopmentStorage=true`) with no
 *    further setting. Never with --sandbox: the sandbox is self-contained and must not need Azurite.
 */
export interface CliLedger {
  connection: LedgerConnection;
  /** Where the connection came from, for --verbose. */
  source: string;
}

export const NO_LEDGER =
  'no ledger is configured (--ledger <table url>, --ledger-connection-string <string>, or AUTOPILOT_LEDGER_TABLE_URL, ' +
  'AUTOPILOT_LEDGER_CONNECTION_STRING or AzureWebJobsStorage in the environment or in ./local.settings.json)';

/** The settings local.settings.json may supply: the ledger's, nothing else (the ARM endpoint, rules, ... stay the CLI's). */
const LEDGER_SETTINGS = [
  'AUTOPILOT_LEDGER_TABLE_URL',
  'AUTOPILOT_LEDGER_CONNECTION_STRING',
  'AUTOPILOT_LEDGER_TABLE',
  'AzureWebJobsStorage',
];

export function cliLedger(options: GlobalOptions, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): CliLedger {
  const fromEnv = readSettings({ ...env, AUTOPILOT_CREDENTIAL: 'default' }).ledger;
  // AUTOPILOT_LEDGER_TABLE names the table whichever way the storage is reached (readSettings has checked the name).
  const table = fromEnv.kind === 'memory' ? env.AUTOPILOT_LEDGER_TABLE?.trim() || 'remediations' : fromEnv.table;
  if (options.ledger && options.ledgerConnectionString)
    throw new UsageError('--ledger and --ledger-connection-string name two ledgers: give one');
  if (options.ledger) return { connection: ledgerFromUrl(options.ledger, table), source: '--ledger' };
  if (options.ledgerConnectionString)
    return {
      connection: { kind: 'connection-string', connectionString: options.ledgerConnectionString, table },
      source: '--ledger-connection-string',
    };
  if (fromEnv.kind !== 'memory' || options.sandbox) return { connection: fromEnv, source: 'the environment' };
  const file = join(cwd, 'local.settings.json');
  const values = localSettingsValues(file);
  const fromFile = readSettings({ ...env, ...values, AUTOPILOT_CREDENTIAL: 'default' }).ledger;
  return { connection: fromFile, source: fromFile.kind === 'memory' ? 'none' : file };
}

/** The ledger settings among local.settings.json's `Values` (empty strings count as unset, as in the sample). */
function localSettingsValues(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  let parsed: { Values?: Record<string, unknown> };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CommandFailed(`${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const values: Record<string, string> = {};
  for (const key of LEDGER_SETTINGS) {
    const value = parsed.Values?.[key];
    if (typeof value === 'string' && value.trim() !== '') values[key] = value;
  }
  return values;
}

/**
 * `--ledger https://<account>.table.core.windows.net/<table>`: the Table storage the CLI records to and
 * reads from, by identity (DefaultAzureCredential). Without a table name the app's default table is used.
 */
export function ledgerFromUrl(url: string, defaultTable: string): LedgerConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--ledger '${url}' is not a URL (https://<account>.table.core.windows.net/<table>)`);
  }
  if (parsed.protocol !== 'https:')
    throw new UsageError(
      `--ledger must be an https:// URL (got ${parsed.protocol}); for Azurite use --ledger-connection-string UseDevelopmentStorage=true`,
    );
  if (parsed.search || parsed.hash || parsed.username || parsed.password)
    throw new UsageError('--ledger takes the table URL only: no query string (SAS), fragment or credentials');
  const segments = parsed.pathname.split('/').filter(Boolean);
  if (segments.length > 1) throw new UsageError(`--ledger '${url}': expected https://<account>.table.core.windows.net/<table>`);
  const table = segments[0] ?? defaultTable;
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(table)) throw new UsageError(`--ledger: '${table}' is not a valid table name`);
  return { kind: 'identity', tableServiceUrl: parsed.origin, table };
}

export function describeLedger(ledger: LedgerConnection): string {
  switch (ledger.kind) {
    case 'identity':
      return `table '${ledger.table}' at ${ledger.tableServiceUrl}`;
    case 'connection-string':
      return `table '${ledger.table}' through a storage connection string`;
    case 'memory':
      return 'none';
  }
}
