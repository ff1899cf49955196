/**
 * Benchmark: event-driven remediation against the ARM emulator with injected latencies.
 *
 * Part 1: one resource of each type. For each: ARM calls made, wall time, and the minimum beside
 * them (one read, the resource group's read when it is not cached yet, one identity write plus its LRO
 * polls, a Manual scale set's instance list and manualupgrade plus its polls, the role writes in
 * parallel), and the sum of the unavoidable sequential latencies. Each type has its own resource
 * group: its first run reads the group, the next two find it cached. Targets: calls <= minimum;
 * wall <= 1.2 x unavoidable.
 * Part 2: a long Container Instances write (a container group's GET-modify-PUT with restart consent; the
 * RP's realistic 2 minutes, time-scaled by --time-factor; AKS is not written on a managed-identity
 * cluster, its roles go to the kubelet identity) that outlives
 * the Event Grid delivery: the handler hands it to the remediation queue (Azurite) and the queue
 * trigger polls it to the end. Prints event-to-done, the hand-offs, and ARM calls against the minimum.
 * Bursts under ARM's throttling, with several app instances and Event Grid's real retry schedule, are
 * `npm run bench:burst` (bench/burst.ts).
 *
 * Run: npm run bench:remediation [-- --read-ms 60 --write-ms 250 --time-factor 0.1]
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import { createAutopilot } from '../src/app/composition';
import { formatTable } from '../src/app/text-table';
import type { SupportedResourceType } from '../src/arm/resource-types';
import { triggerNamed } from '../src/functions/triggers';
import { readSettings } from '../src/settings/settings';
import { startAzurite } from '../test/support/azurite';
import { hostJsonQueueSettings, runQueueHost } from '../test/support/queue-host';
import { type ArmEmulator, ROLE, startArmEmulator } from '../tools/arm-emulator';
import { resourceWriteEvent } from '../tools/arm-emulator/events';
import { resourceTypeModel } from '../tools/arm-emulator/resource-types';
import { SEED_TYPES, seedResource } from '../tools/arm-emulator/seed';
import { benchmarkRules } from './rules';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const READ_MS = arg('read-ms', 60);
const WRITE_MS = arg('write-ms', 250);
const TIME_FACTOR = arg('time-factor', 0.3);
/** Time each RP's operation stays InProgress; monitors send Retry-After 1 s, as ARM RPs commonly do. */
const LRO_MS: Record<SupportedResourceType, number> = {
  'Microsoft.Web/sites': 0,
  'Microsoft.Web/sites/slots': 0,
  'Microsoft.App/containerApps': 1000,
  'Microsoft.App/jobs': 1000,
  'Microsoft.Compute/virtualMachines': 2000,
  'Microsoft.Compute/virtualMachineScaleSets': 2000,
  'Microsoft.ContainerInstance/containerGroups': 2000,
  'Microsoft.ContainerService/managedClusters': 3000,
};
const SUB = '0b0b0b0b-0000-4000-8000-00000000be4c';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const emulator = await startArmEmulator({ specValidation: false, lro: { durationMs: 0, retryAfterSeconds: 1 } });
  emulator.state.addSubscription(SUB);
  emulator.state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB}` });
  emulator.faults.add({ operation: 'read', action: { kind: 'latency', ms: READ_MS } });
  emulator.faults.add({ operation: 'write', action: { kind: 'latency', ms: WRITE_MS } });
  Object.assign(process.env, emulator.managedIdentityEnvironment);
  const settings = readSettings({
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_RULES_PATH: 'inline',
    AUTOPILOT_REMEDIATION_BUDGET_SECONDS: '25',
  });
  const app = createAutopilot(settings, { rules: benchmarkRules([SUB]), ca: emulator.ca, credential: new ManagedIdentityCredential() });
  const handler = triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler;
  const context = () =>
    new InvocationContext({ invocationId: randomUUID(), functionName: 'resourceWriteSuccess', logHandler: () => undefined });
  await app.self();

  process.stdout.write(
    `Conditions: injected latency reads ${READ_MS} ms, writes ${WRITE_MS} ms; LRO Retry-After 1 s; 2 role assignments per resource; spec validation off.\n\n`,
  );
  const rows: string[][] = [];
  let worstRatio = 0;
  for (const [label, type] of Object.entries(SEED_TYPES)) {
    const lro = LRO_MS[type]!;
    emulator.lro.durationMs = lro;
    const samples: Array<{ ms: number; calls: number; polls: number; groupRead: number }> = [];
    for (let run = 0; run < 3; run++) {
      const id = seedResource(emulator.state, {
        subscriptionId: SUB,
        resourceGroup: `rg-bench-${label.toLowerCase()}`,
        type,
        name: `${label.toLowerCase()}-${run}`,
      });
      const before = emulator.lastSeq;
      const started = performance.now();
      await handler(resourceWriteEvent({ resourceId: id }), context());
      const ms = performance.now() - started;
      const calls = emulator.requestsSince(before);
      const polls = calls.filter((c) => /\/locations\/[^/]+\/(operations|[a-z]*OperationResults)\//i.test(c.path)).length;
      samples.push({ ms, calls: calls.length, polls, groupRead: run === 0 ? 1 : 0 });
    }
    const model = resourceTypeModel(type)!;
    const style = model.patch === 'tags-only' ? model.putLro : model.patchLro;
    // Minimum: one GET, the group's GET when not cached (in parallel with it), one identity write, its
    // polls (one per Retry-After second until done), for a Manual scale set the instance list, the
    // manualupgrade POST and its polls, then two role PUTs in parallel. An AKS cluster is not written:
    // its kubelet identity exists, so one GET (and the group's), one list of that principal's grants,
    // and the two role PUTs.
    const writesIdentity = type !== SEED_TYPES.managedCluster;
    const polls = style === 'sync' || !writesIdentity ? 0 : Math.max(1, Math.ceil(lro / 1000));
    const upgrade = type === SEED_TYPES.scaleSet ? 1 + 1 + Math.max(1, Math.ceil(lro / 1000)) : 0;
    const minimumOf = (groupRead: number) => (writesIdentity ? 1 + groupRead + 1 + polls + upgrade + 2 : 1 + groupRead + 1 + 2);
    // Unavoidable sequential latency: read, write, the operation itself (polled at whole seconds) and its
    // last poll, the upgrade (list, POST, its operation and last poll), role write.
    const upgradeMs = upgrade > 0 ? READ_MS + WRITE_MS + (upgrade - 2) * 1000 + READ_MS : 0;
    const unavoidable = writesIdentity
      ? READ_MS + WRITE_MS + (style === 'sync' ? 0 : polls * 1000 + READ_MS) + upgradeMs + WRITE_MS
      : READ_MS + READ_MS + WRITE_MS;
    const wall = median(samples.map((s) => s.ms));
    const calls = median(samples.map((s) => s.calls));
    const minimum = median(samples.map((s) => minimumOf(s.groupRead)));
    const everyAtMinimum = samples.every((s) => s.calls <= minimumOf(s.groupRead));
    const cold = samples[0]!;
    worstRatio = Math.max(worstRatio, wall / unavoidable);
    rows.push([
      type,
      String(calls),
      String(minimum),
      `${cold.calls} / ${minimumOf(1)}`,
      everyAtMinimum ? 'yes' : 'NO',
      `${wall.toFixed(0)} ms`,
      `${unavoidable} ms`,
      (wall / unavoidable).toFixed(2),
    ]);
  }
  process.stdout.write(
    `${formatTable(['type (median of 3)', 'ARM calls', 'minimum', 'first in group (calls / min)', 'calls <= min', 'wall', 'unavoidable', 'ratio'], rows)}\n`,
  );
  process.stdout.write(`Worst wall/unavoidable ratio: ${worstRatio.toFixed(2)} (target <= 1.20)\n\n`);

  await longWriteFromQueue(emulator);

  await emulator.close();
}

/** Part 2: a container group write that outlives the delivery, handed off and finished by the queue trigger. */
async function longWriteFromQueue(emulator: ArmEmulator): Promise<void> {
  const azurite = await startAzurite();
  try {
    emulator.lro.timeFactor = TIME_FACTOR;
    emulator.lro.retryAfterSeconds = 1;
    const settings = readSettings({
      AUTOPILOT_ARM_ENDPOINT: emulator.url,
      AUTOPILOT_RULES_PATH: 'inline',
      AUTOPILOT_REMEDIATION_BUDGET_SECONDS: '25',
      AzureWebJobsStorage: azurite.connectionString,
    });
    const app = createAutopilot(settings, { rules: benchmarkRules([SUB]), ca: emulator.ca, credential: new ManagedIdentityCredential() });
    await app.self();
    const handler = triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler;
    const id = seedResource(emulator.state, {
      subscriptionId: SUB,
      resourceGroup: 'rg-bench-long',
      type: SEED_TYPES.containerGroup,
      name: 'aci-long',
    });
    const event = resourceWriteEvent({ resourceId: id });
    const before = emulator.lastSeq;
    const logs: Array<Record<string, any>> = [];
    const capture = (...args: unknown[]) => args.forEach((a) => logs.push(JSON.parse(String(a))));
    await handler(
      event,
      new InvocationContext({ invocationId: randomUUID(), functionName: 'resourceWriteSuccess', logHandler: (_l, ...a) => capture(...a) }),
    );
    const acknowledgedAfter = Date.now() - Date.parse(event.eventTime);
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const queue = service.getQueueClient(settings.sweep.queueName);
    const run = await runQueueHost(
      queue,
      service.getQueueClient(`${settings.sweep.queueName}-poison`),
      triggerNamed('storageQueue', 'remediationQueue', () => app).handler,
      { ...hostJsonQueueSettings() },
      { timeoutMs: 30 * 60_000 },
    );
    const doneAfter = Date.now() - Date.parse(event.eventTime);
    const outcomes = [...logs, ...run.logs.map((l) => l.record)].filter((r) => r.event === 'remediation.outcome');
    const final = outcomes.at(-1)!;
    const calls = emulator.requestsSince(before);
    const writes = calls.filter((c) => (c.method === 'PUT' || c.method === 'PATCH') && c.path.toLowerCase() === id.toLowerCase()).length;
    const polls = calls.filter((c) => /\/locations\/[^/]+\/operations\//i.test(c.path)).length;
    const lroMs = resourceTypeModel(SEED_TYPES.containerGroup)!.realisticWriteMs * TIME_FACTOR;
    // GET, PUT, one poll per Retry-After second until done, the GET that resumes after the operation, two role PUTs.
    const minimum = 1 + 1 + Math.ceil(lroMs / 1000) + 1 + 2;
    process.stdout.write(
      [
        `Long write resumed from the queue: container group (allowRestart), operation 2 min x ${TIME_FACTOR} = ${(lroMs / 1000).toFixed(1)} s, delivery budget 25 s, Retry-After 1 s, queue in Azurite.`,
        `  event acknowledged after ${(acknowledgedAfter / 1000).toFixed(1)} s (${outcomes[0]?.status}, ${outcomes[0]?.deferral?.reason}); event-to-done ${(doneAfter / 1000).toFixed(1)} s (${final.status})`,
        `  hand-offs ${outcomes.filter((o) => o.status === 'deferred').length}; queue invocations ${run.invocations}; group writes ${writes}; polls ${polls}`,
        `  ARM calls ${calls.length}, minimum ${minimum}: calls <= minimum ${calls.length <= minimum ? 'yes' : 'NO'}`,
        '',
      ].join('\n'),
    );
    emulator.lro.timeFactor = undefined;
  } finally {
    await azurite.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
