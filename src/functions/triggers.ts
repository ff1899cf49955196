import type { InvocationContext } from '@azure/functions';
import { type Autopilot, createAutopilot } from '../app/composition';
import { createResourceWriteSuccessHandler } from './resource-write-success';

/**
 * Every function the app registers, in one table: index.ts registers them with `app.*`, and tests
 * assert on it (outside the Functions host, `app.*` registers nothing that can be listed).
 */
export interface EventGridTriggerDefinition {
  kind: 'eventGrid';
  name: string;
  handler: (event: unknown, context: InvocationContext) => Promise<void>;
}

export type TriggerDefinition = EventGridTriggerDefinition;

let autopilot: Autopilot | undefined;
/** Built on first use and kept for the process: rules, credential and SDK clients are reused. */
export function sharedAutopilot(): Autopilot {
  autopilot ??= createAutopilot();
  return autopilot;
}

export function triggerDefinitions(getAutopilot: () => Autopilot = sharedAutopilot): TriggerDefinition[] {
  return [{ kind: 'eventGrid', name: 'resourceWriteSuccess', handler: createResourceWriteSuccessHandler(getAutopilot) }];
}
