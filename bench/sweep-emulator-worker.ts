/**
 * The ARM emulator for bench/sweep.ts, in a worker thread: its own heap, so the benchmark measures
 * the sweep's memory alone. Seeds the estate, then answers `stats` and `stop` messages.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { parseArmId } from '../src/arm/resource-id';
import { ROLE, startArmEmulator } from '../tools/arm-emulator';
import { SyntheticEstate } from '../tools/arm-emulator/generated-estate';
import { SEED_TYPES, seedResource } from '../tools/arm-emulator/seed';

const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

async function main(): Promise<void> {
  const { resources, driftPercent, subscriptions, quota, generated } = workerData as {
    resources: number;
    driftPercent: number;
    subscriptions: string[];
    quota?: { limit: number; windowMs: number };
    /** Tenant scale: a generated estate (see tools/arm-emulator/generated-estate.ts), never held in memory. */
    generated?: { subscriptions: number; resourceGroupsPerSubscription: number };
  };
  const emulator = await startArmEmulator({ specValidation: false });
  emulator.resourceGraph.setQuota(quota);
  if (generated) {
    const estate = new SyntheticEstate({ ...generated, resources, driftPercent, tenantId: emulator.state.tenantId });
    estate.addContainersTo(emulator.state);
    emulator.resourceGraph.useGeneratedEstate(estate);
    parentPort!.postMessage({
      kind: 'ready',
      url: emulator.url,
      ca: emulator.ca,
      env: emulator.managedIdentityEnvironment,
      drifted: estate.drifted,
      roleAssignments: estate.roleAssignments,
      subscriptions: estate.subscriptionIds,
    });
    serve(emulator);
    return;
  }
  for (const s of subscriptions) {
    emulator.state.addSubscription(s);
    emulator.state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${s}` });
  }
  const types = Object.values(SEED_TYPES);
  let drifted = 0;
  for (let i = 0; i < resources; i++) {
    const sub = subscriptions[i % subscriptions.length]!;
    const rg = `rg-${i % 50}`;
    const id = seedResource(emulator.state, { subscriptionId: sub, resourceGroup: rg, type: types[i % types.length]!, name: `res-${i}` });
    // A child (a slot) brings its parent (a site) into the estate: compliant, so the drift stays what is counted here.
    const parent = parseArmId(id).isChild ? id.split('/').slice(0, -2).join('/') : undefined;
    if (parent) compliant(emulator, parent, sub, rg);
    // Every fifth resource has drifted, in three ways: never remediated, identity removed, a grant deleted.
    const kind = i % Math.round(100 / driftPercent) === 0 ? drifted++ % 3 : -1;
    if (kind === 0) continue;
    const principalId = randomUUID();
    if (kind !== 1) emulator.state.resource(id)!.body.identity = { type: 'SystemAssigned', principalId, tenantId: emulator.state.tenantId };
    emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.reader, scope: `/subscriptions/${sub}/resourceGroups/${rg}` });
    if (kind !== 2) emulator.state.grant({ principalId, roleDefinitionGuid: METRICS_PUBLISHER, scope: id });
  }
  parentPort!.postMessage({
    kind: 'ready',
    url: emulator.url,
    ca: emulator.ca,
    env: emulator.managedIdentityEnvironment,
    drifted,
    roleAssignments: emulator.state.roleAssignments.size,
    subscriptions,
  });
  serve(emulator);
}

/** Gives a resource the identity and the two grants the bench's rules ask for. */
function compliant(emulator: Awaited<ReturnType<typeof startArmEmulator>>, id: string, sub: string, rg: string): void {
  const principalId = randomUUID();
  emulator.state.resource(id)!.body.identity = { type: 'SystemAssigned', principalId, tenantId: emulator.state.tenantId };
  emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.reader, scope: `/subscriptions/${sub}/resourceGroups/${rg}` });
  emulator.state.grant({ principalId, roleDefinitionGuid: METRICS_PUBLISHER, scope: id });
}

function serve(emulator: Awaited<ReturnType<typeof startArmEmulator>>): void {
  parentPort!.on('message', async (m: { kind: string; fromSeq?: number }) => {
    if (m.kind === 'seq') parentPort!.postMessage({ kind: 'seq', seq: emulator.lastSeq });
    if (m.kind === 'stats') {
      const since = emulator.requestsSince(m.fromSeq ?? 0);
      const graph = since.filter((r) => /resourcegraph/i.test(r.path));
      parentPort!.postMessage({
        kind: 'stats',
        graphCalls: graph.length,
        graphResourcesCalls: graph.filter((r) => String((r.body as { query?: string }).query).startsWith('resources')).length,
        graph429: graph.filter((r) => r.status === 429).length,
        workerHeapMb: process.memoryUsage().heapUsed / 1048576,
        armCalls: since.length - graph.length,
        armWrites: since.filter((r) => r.operation !== 'read' && !/resourcegraph/i.test(r.path)).length,
      });
    }
    if (m.kind === 'stop') {
      await emulator.close();
      process.exit(0);
    }
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
