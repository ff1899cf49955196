import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { type Autopilot, createAutopilot } from '../app/composition';
import { openApiHandler } from './openapi-http';
import { createRemediationGetHandler, createRemediationsPostHandler, createResourceRemediationsHandler } from './remediations-http';
import { createResourceWriteSuccessHandler } from './resource-write-success';
import { type SweepSettings, sweepSettings } from '../app/settings';
import { createComplianceSweepHandler } from './compliance-sweep';
import { createRemediationQueueHandler } from './remediation-queue';

/**
 * Every function the app registers, in one table: index.ts registers them with `app.*`, and tests
 * assert on it (outside the Functions host, `app.*` registers nothing that can be listed).
 */
export interface EventGridTriggerDefinition {
  kind: 'eventGrid';
  name: string;
  handler: (event: unknown, context: InvocationContext) => Promise<void>;
}

export interface HttpTriggerDefinition {
  kind: 'http';
  name: string;
  methods: Array<'GET' | 'POST'>;
  route: string;
  /** `function`: the host requires a function key; put Entra ID (App Service authentication) in front as well. */
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
}

export interface TimerTriggerDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB with seconds (AUTOPILOT_SWEEP_SCHEDULE). */
  schedule: string;
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

export interface StorageQueueTriggerDefinition {
  kind: 'storageQueue';
  name: string;
  /** AUTOPILOT_REMEDIATION_QUEUE. */
  queueName: string;
  /** The app setting prefix of the Storage connection: the host's own (identity-based in Azure). */
  connection: string;
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
}

export type TriggerDefinition = EventGridTriggerDefinition | HttpTriggerDefinition | TimerTriggerDefinition | StorageQueueTriggerDefinition;

let autopilot: Autopilot | undefined;
/** Built on first use and kept for the process: rules, credential and SDK clients are reused. */
export function sharedAutopilot(): Autopilot {
  autopilot ??= createAutopilot();
  return autopilot;
}

export function triggerDefinitions(getAutopilot: () => Autopilot = sharedAutopilot, sweep: SweepSettings = sweepSettings()): TriggerDefinition[] {
  return [
    { kind: 'eventGrid', name: 'resourceWriteSuccess', handler: createResourceWriteSuccessHandler(getAutopilot) },
    { kind: 'http', name: 'remediationsPost', methods: ['POST'], route: 'remediations', authLevel: 'function', handler: createRemediationsPostHandler(getAutopilot) },
    { kind: 'http', name: 'remediationsGet', methods: ['GET'], route: 'remediations/{requestId}', authLevel: 'function', handler: createRemediationGetHandler(getAutopilot) },
    {
      kind: 'http',
      name: 'resourceRemediations',
      methods: ['GET'],
      route: 'resources/{resourceId}/remediations',
      authLevel: 'function',
      handler: createResourceRemediationsHandler(getAutopilot),
    },
    // The description of the API is public; every operation it describes requires a key.
    { kind: 'http', name: 'openApi', methods: ['GET'], route: 'openapi.json', authLevel: 'anonymous', handler: openApiHandler },
    // Compliance sweeps: the timer scans and fans out; the queue trigger fixes one resource per message.
    { kind: 'timer', name: 'complianceSweep', schedule: sweep.schedule, handler: createComplianceSweepHandler(getAutopilot) },
    { kind: 'storageQueue', name: 'remediationQueue', queueName: sweep.queueName, connection: 'AzureWebJobsStorage', handler: createRemediationQueueHandler(getAutopilot) },
  ];
}

/** The trigger table's entry of a given kind and name, typed (for the sandbox, CLI, tests and benchmarks). */
export function triggerNamed<K extends TriggerDefinition['kind']>(kind: K, name: string, getAutopilot: () => Autopilot): Extract<TriggerDefinition, { kind: K }> {
  const found = triggerDefinitions(getAutopilot).find((t) => t.kind === kind && t.name === name);
  if (!found) throw new Error(`no ${kind} trigger named ${name}`);
  return found as Extract<TriggerDefinition, { kind: K }>;
}
