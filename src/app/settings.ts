import { AutopilotError } from '../errors';

/** Every app setting the app reads. local.settings.sample.json documents each one. */
export interface AppSettings {
  /** AUTOPILOT_RULES_PATH: the rules file (YAML). Relative paths resolve from the app root. */
  rulesPath: string;
  /** AUTOPILOT_ARM_ENDPOINT: Azure Resource Manager. */
  armEndpoint: string;
  /** AUTOPILOT_ARM_CA_PATH: a PEM CA to trust for ARM only (the local emulator); never set in Azure. */
  armCaPath?: string;
  /** AZURE_CLIENT_ID: the app's user-assigned identity; unset means the system-assigned one. */
  managedIdentityClientId?: string;
  /** AUTOPILOT_CREDENTIAL: `managed-identity` in Azure; `default` (DefaultAzureCredential, e.g. az login) for the CLI. */
  credential: 'managed-identity' | 'default';
  /** AUTOPILOT_DRY_RUN: plan and log, never write. */
  dryRun: boolean;
  /** AUTOPILOT_REMEDIATION_BUDGET_SECONDS: wall-clock limit of one remediation, retries included. */
  budgetSeconds: number;
  /** AUTOPILOT_APP_PRINCIPAL_ID: the app's own principal id for the loop guard; read from its token when unset. */
  appPrincipalId?: string;
  /** AUTOPILOT_LRO_POLL_INTERVAL_MS: poll interval when the RP sends no Retry-After. */
  lroPollIntervalMs?: number;
  /** Where the audit ledger lives (see ledgerConnection). */
  ledger: LedgerConnection;
  /** AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: custom Event Grid topic for outcome CloudEvents; unset: none published. */
  outcomeTopicEndpoint?: string;
}

/**
 * The ledger's Table storage: by identity (AUTOPILOT_LEDGER_TABLE_URL, else the host's own
 * AzureWebJobsStorage__tableServiceUri), by connection string for local runs
 * (AUTOPILOT_LEDGER_CONNECTION_STRING, else AzureWebJobsStorage when it is one), or in memory.
 */
export type LedgerConnection =
  | { kind: 'identity'; tableServiceUrl: string; table: string }
  | { kind: 'connection-string'; connectionString: string; table: string }
  | { kind: 'memory' };

export class SettingsError extends AutopilotError {
  constructor(readonly setting: string, reason: string) {
    super('InvalidSetting', `app setting ${setting}: ${reason}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function flag(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return fallback;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new SettingsError(name, `'${env[name]}' is not true or false`);
}

function positiveNumber(env: Env, name: string, fallback: number | undefined, max: number): number | undefined {
  const v = env[name]?.trim();
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new SettingsError(name, `'${v}' is not a number between 0 and ${max}`);
  return n;
}

export function readSettings(env: Env = process.env): AppSettings {
  const armEndpoint = env.AUTOPILOT_ARM_ENDPOINT?.trim() || 'https://management.azure.com';
  if (!/^https:\/\//.test(armEndpoint)) throw new SettingsError('AUTOPILOT_ARM_ENDPOINT', 'must be an https:// URL');
  const credential = env.AUTOPILOT_CREDENTIAL?.trim() || 'managed-identity';
  if (credential !== 'managed-identity' && credential !== 'default') {
    throw new SettingsError('AUTOPILOT_CREDENTIAL', `'${credential}' is not 'managed-identity' or 'default'`);
  }
  return {
    rulesPath: env.AUTOPILOT_RULES_PATH?.trim() || 'config/rules.yaml',
    armEndpoint,
    armCaPath: env.AUTOPILOT_ARM_CA_PATH?.trim() || undefined,
    managedIdentityClientId: env.AZURE_CLIENT_ID?.trim() || undefined,
    credential,
    dryRun: flag(env, 'AUTOPILOT_DRY_RUN', false),
    // Event Grid waits about 30 s for a delivery; staying under it avoids a duplicate delivery of work in progress.
    budgetSeconds: positiveNumber(env, 'AUTOPILOT_REMEDIATION_BUDGET_SECONDS', 25, 600)!,
    appPrincipalId: env.AUTOPILOT_APP_PRINCIPAL_ID?.trim() || undefined,
    lroPollIntervalMs: positiveNumber(env, 'AUTOPILOT_LRO_POLL_INTERVAL_MS', undefined, 60_000),
    ledger: ledgerConnection(env),
    outcomeTopicEndpoint: httpsUrl(env, 'AUTOPILOT_OUTCOME_TOPIC_ENDPOINT'),
  };
}

function httpsUrl(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  if (!v) return undefined;
  if (!/^https:\/\/[^\s]+$/.test(v)) throw new SettingsError(name, 'must be an https:// URL');
  return v;
}

function ledgerConnection(env: Env): LedgerConnection {
  const table = env.AUTOPILOT_LEDGER_TABLE?.trim() || 'remediations';
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(table)) throw new SettingsError('AUTOPILOT_LEDGER_TABLE', `'${table}' is not a valid table name`);
  const url = httpsUrl(env, 'AUTOPILOT_LEDGER_TABLE_URL') ?? env.AzureWebJobsStorage__tableServiceUri?.trim();
  if (url) return { kind: 'identity', tableServiceUrl: url, table };
  const connectionString = env.AUTOPILOT_LEDGER_CONNECTION_STRING?.trim() || (env.AzureWebJobsStorage?.includes('=') ? env.AzureWebJobsStorage.trim() : undefined);
  if (connectionString) return { kind: 'connection-string', connectionString, table };
  return { kind: 'memory' };
}
