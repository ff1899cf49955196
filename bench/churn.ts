/**
 * Benchmark: churn (issue 22, item 9). N create-and-delete cycles of web apps with 2 grants each in one
 * subscription, through the real Event Grid trigger in app instances that are separate Node processes
 * (test/support/app-process.ts, sharing the app's one principal, the queue and the ledger in Azurite),
 * with Event Grid's retry schedule (event-grid.ts). Each cycle: seed the web app in the emulator,
 * deliver its ResourceWriteSuccess, wait until ARM shows its identity and both grants, delete it as its
 * RP does (EmulatorState.deleteResource: its system-assigned principal leaves the directory, its role
 * assignments stay), deliver its ResourceDeleteSuccess and wait until ARM no longer has its grants.
 * `--concurrency` cycles are in flight at once.
 *
 * Some cycles get a decoy: after the remediation a person (another createdBy) gives the app's principal
 * Contributor on the group, with the description of the product's own assignment copied onto it. It
 * must survive the clean-up.
 *
 * Prints, with the conditions: the subscription's role-assignment count sampled through the run against
 * "never exceeds live resources x 2 + 50"; objects deleted that the product did not create (target 0);
 * clean-up ARM calls per deleted app against the minimum (derived per app below); clean-up p50/p99 from
 * the delete event's eventTime to the grants being gone; the app processes' heap (after a full GC) at
 * start, after the warm-up and at the end (target: flat). A verdict per target.
 *
 * Run: npm run bench:churn [-- --cycles 10000 --concurrency 50 --instances 2 --decoys 20 --time-factor 10 --throttle]
 * ARM's throttling is off unless --throttle (10,000 cycles make 50,000 writes: at ARM's 10 writes/s
 * refill that alone is 83 minutes, which measures the bucket, not the clean-up).
 */
import { loadavg } from 'node:os';
import { type AppProcess, startAppProcess } from '../test/support/app-processes';
import { startAzurite } from '../test/support/azurite';
import {
  type ArmEmulator,
  type RequestLogEntry,
  ROLE,
  resourceDeleteEvent,
  resourceWriteEvent,
  startArmEmulator,
} from '../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../tools/arm-emulator/seed';
import { benchAppConfig, eventGrid, numbersOption, percentile } from './event-grid';
import { benchmarkRulesYaml } from './rules';

const option = (name: string, fallback: number) => numbersOption(name, [fallback])[0]!;
const CYCLES = option('cycles', 10_000);
const CONCURRENCY = option('concurrency', 50);
const INSTANCES = option('instances', 2);
const DECOYS = Math.min(option('decoys', 20), CYCLES);
const TIME_FACTOR = option('time-factor', 10);
const THROTTLE = process.argv.includes('--throttle');
const GROUPS = 10;
const SUB = '0c0c0c0c-0000-4000-8000-00000000c001';
/** The target's allowance on top of twice the live resources. */
const SLACK = 50;
/** How long one cycle's wait (for the grants, for their removal) may take before the cycle is counted as stuck. */
const WAIT_LIMIT_MS = 120_000;

interface Sample {
  at: number;
  /** All role assignments in the subscription. */
  assignments: number;
  /** Those the product made (createdBy its principal). */
  product: number;
  /** Web apps ARM has. */
  live: number;
  /** Deleted web apps whose grants are not gone yet. */
  awaiting: number;
}

interface Cycle {
  id: string;
  principalId: string;
  /** The product's assignments for it (created by the app's principal), lower-case ids. */
  owned: string[];
  deletedAt: number;
  cleanUpMs?: number;
  stuck?: 'remediation' | 'clean-up';
}

/** One ticker checks every waiting cycle, rather than one timer each. */
function waiter(tickMs: number) {
  const waiting = new Set<{ ready: () => boolean; resolve: (ok: boolean) => void; until: number }>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const w of waiting) {
      if (w.ready()) w.resolve(true);
      else if (now > w.until) w.resolve(false);
      else continue;
      waiting.delete(w);
    }
  }, tickMs);
  return {
    /** Resolves true when `ready()` holds (checked every tick), false after `limitMs`. */
    until: (ready: () => boolean, limitMs: number) =>
      new Promise<boolean>((resolve) => waiting.add({ ready, resolve, until: Date.now() + limitMs })),
    stop: () => clearInterval(timer),
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const heaps = (apps: AppProcess[]) => Promise.all(apps.map((a) => a.heapUsed()));

async function main(): Promise<void> {
  const emulator = await startArmEmulator({ specValidation: false, lro: { durationMs: 0, retryAfterSeconds: 0 } });
  const azurite = await startAzurite();
  const apps: AppProcess[] = [];
  try {
    emulator.state.addSubscription(SUB);
    emulator.state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB}` });
    emulator.faults.add({ operation: 'read', action: { kind: 'latency', ms: 20 } });
    emulator.faults.add({ operation: 'write', action: { kind: 'latency', ms: 50 } });
    const person = emulator.state.directory.create({ type: 'User', displayName: 'Alex (platform team)' });
    const config = benchAppConfig({
      emulator,
      storageConnectionString: azurite.connectionString,
      rulesYaml: benchmarkRulesYaml([SUB]),
      name: 'churn',
    });
    apps.push(...(await Promise.all(Array.from({ length: INSTANCES }, (_, i) => startAppProcess(i, config)))));
    if (THROTTLE) emulator.throttle.enable();
    const load = loadavg()[0]!;
    const heapAtStart = await heaps(apps);
    const grid = eventGrid(apps, TIME_FACTOR);
    const wait = waiter(20);
    const before = emulator.lastSeq;
    const started = Date.now();

    const decoyEvery = DECOYS > 0 ? Math.floor(CYCLES / DECOYS) : Number.POSITIVE_INFINITY;
    const decoys: Array<{ id: string; principalId: string }> = [];
    const cycles: Cycle[] = [];
    let live = 0;
    let warmHeap: number[] | undefined;
    const warmUpCycles = Math.max(1, Math.floor(CYCLES / 10));
    let finished = 0;
    let lastMark = Date.now();

    // The subscription's assignment count against live resources x 2 + 50, sampled every 100 ms.
    // Each sample also splits the count: the product's own assignments (createdBy the app) and the deleted apps awaiting clean-up.
    const samples: Sample[] = [];
    let awaiting = 0;
    const app = emulator.appPrincipal.id;
    const sample = () => {
      let product = 0;
      for (const a of emulator.state.roleAssignments.values()) if (a.createdBy === app) product++;
      samples.push({ at: Date.now(), assignments: emulator.state.roleAssignments.size, product, live, awaiting });
    };
    const sampler = setInterval(sample, 100);

    const runCycle = async (i: number): Promise<void> => {
      const id = seedResource(emulator.state, {
        subscriptionId: SUB,
        resourceGroup: `rg-churn-${i % GROUPS}`,
        type: SEED_TYPES.webApp,
        name: `web-churn-${i}`,
      });
      live++;
      const principal = () => emulator.state.resource(id)?.body.identity?.principalId as string | undefined;
      const acknowledged = grid.deliverUntilAcknowledged(resourceWriteEvent({ resourceId: id }), i);
      const remediated = await wait.until(() => {
        const p = principal();
        return p !== undefined && emulator.state.assignmentsFor(p).length >= 2;
      }, WAIT_LIMIT_MS);
      await acknowledged;
      const principalId = principal() ?? '';
      const owned = emulator.state
        .assignmentsFor(principalId)
        .filter((a) => a.createdBy === emulator.appPrincipal.id)
        .map((a) => a.id.toLowerCase());
      if (i % decoyEvery === 0 && decoys.length < DECOYS && owned.length > 0) {
        const ours = emulator.state.assignmentsFor(principalId).find((a) => a.createdBy === emulator.appPrincipal.id)!;
        const decoy = emulator.state.grant({
          principalId,
          roleDefinitionGuid: ROLE.contributor,
          scope: `/subscriptions/${SUB}/resourceGroups/rg-churn-${i % GROUPS}`,
          createdBy: person.id,
          description: ours.description,
        });
        decoys.push({ id: decoy.id.toLowerCase(), principalId });
      }
      const cycle: Cycle = { id, principalId, owned, deletedAt: Date.now(), stuck: remediated ? undefined : 'remediation' };
      cycles.push(cycle);
      emulator.state.deleteResource(id);
      live--;
      awaiting++;
      const event = resourceDeleteEvent({ resourceId: id });
      const eventTime = Date.parse(event.eventTime as string);
      const cleaned = grid.deliverUntilAcknowledged(event, i + 1);
      const gone = await wait.until(() => owned.every((a) => !emulator.state.roleAssignments.has(a)), WAIT_LIMIT_MS);
      awaiting--;
      if (gone) cycle.cleanUpMs = Date.now() - eventTime;
      else cycle.stuck ??= 'clean-up';
      await cleaned;
      if (++finished === warmUpCycles) warmHeap = await heaps(apps);
      if (finished % 500 === 0) {
        // The pace of the last 500 cycles: it falls as Azurite's ledger table grows (see bench/README.md).
        const now = Date.now();
        process.stderr.write(
          `  ${finished}/${CYCLES} cycles at ${((now - started) / 1000).toFixed(0)} s (${(500_000 / (now - lastMark)).toFixed(1)} cycles/s)\n`,
        );
        lastMark = now;
      }
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, CYCLES) }, async () => {
        while (next < CYCLES) await runCycle(next++);
      }),
    );
    const totalMs = Date.now() - started;
    sample();
    clearInterval(sampler);
    wait.stop();
    const heapAtEnd = await heaps(apps);
    report({
      emulator,
      before,
      cycles,
      decoys,
      samples,
      totalMs,
      load,
      grid: grid.stats,
      heap: [heapAtStart, warmHeap ?? heapAtStart, heapAtEnd],
      warmUpCycles,
    });
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await azurite.stop();
    await emulator.close();
  }
}

/** Which deleted app a request is about: its own id, a list by its principal, or one of its assignments. */
function attribute(cycles: Cycle[]) {
  const byKey = new Map<string, Cycle>();
  for (const c of cycles) {
    byKey.set(c.id.toLowerCase(), c);
    byKey.set(c.principalId.toLowerCase(), c);
    for (const a of c.owned) byKey.set(a, c);
  }
  return (r: RequestLogEntry): Cycle | undefined => {
    const path = r.path.toLowerCase().replace(/\/+$/, '');
    const principal = /principalid\s+eq\s+'([0-9a-f-]{36})'/i.exec(r.query.$filter ?? '')?.[1];
    return byKey.get(path) ?? (principal ? byKey.get(principal.toLowerCase()) : undefined);
  };
}

/**
 * The fewest ARM calls that clean up one deleted web app: the GET that proves it is gone (404), one list
 * per principal and subscription its grants are in (one here: both grants are in its own subscription),
 * and for each assignment ARM proves ours its fresh GET and its DELETE. A person's assignment (a decoy)
 * is kept on the list's word, with no call.
 */
const minimumCleanUpCalls = (c: Cycle) => 1 + 1 + 2 * c.owned.length;

function report(input: {
  emulator: ArmEmulator;
  before: number;
  cycles: Cycle[];
  decoys: Array<{ id: string; principalId: string }>;
  samples: Sample[];
  totalMs: number;
  load: number;
  grid: ReturnType<typeof eventGrid>['stats'];
  heap: [number[], number[], number[]];
  warmUpCycles: number;
}): void {
  const { emulator, cycles, decoys, samples } = input;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const calls = emulator.requestsSince(input.before);
  const app = emulator.appPrincipal.id.toLowerCase();
  const mine = calls.filter((c) => c.principalId?.toLowerCase() === app);

  // Assignment count against live x 2 + 50.
  const margin = (s: Sample, n: number) => n - (s.live * 2 + SLACK);
  const worst = samples.reduce((w, s) => (margin(s, s.assignments) > margin(w, w.assignments) ? s : w), samples[0]!);
  const overs = samples.filter((s) => margin(s, s.assignments) > 0);
  const over = overs.length;
  const since = (s: Sample) => `${((s.at - samples[0]!.at) / 1000).toFixed(1)} s`;
  const productOver = samples.filter((s) => margin(s, s.product) > 0).length;
  const peak = Math.max(...samples.map((s) => s.assignments));
  const awaitingMedian = percentile(
    samples.map((s) => s.awaiting),
    50,
  );

  // Deletes of what the product did not create: every DELETE the app made must be of something it PUT.
  const created = new Set(mine.filter((c) => c.method === 'PUT' && c.status < 300).map((c) => c.path.toLowerCase()));
  const deleted = mine.filter((c) => c.method === 'DELETE' && c.status < 300);
  const notCreated = deleted.filter((c) => !created.has(c.path.toLowerCase()));
  const decoysGone = decoys.filter((d) => !emulator.state.roleAssignments.has(d.id));
  const ownedLeft = cycles.flatMap((c) => c.owned).filter((a) => emulator.state.roleAssignments.has(a)).length;

  // Clean-up calls per deleted app (those about it after its delete) against the minimum.
  const about = attribute(cycles);
  const cleanUpCalls = new Map<Cycle, RequestLogEntry[]>();
  let unattributed = 0;
  for (const r of mine) {
    const c = about(r);
    if (!c) {
      unattributed++;
      continue;
    }
    if (r.at >= c.deletedAt) cleanUpCalls.set(c, [...(cleanUpCalls.get(c) ?? []), r]);
  }
  const perApp = cycles.map((c) => cleanUpCalls.get(c)?.length ?? 0);
  const minima = cycles.map(minimumCleanUpCalls);
  const aboveMinimum = cycles.filter((_, i) => perApp[i]! > minima[i]!);
  const shapes = new Map<string, number>();
  for (const c of aboveMinimum.slice(0, 2000)) {
    const shape = (cleanUpCalls.get(c) ?? []).map((r) => `${r.method} ${r.status}`).join(', ');
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const latencies = cycles.flatMap((c) => (c.cleanUpMs === undefined ? [] : [c.cleanUpMs]));
  const stuck = cycles.filter((c) => c.stuck);
  const [start, warm, end] = input.heap;
  const growth = end.map((e, i) => e - warm[i]!);
  // Flat: no instance grew by more than 10 % (or 5 MB, whichever is larger) from the warm-up to the end.
  const flat = growth.every((g, i) => g <= Math.max(0.1 * warm[i]!, 5 * 1024 * 1024));

  out(
    `Conditions: ${cycles.length} create-and-delete cycles of web apps (identity PATCH + 2 role PUTs each) in 1 subscription, ${GROUPS} resource groups, ` +
      `${CONCURRENCY} cycles in flight, ${input.heap[0].length} app instances (separate processes, one principal), ${decoys.length} decoys; ` +
      `injected latency reads 20 ms, writes 50 ms; ARM throttling ${THROTTLE ? 'on' : 'OFF'}; Event Grid retries 10 s, 30 s, 1 min ... / ${TIME_FACTOR}, ` +
      `delivery timeout 30 s; queue and ledger in Azurite; spec validation off; load ${input.load.toFixed(1)}; Node ${process.version}.`,
  );
  out(
    `Run: ${(input.totalMs / 1000).toFixed(1)} s (${((cycles.length / input.totalMs) * 1000).toFixed(1)} cycles/s); ${calls.length} ARM calls ` +
      `(${(calls.length / cycles.length).toFixed(2)} per cycle), ${calls.filter((c) => c.status === 429).length} 429s; ` +
      `${input.grid.deliveries} deliveries, ${input.grid.redeliveries} redeliveries (${input.grid.throttleRedeliveries} timeouts or throttling), ` +
      `${input.grid.dropped} dropped; stuck cycles ${stuck.length} (${stuck.filter((c) => c.stuck === 'remediation').length} remediation, ` +
      `${stuck.filter((c) => c.stuck === 'clean-up').length} clean-up); the product's assignments left at the end ${ownedLeft}.`,
  );
  out(
    `Assignment count: ${samples.length} samples, peak ${peak}; worst against the target ${worst.assignments} with ${worst.live} live (limit ${worst.live * 2 + SLACK}); ` +
      `${over} samples over. Target "never exceeds live x 2 + ${SLACK}": ${over === 0 ? 'met' : 'NOT met'}.`,
  );
  out(
    `  worst sample (at ${since(worst)}; samples over from ${overs.length ? since(overs[0]!) : '-'} to ${overs.length ? since(overs[overs.length - 1]!) : '-'}): ${worst.assignments - worst.product} not the product's (decoys, the app's own Owner), ${worst.product} the product's, ` +
      `for ${worst.live} live apps and ${worst.awaiting} deleted ones awaiting clean-up (median over the run ${awaitingMedian}); ` +
      `the product's own assignments alone exceed live x 2 + ${SLACK} in ${productOver} samples.`,
  );
  out(
    `Deletes: ${deleted.length} by the app, ${notCreated.length} of objects it did not create${
      notCreated.length
        ? ` (${notCreated
            .slice(0, 3)
            .map((c) => c.path)
            .join(', ')})`
        : ''
    }; ` +
      `decoys ${decoys.length - decoysGone.length}/${decoys.length} survive. Target 0: ${notCreated.length === 0 && decoysGone.length === 0 ? 'met' : 'NOT met'}.`,
  );
  out(
    `Clean-up calls: ${sum(perApp)} for ${cycles.length} deleted apps (${(sum(perApp) / cycles.length).toFixed(2)} per app, median ${percentile(perApp, 50)}), ` +
      `minimum ${sum(minima)} (${(sum(minima) / cycles.length).toFixed(2)} per app: 404 GET + 1 list + GET and DELETE per proven assignment); ` +
      `ratio ${(sum(perApp) / sum(minima)).toFixed(3)}; ${aboveMinimum.length} apps above their minimum; ${unattributed} calls about no one app (resource-group reads). ` +
      `Target "equal to the minimum": ${aboveMinimum.length === 0 ? 'met' : 'NOT met'}.`,
  );
  for (const [shape, n] of [...shapes].sort((a, b) => b[1] - a[1]).slice(0, 5)) out(`  above the minimum (${n}): ${shape}`);
  out(
    `Clean-up latency (delete event's eventTime to the grants gone, ${latencies.length} apps): p50 ${percentile(latencies, 50)} ms, ` +
      `p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms. Target "recorded": met.`,
  );
  out(
    `Heap (after GC) per instance: start ${start.map(mb).join(', ')}; after ${input.warmUpCycles} cycles ${warm.map(mb).join(', ')}; ` +
      `end ${end.map(mb).join(', ')}. Target "flat" (end <= warm-up + max(10 %, 5 MB)): ${flat ? 'met' : 'NOT met'}.`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
