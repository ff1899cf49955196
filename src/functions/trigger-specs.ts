import type { SweepSettings } from '../settings/settings';

/**
 * What the host must know to register each function: kind, name, route, schedule, queue. Kept free
 * of handlers and of every Azure SDK, so the app's entry registers its functions without loading
 * them; handlers are attached by triggers.ts (and loaded on first invocation by index.ts).
 */
export type TriggerSpec =
  | { kind: 'eventGrid'; name: 'resourceWriteSuccess' }
  | {
      kind: 'http';
      name: 'remediationsPost' | 'remediationsGet' | 'resourceRemediations' | 'openApi';
      methods: Array<'GET' | 'POST'>;
      route: string;
      /** `function`: the host requires a function key; put Entra ID (App Service authentication) in front as well. */
      authLevel: 'anonymous' | 'function' | 'admin';
    }
  /** NCRONTAB with seconds (AUTOPILOT_SWEEP_SCHEDULE). */
  | { kind: 'timer'; name: 'complianceSweep'; schedule: string }
  /** queueName: AUTOPILOT_REMEDIATION_QUEUE; connection: the app setting prefix of the host's own (identity-based) Storage. */
  | { kind: 'storageQueue'; name: 'remediationQueue'; queueName: string; connection: string };

export type TriggerName = TriggerSpec['name'];

export function triggerSpecs(sweep: SweepSettings): TriggerSpec[] {
  return [
    { kind: 'eventGrid', name: 'resourceWriteSuccess' },
    { kind: 'http', name: 'remediationsPost', methods: ['POST'], route: 'remediations', authLevel: 'function' },
    { kind: 'http', name: 'remediationsGet', methods: ['GET'], route: 'remediations/{requestId}', authLevel: 'function' },
    { kind: 'http', name: 'resourceRemediations', methods: ['GET'], route: 'resources/{resourceId}/remediations', authLevel: 'function' },
    // The description of the API is public; every operation it describes requires a key.
    { kind: 'http', name: 'openApi', methods: ['GET'], route: 'openapi.json', authLevel: 'anonymous' },
    // Compliance sweeps: the timer scans and fans out; the queue trigger fixes one resource per message.
    { kind: 'timer', name: 'complianceSweep', schedule: sweep.schedule },
    { kind: 'storageQueue', name: 'remediationQueue', queueName: sweep.queueName, connection: 'AzureWebJobsStorage' },
  ];
}
