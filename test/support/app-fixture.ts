import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential } from '@azure/identity';
import { type Autopilot, createAutopilot } from '../../src/app/composition';
import { parseRulesText, type RulesConfig } from '../../src/config';
import { triggerNamed } from '../../src/functions/triggers';
import { readSettings } from '../../src/settings/settings';
import type { ArmEmulator } from '../../tools/arm-emulator';
import { ROLE } from '../../tools/arm-emulator';
import { type EmulatorFixture, SUB_A } from './emulator-fixture';

export interface CapturedLog {
  level: string;
  record: Record<string, any>;
}

export interface Delivery {
  logs: CapturedLog[];
  /** The `remediation.outcome` record, if the event got that far. */
  outcome?: Record<string, any>;
  /** Set when the handler threw (Event Grid would redeliver). */
  error?: unknown;
}

export function rulesFor(yaml: string): RulesConfig {
  return parseRulesText(yaml, 'test-rules.yaml');
}

/** Grants the app principal Owner on a subscription (most tests); least-privilege tests grant less. */
export function grantAppOwner(emulator: ArmEmulator, subscriptionId = SUB_A): void {
  emulator.state.grant({
    principalId: emulator.appPrincipal.id,
    roleDefinitionGuid: ROLE.owner,
    scope: `/subscriptions/${subscriptionId}`,
  });
}

/**
 * The app as the Functions host would run it: settings from the environment, the real
 * ManagedIdentityCredential against the emulator's token endpoint, the handler from the trigger
 * table, called with the library's own InvocationContext.
 */
export function buildApp(
  env: EmulatorFixture,
  rules: RulesConfig,
  engine: NonNullable<Parameters<typeof createAutopilot>[1]>['engine'] = {},
  /** More app settings, e.g. the ledger's connection or the outcome topic. */
  appSettings: Record<string, string> = {},
  /** More composition overrides, e.g. a clock for the custom role cache. */
  overrides: Omit<NonNullable<Parameters<typeof createAutopilot>[1]>, 'rules' | 'engine'> = {},
): Autopilot {
  const emulator = env.emulator;
  Object.assign(process.env, emulator.managedIdentityEnvironment);
  const settings = readSettings({
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_RULES_PATH: 'unused.yaml',
    AUTOPILOT_LRO_POLL_INTERVAL_MS: '20',
    ...appSettings,
  });
  return createAutopilot(settings, {
    rules,
    ca: emulator.ca,
    credential: new ManagedIdentityCredential(),
    ...overrides,
    engine: {
      principalNotFoundBackoff: { initialDelayMs: 250, maxDelayMs: 1000, maxAttempts: 30 },
      conflictBackoff: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 10 },
      ...engine,
    },
  });
}

/** An InvocationContext as the host builds it, its log lines parsed into `logs`; `extra` adds trace context or trigger metadata. */
export function testInvocation(
  functionName: string,
  logs: CapturedLog[],
  extra: Partial<ConstructorParameters<typeof InvocationContext>[0]> = {},
): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    logHandler: (level, ...args) => {
      for (const a of args) {
        try {
          logs.push({ level, record: JSON.parse(String(a)) });
        } catch {
          logs.push({ level, record: { raw: String(a) } });
        }
      }
    },
    ...extra,
  });
}

export async function deliver(app: Autopilot, event: unknown): Promise<Delivery> {
  const logs: CapturedLog[] = [];
  const context = testInvocation('resourceWriteSuccess', logs);
  const trigger = triggerNamed('eventGrid', 'resourceWriteSuccess', () => app);
  const delivery: Delivery = { logs };
  try {
    await trigger.handler(event, context);
  } catch (e) {
    delivery.error = e;
  }
  delivery.outcome = logs.find((l) => l.record.event === 'remediation.outcome')?.record;
  return delivery;
}
