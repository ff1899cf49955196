import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import {
  type ArmEmulator,
  resourceWriteEvent,
  SEED_TYPES,
  seedChildScope,
  seedLocalAuthTarget,
  seedManagedEnvironment,
  seedResource,
} from '../../tools/arm-emulator';
import type { Autopilot } from '../app/composition';
import { formatTable } from '../app/text-table';
import { DEFAULT_PROPAGATION_MINUTES } from '../config';
import { triggerNamed } from '../functions/triggers';
import { InMemoryRemediationQueue, runSweep } from '../sweep';
import type { SecretlessSection } from '../sweep/secretless';
import { SANDBOX_SUBSCRIPTION } from './estate';
import type { LogLine } from './log-line';
import { SANDBOX_PLANTED_KEY, seedSecretlessComponents } from './secretless-estate';

/**
 * The sandbox's secretless demo (issue 25 item 6), in its own resource group so the estate the other demos
 * and `--sandbox` commands show is unchanged. The rule `dapr-secretless` (src/sandbox/rules.yaml) opts in to
 * `secretless.migrate` with the default 15-minute window. A Dapr app with a key-based blob state store gets
 * its identity and grants from its event; the sweep (the timer's code path) reports the component, refuses
 * to migrate it while the grant is young, migrates it once the grant is older than the window, and then
 * reports the storage account ready and the Service Bus namespace not ready (a second component still holds
 * a connection string).
 */
export const SECRETLESS_DEMO_GROUP = 'rg-keys';

export interface SecretlessDemoIds {
  environmentId: string;
  appId: string;
  storageAccountId: string;
  serviceBusId: string;
  /** The key-based blob state store the sweep migrates. */
  componentId: string;
}

export interface SecretlessDemoResult {
  ids: SecretlessDemoIds;
  /** The secretless section of each of the three sweeps. */
  sweeps: SecretlessSection[];
}

/** The demo's estate: storage with Shared Key allowed, Service Bus with local auth on, three components, one opted-in app. */
export function seedSecretlessKeysEstate(emulator: ArmEmulator): SecretlessDemoIds {
  const state = emulator.state;
  const place = { subscriptionId: SANDBOX_SUBSCRIPTION, resourceGroup: SECRETLESS_DEMO_GROUP };
  const environmentId = seedManagedEnvironment(state, { ...place, name: 'env-demo' });
  const storageAccountId = seedLocalAuthTarget(state, {
    ...place,
    type: 'Microsoft.Storage/storageAccounts',
    name: 'stkeysdemo',
    localAuth: 'unset',
  });
  // The blob container the state store names: the grant is made there (it must exist).
  seedChildScope(state, storageAccountId, 'blobServices/default/containers/state');
  const serviceBusId = seedLocalAuthTarget(state, {
    ...place,
    type: 'Microsoft.ServiceBus/namespaces',
    name: 'sb-keys-demo',
    localAuth: 'on',
  });
  // legacy-worker is not deployed here: its connection-string component is loaded by no app the product sees.
  seedSecretlessComponents(state, {
    environmentId,
    storageAccount: 'stkeysdemo',
    serviceBus: 'sb-keys-demo',
    planted: SANDBOX_PLANTED_KEY,
    ordersAppId: 'checkout-keys',
    legacyAppId: 'legacy-worker',
  });
  const appId = seedResource(state, { ...place, type: SEED_TYPES.containerApp, name: 'checkout-keys', tags: { secretless: 'migrate' } });
  return { environmentId, appId, storageAccountId, serviceBusId, componentId: `${environmentId}/daprComponents/orders-state` };
}

/** One enforce sweep of the whole sandbox (fresh in-memory queue), with the storage account's sole-consumers declaration. */
async function sweep(app: Autopilot, ids: SecretlessDemoIds): Promise<SecretlessSection> {
  const host = { rules: app.rules, ports: app.ports, ledger: app.ledger, outcomes: app.outcomes };
  const report = await runSweep(
    { ...host, sweep: { ...app.sweep, queue: new InMemoryRemediationQueue() } },
    { soleConsumerScopes: [ids.storageAccountId], trigger: 'timer' },
  );
  if (!report.secretless) throw new Error('the sweep produced no secretless section');
  return report.secretless;
}

const short = (id: string) => id.split('/').pop()!;

/** The demo group's components: name, method, grant age. */
function componentLines(s: SecretlessSection): string {
  const mine = s.components.filter((c) => c.environmentId.includes(`/resourceGroups/${SECRETLESS_DEMO_GROUP}/`));
  const age = (c: SecretlessSection['components'][number]) =>
    c.apps.flatMap((a) => a.grants.map((g) => `${g.status}${g.ageMinutes !== undefined ? ` ${g.ageMinutes} min` : ''}`)).join(', ') ||
    'no app loads it';
  return formatTable(
    ['component', 'method', 'grant'],
    mine.map((c) => [c.name, c.method, age(c)]),
  );
}

function migrationLines(s: SecretlessSection): string {
  return (s.migrations ?? []).map((m) => `  ${m.name}: ${m.status}: ${m.detail}\n`).join('') || '  (no component to migrate)\n';
}

function targetLines(s: SecretlessSection, ids: SecretlessDemoIds): string {
  const mine = s.targets.filter((t) => t.id === ids.storageAccountId || t.id === ids.serviceBusId);
  return formatTable(
    ['target', 'local auth', 'verdict', 'blocked by / unknown because'],
    mine.map((t) => [t.name, t.flag, t.verdict, [...t.blockers, ...t.unknowns].join('; ') || '-']),
  );
}

/** Delivers the app's event to the real Event Grid handler: its identity and its components' grants. */
async function remediateApp(app: Autopilot, appId: string): Promise<string> {
  const lines: LogLine[] = [];
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'resourceWriteSuccess',
    logHandler: (_l, ...args) => args.forEach((a) => lines.push(JSON.parse(String(a)))),
  });
  await triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler(resourceWriteEvent({ resourceId: appId }), context);
  return String(lines.find((l) => l.event === 'remediation.outcome')?.status ?? 'no outcome');
}

export async function runSecretlessDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<SecretlessDemoResult> {
  const ids = seedSecretlessKeysEstate(emulator);
  out(
    `Secretless: in ${SECRETLESS_DEMO_GROUP}, checkout-keys's blob state store orders-state uses stkeysdemo's accountKey; legacy-pubsub holds sb-keys-demo's connection string. Rule dapr-secretless opts in to secretless.migrate (window ${DEFAULT_PROPAGATION_MINUTES} min).\n`,
  );
  out(`Event for checkout-keys: ${await remediateApp(app, ids.appId)} (identity and its components' grants).\n`);
  out(
    `The sweeps declare stkeysdemo's keys used only by scanned Dapr components (soleConsumerScopes, the app setting AUTOPILOT_SECRETLESS_SOLE_CONSUMERS); without that the verdict could only be unknown.\n\n`,
  );
  const first = await sweep(app, ids);
  out(`Sweep 1: reported\n${componentLines(first)}\n${migrationLines(first)}\n`);
  // The sandbox does not wait 15 minutes: it moves the grants' createdOn back in the emulator's state.
  const principal = emulator.state.resource(ids.appId)!.body.identity.principalId as string;
  const backdated = new Date(Date.now() - (DEFAULT_PROPAGATION_MINUTES + 5) * 60_000).toISOString();
  for (const a of emulator.state.assignmentsFor(principal)) a.createdOn = backdated;
  out(
    `The sandbox does not wait ${DEFAULT_PROPAGATION_MINUTES} minutes: it backdates the createdOn of checkout-keys's role assignments by ${DEFAULT_PROPAGATION_MINUTES + 5} minutes in the emulator's state (the window stays ${DEFAULT_PROPAGATION_MINUTES}).\n`,
  );
  const second = await sweep(app, ids);
  out(`Sweep 2: after the window\n${migrationLines(second)}\n`);
  const third = await sweep(app, ids);
  out(`Sweep 3: readiness once orders-state is on the identity\n${componentLines(third)}\n${targetLines(third, ids)}\n`);
  out(
    `${short(ids.storageAccountId)}: no key consumer remains; its owner may now set allowSharedKeyAccess: false (the product never does).\n`,
  );
  return { ids, sweeps: [first, second, third] };
}
