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
  /** AUTOPILOT_ROLE_ASSIGNMENT_RESERVE: role assignments left in a subscription below which no new grant is made (default 200). */
  roleAssignmentReserve: number;
  /**
   * AUTOPILOT_AUTHORIZATION_RETRY_MINUTES: how long a 403 (AuthorizationFailed, LinkedAuthorizationFailed)
   * is retried through the remediation queue, with growing delays, before it is reported as a missing
   * permission. New role assignments can take up to 30 minutes to reach ARM's authorization cache.
   */
  authorizationRetryMinutes: number;
  /** AUTOPILOT_APP_PRINCIPAL_ID: the app's own principal id for the loop guard; read from its token when unset. */
  appPrincipalId?: string;
  /** AUTOPILOT_LRO_POLL_INTERVAL_MS: poll interval when the RP sends no Retry-After. */
  lroPollIntervalMs?: number;
  /** Where the audit ledger lives (see ledgerConnection). */
  ledger: LedgerConnection;
  /** AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: custom Event Grid topic for outcome CloudEvents; unset: none published. */
  outcomeTopicEndpoint?: string;
  /** Compliance sweeps: schedule, remediation queue, report container and the Storage they use. */
  sweep: SweepSettings;
  /** Who may call the HTTP API, and how often. */
  http: HttpAccessSettings;
  /** Where metrics and traces go (src/telemetry); none without a connection string. */
  telemetry: TelemetryConnection;
}

export interface TelemetryConnection {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING: the Application Insights component; unset: no telemetry. */
  connectionString?: string;
  /** APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD[;ClientId=<id>]`, Entra ingestion with that managed identity. */
  authenticationString?: string;
  /** WEBSITE_SITE_NAME (set by App Service): the cloud role name in Application Insights. */
  serviceName?: string;
}

/**
 * The HTTP API sits behind App Service authentication (Easy Auth), which validates the caller's
 * Entra token and passes the caller to the app in `x-ms-client-principal`; the app then checks the
 * caller's app roles. See docs/threat-model.md ("HTTP callers").
 */
export interface HttpAccessSettings {
  /**
   * AUTOPILOT_HTTP_ROLE_CHECKS (default true): require an app role on every call (Remediation.Apply
   * for apply; Remediation.Read or Remediation.Apply for plan; Remediation.Read for ledger reads).
   * false: the function key alone lets a caller do everything; for operators who turn it off on purpose.
   */
  roleChecks: boolean;
  /**
   * WEBSITE_AUTH_ENABLED, set to True by App Service when authentication is enabled on the app. Only
   * then does App Service strip `x-ms-client-principal` from outside requests, so only then is it
   * believed; role checks without it refuse every call.
   */
  easyAuthEnabled: boolean;
  /** AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE (default 60): calls per caller and minute, per instance; more answer 429. */
  rateLimitPerMinute: number;
}

export interface SweepSettings {
  /** AUTOPILOT_SWEEP_SCHEDULE: NCRONTAB (six fields, with seconds) of the timer trigger. Default hourly. */
  schedule: string;
  /** AUTOPILOT_REMEDIATION_QUEUE: Storage queue the sweep fans out to and the queue trigger reads. */
  queueName: string;
  /** AUTOPILOT_REPORT_CONTAINER: blob container for compliance reports. */
  reportContainer: string;
  /**
   * The host's own storage (AzureWebJobsStorage): by identity (AzureWebJobsStorage__queueServiceUri /
   * __blobServiceUri, or __accountName) in Azure, a connection string locally (Azurite).
   */
  storage: SweepStorage;
  /**
   * AUTOPILOT_CONFIRM_MASS_REVOCATION: the timer's confirmation for a sweep that would revoke more grants
   * than the rules' lifecycle.maxRevocations (the mass-revocation guard). Default false: such a sweep
   * revokes nothing and alerts; set it for one run after checking the rules, then unset it.
   */
  confirmMassRevocation: boolean;
  /**
   * AUTOPILOT_REVOCATION_MODE: `enforce` (default) lets the rules' lifecycle.revoke decide; `report` makes
   * the timer's sweep list excess and orphaned grants and remove none, whatever the rules say. A deployment
   * setting (azd AUTOPILOT_REVOCATION_MODE) that can only hold removals back, never add any.
   */
  revocationMode: 'report' | 'enforce';
  /**
   * AUTOPILOT_SECRETLESS_SOLE_CONSUMERS: comma-separated ARM ids (subscriptions, resource groups, resources)
   * whose targets' keys, the operator declares, only the Dapr components the product scans use. Without it
   * no target is reported "ready" to turn keys off, only "unknown" (src/engine/secretless.ts).
   */
  soleConsumerScopes: string[];
}

export type SweepStorage =
  | { kind: 'identity'; queueServiceUrl?: string; blobServiceUrl?: string }
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'none' };

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
  constructor(
    readonly setting: string,
    reason: string,
  ) {
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
    roleAssignmentReserve: positiveNumber(env, 'AUTOPILOT_ROLE_ASSIGNMENT_RESERVE', 200, 4000)!,
    // Learn (role-based-access-control/troubleshooting): ARM caches authorization, so a role assignment
    // "can sometimes take up to 30 minutes" to take effect.
    authorizationRetryMinutes: positiveNumber(env, 'AUTOPILOT_AUTHORIZATION_RETRY_MINUTES', 30, 24 * 60)!,
    appPrincipalId: env.AUTOPILOT_APP_PRINCIPAL_ID?.trim() || undefined,
    lroPollIntervalMs: positiveNumber(env, 'AUTOPILOT_LRO_POLL_INTERVAL_MS', undefined, 60_000),
    ledger: ledgerConnection(env),
    outcomeTopicEndpoint: httpsUrl(env, 'AUTOPILOT_OUTCOME_TOPIC_ENDPOINT'),
    sweep: sweepSettings(env),
    http: {
      roleChecks: flag(env, 'AUTOPILOT_HTTP_ROLE_CHECKS', true),
      easyAuthEnabled: flag(env, 'WEBSITE_AUTH_ENABLED', false),
      rateLimitPerMinute: positiveNumber(env, 'AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE', 60, 100_000)!,
    },
    telemetry: {
      connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim() || undefined,
      authenticationString: env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING?.trim() || undefined,
      serviceName: env.WEBSITE_SITE_NAME?.trim() || undefined,
    },
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
  const connectionString =
    env.AUTOPILOT_LEDGER_CONNECTION_STRING?.trim() || (env.AzureWebJobsStorage?.includes('=') ? env.AzureWebJobsStorage.trim() : undefined);
  if (connectionString) return { kind: 'connection-string', connectionString, table };
  return { kind: 'memory' };
}

export const DEFAULT_SWEEP_SCHEDULE = '0 0 * * * *';
const STORAGE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/** Only the sweep's settings: the trigger table reads them without building the app. */
export function sweepSettings(env: Env = process.env): SweepSettings {
  const schedule = env.AUTOPILOT_SWEEP_SCHEDULE?.trim() || DEFAULT_SWEEP_SCHEDULE;
  if (schedule.split(/\s+/).length !== 6)
    throw new SettingsError('AUTOPILOT_SWEEP_SCHEDULE', `'${schedule}' is not a six-field NCRONTAB expression (seconds first)`);
  const queueName = env.AUTOPILOT_REMEDIATION_QUEUE?.trim() || 'remediations';
  if (!STORAGE_NAME.test(queueName)) throw new SettingsError('AUTOPILOT_REMEDIATION_QUEUE', `'${queueName}' is not a valid queue name`);
  const reportContainer = env.AUTOPILOT_REPORT_CONTAINER?.trim() || 'compliance-reports';
  if (!STORAGE_NAME.test(reportContainer))
    throw new SettingsError('AUTOPILOT_REPORT_CONTAINER', `'${reportContainer}' is not a valid container name`);
  return {
    schedule,
    queueName,
    reportContainer,
    storage: sweepStorage(env),
    confirmMassRevocation: flag(env, 'AUTOPILOT_CONFIRM_MASS_REVOCATION', false),
    revocationMode: revocationMode(env),
    soleConsumerScopes: soleConsumerScopes(env.AUTOPILOT_SECRETLESS_SOLE_CONSUMERS),
  };
}

function revocationMode(env: Env): 'report' | 'enforce' {
  const mode = env.AUTOPILOT_REVOCATION_MODE?.trim().toLowerCase() || 'enforce';
  if (mode !== 'report' && mode !== 'enforce')
    throw new SettingsError('AUTOPILOT_REVOCATION_MODE', `'${env.AUTOPILOT_REVOCATION_MODE}' is not 'report' or 'enforce'`);
  return mode;
}

/** ARM ids only (`/subscriptions/...`): anything else is a mistake worth refusing at start, not a scope to guess. */
export function soleConsumerScopes(value: string | undefined): string[] {
  const scopes = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = scopes.find((s) => !/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+(\/providers\/[^/]+\/[^/]+\/[^/]+)?)?$/i.test(s));
  if (bad) throw new SettingsError('AUTOPILOT_SECRETLESS_SOLE_CONSUMERS', `'${bad}' is not a subscription, resource group or resource id`);
  return scopes;
}

function sweepStorage(env: Env): SweepStorage {
  const account = env.AzureWebJobsStorage__accountName?.trim();
  const queueServiceUrl =
    env.AzureWebJobsStorage__queueServiceUri?.trim() || (account ? `https://${account}.queue.core.windows.net` : undefined);
  const blobServiceUrl =
    env.AzureWebJobsStorage__blobServiceUri?.trim() || (account ? `https://${account}.blob.core.windows.net` : undefined);
  if (queueServiceUrl || blobServiceUrl) return { kind: 'identity', queueServiceUrl, blobServiceUrl };
  const connectionString = env.AzureWebJobsStorage?.trim();
  if (connectionString?.includes('=')) return { kind: 'connection-string', connectionString };
  return { kind: 'none' };
}
