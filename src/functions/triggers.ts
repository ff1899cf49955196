import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { type Autopilot, createAutopilot } from '../app/composition';
import { type SweepSettings, sweepSettings } from '../settings/settings';
import { underInvocationTrace } from '../telemetry/invocation-trace';
import { createComplianceSweepHandler } from './compliance-sweep';
import { openApiHandler } from './openapi-http';
import { createRemediationQueueHandler } from './remediation-queue';
import { createRemediationGetHandler, createRemediationsPostHandler, createResourceRemediationsHandler } from './remediations-http';
import { createResourceWriteSuccessHandler } from './resource-write-success';
import { type TriggerName, type TriggerSpec, triggerSpecs } from './trigger-specs';

type Handlers = {
  eventGrid: (event: unknown, context: InvocationContext) => Promise<void>;
  http: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
  timer: (timer: Timer, context: InvocationContext) => Promise<void>;
  storageQueue: (message: unknown, context: InvocationContext) => Promise<void>;
};

/**
 * Every function the app registers, with its handler: trigger-specs.ts holds what the host needs to
 * register them; index.ts registers them with `app.*`, and tests assert on this table (outside the
 * Functions host, `app.*` registers nothing that can be listed).
 */
export type TriggerDefinition = {
  [K in TriggerSpec['kind']]: Extract<TriggerSpec, { kind: K }> & { handler: Handlers[K] };
}[TriggerSpec['kind']];
export type EventGridTriggerDefinition = Extract<TriggerDefinition, { kind: 'eventGrid' }>;
export type HttpTriggerDefinition = Extract<TriggerDefinition, { kind: 'http' }>;
export type TimerTriggerDefinition = Extract<TriggerDefinition, { kind: 'timer' }>;
export type StorageQueueTriggerDefinition = Extract<TriggerDefinition, { kind: 'storageQueue' }>;

function handlerFor(name: TriggerName, getAutopilot: () => Autopilot): Handlers[keyof Handlers] {
  switch (name) {
    case 'resourceWriteSuccess':
      return createResourceWriteSuccessHandler(getAutopilot);
    case 'remediationsPost':
      return createRemediationsPostHandler(getAutopilot);
    case 'remediationsGet':
      return createRemediationGetHandler(getAutopilot);
    case 'resourceRemediations':
      return createResourceRemediationsHandler(getAutopilot);
    case 'openApi':
      return openApiHandler;
    case 'complianceSweep':
      return createComplianceSweepHandler(getAutopilot);
    case 'remediationQueue':
      return createRemediationQueueHandler(getAutopilot);
  }
}

let autopilot: Autopilot | undefined;
/** Built on first use and kept for the process: rules, credential and SDK clients are reused. */
export function sharedAutopilot(): Autopilot {
  autopilot ??= createAutopilot();
  return autopilot;
}

export function triggerDefinitions(
  getAutopilot: () => Autopilot = sharedAutopilot,
  sweep: SweepSettings = sweepSettings(),
): TriggerDefinition[] {
  // Each handler runs under the host's trace context, so the app's spans join the host's invocation.
  return triggerSpecs(sweep).map(
    (spec) =>
      ({
        ...spec,
        handler: underInvocationTrace(handlerFor(spec.name, getAutopilot) as (...args: unknown[]) => Promise<unknown>),
      }) as TriggerDefinition,
  );
}

/** The trigger table's entry of a given kind and name, typed (for the sandbox, CLI, tests and benchmarks). */
export function triggerNamed<K extends TriggerDefinition['kind']>(
  kind: K,
  name: string,
  getAutopilot: () => Autopilot,
): Extract<TriggerDefinition, { kind: K }> {
  const found = triggerDefinitions(getAutopilot).find((t) => t.kind === kind && t.name === name);
  if (!found) throw new Error(`no ${kind} trigger named ${name}`);
  return found as Extract<TriggerDefinition, { kind: K }>;
}
