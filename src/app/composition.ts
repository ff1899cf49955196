import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ArmClientPool, type ArmConnection, armClientOptions } from '../azure/clients';
import { ArmCosmosRoleAssignmentPort } from '../azure/cosmos-role-assignment-port';
import { ArmDaprPort } from '../azure/dapr-port';
import { MsiFederatedCredentialPort } from '../azure/federated-credential-port';
import { ArmGrantTargetPort } from '../azure/grant-target-port';
import { GraphIdentityHoldersPort } from '../azure/identity-holders-port';
import { ArmManagementGroupPort } from '../azure/management-group-port';
import { ArmResourcePort } from '../azure/resource-port';
import { ArmRoleAssignmentPort } from '../azure/role-assignment-port';
import { ArmThrottleGate, type GateListener } from '../azure/throttle-gate';
import { MsiUserAssignedIdentityPort } from '../azure/user-assigned-identity-port';
import { loadRulesFile, RoleResolver, type RoleResolverOptions, type RulesConfig } from '../config';
import type { EnginePorts } from '../engine/ports';
import type { Remediator, RemediatorSettings } from '../engine/remediate';
import { createLedger } from '../ledger/create';
import { LedgerRecorder } from '../ledger/ledger-recorder';
import type { LedgerStore } from '../ledger/types';
import { consoleSink, createLogger } from '../logging/logger';
import { OutcomeEventPublisher, OutcomeRecording } from '../outcome-events/publisher';
import type { OutcomeRecorder } from '../outcomes/recorder';
import { type AppSettings, readSettings } from '../settings/settings';
import { resolveRulesPath } from './app-root';

export { resolveRulesPath } from './app-root';

import { abortableSleep } from '../abortable-sleep';
import type { GraphQuery } from '../azure/dapr-port';
import { remediationQueueClient, StorageRemediationQueue } from '../sweep/remediation-queue';
import { BlobReportStore, InMemoryReportStore, reportContainerClient } from '../sweep/report';
import { type GraphQueryPort, ResourceGraphThrottledError, SdkGraphQueryPort } from '../sweep/resource-graph';
import { ResourceGraphRoleAssignmentBudget } from '../sweep/role-assignment-budget';
import type { SweepPorts } from '../sweep/sweep';
import { OutcomeMetrics, processTelemetry, type Telemetry, TracedRemediator } from '../telemetry';

/** Who the app itself is, for the loop guard: events caused by our own writes are ignored. */
export interface SelfIdentity {
  principalId?: string;
  clientId?: string;
}

export interface Autopilot {
  readonly settings: AppSettings;
  readonly rules: RulesConfig;
  readonly remediator: Remediator;
  /** The governed subscriptions, management groups resolved through ARM (the remediator's, shared with sweeps). */
  readonly governance: Remediator['governance'];
  readonly connection: ArmConnection;
  readonly ports: EnginePorts;
  /** Ledger and outcome events; every trigger records each outcome here. */
  readonly outcomes: OutcomeRecorder;
  /** The audit ledger, for lookups and event de-duplication. */
  readonly ledger: LedgerStore;
  /** Resource Graph, the remediation queue and the report store, for compliance sweeps (built on first use). */
  readonly sweep: SweepPorts;
  /** Metrics and traces (a no-op without APPLICATIONINSIGHTS_CONNECTION_STRING). */
  readonly telemetry: Telemetry;
  /** The time rules-file exemptions are judged at, by remediations and sweeps alike: the real time but in tests. */
  readonly clock: () => Date;
  self(): Promise<SelfIdentity>;
}

export interface CompositionOverrides {
  /** Used instead of the credential the settings name (tests, the sandbox, the CLI). */
  credential?: TokenCredential;
  rules?: RulesConfig;
  /** PEM CA to trust for ARM, instead of reading AUTOPILOT_ARM_CA_PATH. */
  ca?: string;
  /** Replaces the ledger (tests, sandbox). */
  ledger?: LedgerStore;
  /** Engine retry settings, shortened by tests. */
  engine?: Partial<RemediatorSettings>;
  /** Replaces sweep ports (tests, sandbox, benchmarks: an in-memory queue or report store). */
  sweep?: Partial<SweepPorts>;
  /** Custom role cache settings (tests inject a clock). */
  roles?: RoleResolverOptions;
  /** Sees every ARM call and every pacing wait (benchmarks; where metrics hook in). */
  gateListener?: GateListener;
  /** Replaces the process's telemetry (tests: in-memory exporters). */
  telemetry?: Telemetry;
  /** Replaces the real time for exemption expiry (tests: a clock they advance past an `expiresOn`). */
  clock?: () => Date;
}

function decodeClaims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export const DEFAULT_ENGINE_SETTINGS: Omit<RemediatorSettings, 'budgetMs' | 'dryRun' | 'authorizationRetryWindowMs'> = {
  principalNotFoundBackoff: { initialDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 8 },
  conflictBackoff: { initialDelayMs: 2000, maxDelayMs: 10_000, maxAttempts: 5 },
};

/**
 * The one composition root: settings in, wired engine out. The Functions triggers, the CLI and the
 * sandbox all build the app here, so wiring exists once.
 */
export function createAutopilot(settings: AppSettings = readSettings(), overrides: CompositionOverrides = {}): Autopilot {
  // Synchronous and first: a bad rules file stops start-up before anything else happens.
  const rules = overrides.rules ?? loadRulesFile(resolveRulesPath(settings.rulesPath));
  // Problems that do not stop start-up (for example identity names that are not unique per resource).
  const rulesLog = createLogger(consoleSink, { component: 'rules' });
  for (const w of rules.warnings ?? [])
    rulesLog.log('warn', 'rules.warning', { source: rules.source, keyPath: w.keyPath, reason: w.reason });
  const credential = overrides.credential ?? credentialOf(settings);
  const telemetry = overrides.telemetry ?? processTelemetry(settings.telemetry);
  // The ARM pipeline policy counts every call already; the gate reports its waits (autopilot.arm.throttle_wait).
  const throttleGate = new ArmThrottleGate({
    ...overrides.gateListener,
    throttleWait: (ms) => {
      overrides.gateListener?.throttleWait?.(ms);
      telemetry.throttleWait(ms);
    },
  });
  const connection: ArmConnection = {
    endpoint: settings.armEndpoint,
    credential,
    ca: overrides.ca ?? (settings.armCaPath ? readFileSync(settings.armCaPath, 'utf8') : undefined),
    throttleGate,
    telemetry,
  };
  const pool = new ArmClientPool(connection);
  let self: Promise<SelfIdentity> | undefined;
  const whoAmI = (): Promise<SelfIdentity> => {
    self ??= (async () => {
      // Both ids are needed: the loop guard matches either claim, and ARM's systemData.createdBy may hold either.
      if (settings.appPrincipalId && settings.managedIdentityClientId)
        return { principalId: settings.appPrincipalId, clientId: settings.managedIdentityClientId };
      const token = await credential.getToken(armClientOptions(connection).credentialScopes);
      const claims = token ? decodeClaims(token.token) : {};
      return {
        principalId: settings.appPrincipalId ?? (typeof claims.oid === 'string' ? claims.oid : undefined),
        clientId: typeof claims.appid === 'string' ? claims.appid : settings.managedIdentityClientId,
      };
    })();
    self.catch(() => (self = undefined));
    return self;
  };
  const roleAssignments = new ArmRoleAssignmentPort(pool, () => whoAmI());
  const graph = daprGraphQuery(connection, overrides.sweep?.graph);
  const ports: EnginePorts = {
    resources: new ArmResourcePort(pool, { pollIntervalMs: settings.lroPollIntervalMs }),
    userAssignedIdentities: new MsiUserAssignedIdentityPort(pool, () => whoAmI()),
    roleAssignments,
    roles: new RoleResolver(roleAssignments, overrides.roles),
    grantTargets: new ArmGrantTargetPort(pool),
    federatedCredentials: new MsiFederatedCredentialPort(pool, () => whoAmI()),
    pacing: throttleGate,
    dapr: new ArmDaprPort(pool, graph, { pollIntervalMs: settings.lroPollIntervalMs }),
    identityHolders: new GraphIdentityHoldersPort(graph),
    cosmosRoleAssignments: new ArmCosmosRoleAssignmentPort(pool, { pollIntervalMs: settings.lroPollIntervalMs }),
    managementGroups: new ArmManagementGroupPort(connection),
    roleAssignmentBudget: roleAssignmentBudget(connection, overrides.sweep?.graph),
  };
  const clock = overrides.clock ?? (() => new Date());
  const remediator = new TracedRemediator(telemetry, rules, ports, { ...engineSettings(settings), clock, ...overrides.engine });
  const ledger = overrides.ledger ?? createLedger(settings.ledger, credential, { ca: connection.ca });
  const notifications: OutcomeRecorder[] = settings.outcomeTopicEndpoint
    ? [new OutcomeEventPublisher(settings.outcomeTopicEndpoint, credential, { ca: connection.ca })]
    : [];
  const log = createLogger(consoleSink, { component: 'outcome-events' });
  notifications.push(new OutcomeMetrics(telemetry));
  const outcomes: OutcomeRecorder = new OutcomeRecording(new LedgerRecorder(ledger), notifications, (error, outcome) =>
    log.log('warn', 'outcome-event.failed', {
      resourceId: outcome.resourceId,
      correlationId: outcome.correlationId,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  let sweep: SweepPorts | undefined;
  return {
    settings,
    rules,
    remediator,
    governance: remediator.governance,
    connection,
    ports,
    ledger,
    outcomes,
    telemetry,
    clock,
    get sweep(): SweepPorts {
      sweep ??= createSweepPorts(settings, connection, overrides.sweep);
      return sweep;
    },
    self: whoAmI,
  };
}

/** The engine's settings from the app settings. */
function engineSettings(settings: AppSettings): RemediatorSettings {
  return {
    ...DEFAULT_ENGINE_SETTINGS,
    budgetMs: settings.budgetSeconds * 1000,
    dryRun: settings.dryRun,
    authorizationRetryWindowMs: settings.authorizationRetryMinutes * 60_000,
    roleAssignmentReserve: settings.roleAssignmentReserve,
  };
}

/** The role-assignment budget's counts, from the sweep's Resource Graph port when one is injected (made on first use). */
function roleAssignmentBudget(connection: ArmConnection, injected?: GraphQueryPort): ResourceGraphRoleAssignmentBudget {
  let port = injected;
  return new ResourceGraphRoleAssignmentBudget(() => (port ??= new SdkGraphQueryPort(connection)));
}

/** The app's own credential, as the settings name it. */
function credentialOf(settings: AppSettings): TokenCredential {
  return settings.credential === 'default'
    ? new DefaultAzureCredential(settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {})
    : new ManagedIdentityCredential(settings.managedIdentityClientId ? { clientId: settings.managedIdentityClientId } : {});
}

/** Resource Graph for the Dapr step and identity holders: the sweep's port when one is injected, else the app's own client (made on first use). */
function daprGraphQuery(connection: ArmConnection, injected?: GraphQueryPort): GraphQuery {
  let port = injected;
  return async (query, subscriptions, signal) => {
    port ??= new SdkGraphQueryPort(connection);
    // Resource Graph's per-user quota (15 queries per 5 s in the docs' example) is shared with the
    // sweep: a throttled query waits for the window the service names, within the remediation's deadline.
    for (let attempt = 1; ; attempt++) {
      try {
        return (await port.query({ query, subscriptions, top: 1000 }, signal)).rows;
      } catch (e) {
        if (!(e instanceof ResourceGraphThrottledError) || attempt >= 4) throw e;
        await abortableSleep(Math.min(e.resetsAfterMs ?? 1000, 10_000), signal);
      }
    }
  };
}

/** Sweep ports from the settings: the host's storage for the queue and reports, ARM's connection for Resource Graph. */
function createSweepPorts(settings: AppSettings, connection: ArmConnection, overrides: Partial<SweepPorts> = {}): SweepPorts {
  const { storage, queueName, reportContainer } = settings.sweep;
  const queueClient = 'queue' in overrides ? undefined : remediationQueueClient(storage, queueName, connection.credential);
  const container = overrides.reports ? undefined : reportContainerClient(storage, reportContainer, connection.credential);
  return {
    graph: overrides.graph ?? new SdkGraphQueryPort(connection),
    queue: 'queue' in overrides ? overrides.queue : queueClient && new StorageRemediationQueue(queueClient),
    reports: overrides.reports ?? (container ? new BlobReportStore(container) : new InMemoryReportStore()),
  };
}
