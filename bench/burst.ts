/**
 * Benchmark: a landing-zone burst as production sees it. N app instances, each a separate Node
 * process (test/support/app-process.ts) sharing the app's one principal, against one ARM emulator with
 * ARM's token buckets on (per principal: writes 200 + 10/s, reads 250 + 25/s; global buckets 15 times
 * that) and one Azurite (remediation queue and ledger). Each instance runs the Event Grid trigger and the
 * queue trigger (the host's queue listener modelled: batchSize, newBatchThreshold, backoff up to
 * maxPollingInterval, from host.json).
 *
 * Event Grid is modelled from "Event Grid message delivery and retry" (learn.microsoft.com/azure/event-grid/delivery-and-retry):
 * every event is delivered at once, round-robin over the instances; a delivery that is not acknowledged
 * within 30 s, or fails, is retried after 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then
 * every 12 h up to 24 h. The delivery timeout is real time; the retry schedule is divided by
 * --time-factor (default 10), so a redelivery still costs the run its (scaled) wait.
 *
 * Prints per run: total time against the floor set by ARM's write refill (per subscription:
 * (writes - 200) / 10 s, the larger of the two), ARM calls and 429s, redeliveries (and why), queue
 * hand-offs, events lost, and event-to-done p50/p95/p99 from each event's eventTime.
 *
 * Run: npm run bench:burst [-- --events 200,1000 --instances 1,2,4 --time-factor 10]
 * With BURST_DEBUG=1 it also prints each failed delivery (and what its instance logged for the resource),
 * the writes per 10 s and the outcomes per trigger.
 */
import { loadavg } from 'node:os';
import { formatTable } from '../src/app/text-table';
import { type AppProcess, type FromApp, startAppProcess } from '../test/support/app-processes';
import { startAzurite } from '../test/support/azurite';
import { ROLE, startArmEmulator } from '../tools/arm-emulator';
import { resourceWriteEvent } from '../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../tools/arm-emulator/seed';
import { benchAppConfig, eventGrid, numbersOption as list, percentile } from './event-grid';
import { benchmarkRulesYaml } from './rules';

const EVENTS = list('events', [200, 1000]);
const INSTANCES = list('instances', [1, 2, 4]);
const TIME_FACTOR = list('time-factor', [10])[0]!;
const SUBS = ['0b0b0b0b-0000-4000-8000-00000000b001', '0b0b0b0b-0000-4000-8000-00000000b002'];
/** Writes per web app: the identity PATCH and two role assignments. */
const WRITES_PER_EVENT = 3;

interface RunResult {
  row: string[];
  ratio: number;
  share429: number;
  lost: number;
  throttleRedeliveries: number;
}

async function run(events: number, instances: number): Promise<RunResult> {
  const emulator = await startArmEmulator({ specValidation: false, lro: { durationMs: 0, retryAfterSeconds: 0 } });
  const azurite = await startAzurite();
  const apps: AppProcess[] = [];
  try {
    for (const sub of SUBS) {
      emulator.state.addSubscription(sub);
      emulator.state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${sub}` });
    }
    emulator.faults.add({ operation: 'read', action: { kind: 'latency', ms: 20 } });
    emulator.faults.add({ operation: 'write', action: { kind: 'latency', ms: 50 } });
    const ids = Array.from({ length: events }, (_, i) =>
      seedResource(emulator.state, {
        subscriptionId: SUBS[i % SUBS.length]!,
        resourceGroup: 'rg-burst',
        type: SEED_TYPES.webApp,
        name: `web-burst-${i}`,
      }),
    );
    const config = benchAppConfig({
      emulator,
      storageConnectionString: azurite.connectionString,
      rulesYaml: benchmarkRulesYaml(SUBS),
      name: 'burst',
    });
    apps.push(...(await Promise.all(Array.from({ length: instances }, (_, i) => startAppProcess(i, config)))));
    if (!process.argv.includes('--no-throttle')) emulator.throttle.enable();
    const load = loadavg()[0]!;
    const before = emulator.lastSeq;
    const started = Date.now();
    const grid = eventGrid(apps, TIME_FACTOR);
    const eventTimes = new Map<string, number>();
    const deliverUntilAcknowledged = async (id: string, n: number) => {
      const event = resourceWriteEvent({ resourceId: id });
      eventTimes.set(id.toLowerCase(), Date.parse(event.eventTime as string));
      await grid.deliverUntilAcknowledged(
        event,
        n,
        process.env.BURST_DEBUG
          ? ({ target, sentAt, error }) =>
              setTimeout(() => {
                const seen = target.messages
                  .filter((m) => 'resourceId' in m && m.resourceId.toLowerCase() === id.toLowerCase())
                  .map(
                    (m) =>
                      `${m.kind} ${m.kind === 'outcome' ? `${m.status}/${m.reason ?? ''}` : m.kind === 'ignored' ? m.reason : ''} at ${(('at' in m ? m.at : 0) - started) / 1000} s`,
                  );
                process.stderr.write(
                  `  delivery of ${id.split('/').pop()} to instance ${target.index} at ${((sentAt - started) / 1000).toFixed(1)} s: ${error}; seen: ${seen.join('; ')}\n`,
                );
              }, 20_000)
          : undefined,
      );
    };
    const delivered = Promise.all(ids.map(deliverUntilAcknowledged));
    // Done: the resource has its identity and both grants (what "remediated" means), as ARM says.
    const done = new Map<string, number>();
    const floorS = Math.max(...SUBS.map((sub) => (ids.filter((i) => i.includes(sub)).length * WRITES_PER_EVENT - 200) / 10));
    const deadline = started + Math.max(120_000, floorS * 1000 * 4);
    while (done.size < ids.length && Date.now() < deadline) {
      for (const id of ids) {
        if (done.has(id)) continue;
        const principalId = emulator.state.resource(id)?.body.identity?.principalId;
        if (principalId && emulator.state.assignmentsFor(principalId).length >= 2) done.set(id, Date.now());
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const totalMs = Math.max(...done.values()) - started;
    await Promise.race([delivered, new Promise((r) => setTimeout(r, 5_000))]);
    const calls = emulator.requestsSince(before);
    const throttled = calls.filter((c) => c.status === 429).length;
    // Where the time went: the first call and the span of the writes, against the run's start.
    const writeTimes = calls.filter((c) => c.method !== 'GET' && c.status < 300).map((c) => c.at - started);
    const firstCall = calls.length ? Math.min(...calls.map((c) => c.at)) - started : NaN;
    if (process.env.BURST_DEBUG) {
      // Counts per 10 s of times since the start.
      const per10 = (times: number[]) => {
        const b = new Map<number, number>();
        for (const t of times) b.set(Math.floor(t / 10_000), (b.get(Math.floor(t / 10_000)) ?? 0) + 1);
        return [...b]
          .sort((x, y) => x[0] - y[0])
          .map(([k, n]) => `${k * 10}s:${n}`)
          .join(' ');
      };
      process.stderr.write(`  writes per 10 s: ${per10(writeTimes)}\n`);
      type Outcome = Extract<FromApp, { kind: 'outcome' }>;
      const isOutcome = (m: FromApp): m is Outcome => m.kind === 'outcome';
      const outcomes = apps.flatMap((a) => a.messages).filter(isOutcome);
      const byTrigger = new Map<string, number>();
      for (const m of outcomes)
        byTrigger.set(`${m.trigger}/${m.status}/${m.reason ?? ''}`, (byTrigger.get(`${m.trigger}/${m.status}/${m.reason ?? ''}`) ?? 0) + 1);
      process.stderr.write(`  outcomes: ${[...byTrigger].map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
      // Hand-offs by when they were made and when they were due back (made + their delay), per 10 s.
      const due = (m: Outcome) => m.at - started + (m.retryAfterMs ?? 0);
      const deferred = outcomes.filter((m) => m.status === 'deferred');
      process.stderr.write(`  hand-offs made per 10 s: ${per10(deferred.map((m) => m.at - started))}\n`);
      process.stderr.write(`  hand-offs due per 10 s: ${per10(deferred.map(due))}\n`);
      process.stderr.write(
        `  queue outcomes per 10 s: ${per10(outcomes.filter((m) => m.trigger !== 'eventGrid' && m.status !== 'deferred').map((m) => m.at - started))}\n`,
      );
      // The write bucket of each subscription as ARM kept it (200 + 10/s, less every write it let through): its highest level per 10 s.
      for (const sub of SUBS) {
        let level = 200;
        let at = started;
        const highest = new Map<number, number>();
        const writes = calls
          .filter((c) => c.operation !== 'read' && c.status !== 429 && c.path.toLowerCase().includes(sub))
          .map((c) => c.at)
          .sort((a, b) => a - b);
        for (const t of writes) {
          level = Math.min(200, level + ((t - at) / 1000) * 10);
          at = t;
          const b = Math.floor((t - started) / 10_000);
          highest.set(b, Math.max(highest.get(b) ?? 0, Math.round(level)));
          level -= 1;
        }
        process.stderr.write(`  bucket ${sub.slice(-4)} highest per 10 s: ${[...highest].map(([b, l]) => `${b * 10}s:${l}`).join(' ')}\n`);
      }
      for (const app of apps) {
        const mine = app.messages.filter(isOutcome).filter((m) => m.status === 'deferred');
        process.stderr.write(`  instance ${app.index}: ${mine.length} hand-offs, due per 10 s: ${per10(mine.map(due))}\n`);
      }
    }
    const throttledCalls = calls.filter((c) => c.status === 429);
    const throttledDetail = throttledCalls.length
      ? ` (${throttledCalls.filter((c) => c.method === 'GET').length} reads, ${throttledCalls.filter((c) => c.method !== 'GET').length} writes; from ${((Math.min(...throttledCalls.map((c) => c.at)) - started) / 1000).toFixed(1)} s to ${((Math.max(...throttledCalls.map((c) => c.at)) - started) / 1000).toFixed(1)} s)`
      : '';
    const messages = apps.flatMap((a) => a.messages);
    const handOffs = messages.filter((m) => m.kind === 'outcome' && m.status === 'deferred').length;
    const handOffReasons = new Map<string, number>();
    for (const m of messages)
      if (m.kind === 'outcome' && m.status === 'deferred')
        handOffReasons.set(m.reason ?? '?', (handOffReasons.get(m.reason ?? '?') ?? 0) + 1);
    const failures = new Map<string, number>();
    for (const m of messages)
      if (m.kind === 'outcome') for (const code of m.errors ?? []) failures.set(code, (failures.get(code) ?? 0) + 1);
    if (failures.size > 0) process.stdout.write(`  errors in outcomes: ${[...failures].map(([c, n]) => `${c} ${n}`).join(', ')}\n`);
    const { deliveries, redeliveries, throttleRedeliveries, dropped } = grid.stats;
    const toDone = [...done.entries()].map(([id, at]) => at - eventTimes.get(id.toLowerCase())!);
    const lost = ids.length - done.size;
    const ratio = totalMs / 1000 / floorS;
    const share429 = throttled / calls.length;
    process.stdout.write(
      `  ${events} events, ${instances} instance(s), load ${load.toFixed(1)}: done ${done.size}/${ids.length} in ${(totalMs / 1000).toFixed(1)} s (floor ${floorS.toFixed(0)} s, ${ratio.toFixed(2)}x); ` +
        `${calls.length} ARM calls, ${throttled} 429s${throttledDetail}; ${deliveries} deliveries, ${redeliveries} redeliveries (${throttleRedeliveries} timeouts or throttling); ` +
        `hand-offs ${handOffs} (${[...handOffReasons].map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}); dropped ${dropped}; ` +
        `first ARM call at ${(firstCall / 1000).toFixed(2)} s, writes from ${(Math.min(...writeTimes) / 1000).toFixed(2)} s to ${(Math.max(...writeTimes) / 1000).toFixed(2)} s\n`,
    );
    return {
      row: [
        String(events),
        String(instances),
        `${floorS.toFixed(0)} s`,
        `${(totalMs / 1000).toFixed(1)} s`,
        ratio.toFixed(2),
        `${calls.length}`,
        `${throttled} (${(share429 * 100).toFixed(2)} %)`,
        `${redeliveries} (${throttleRedeliveries})`,
        String(handOffs),
        String(lost + dropped),
        `${(percentile(toDone, 50) / 1000).toFixed(1)} / ${(percentile(toDone, 95) / 1000).toFixed(1)} / ${(percentile(toDone, 99) / 1000).toFixed(1)} s`,
        load.toFixed(1),
      ],
      ratio,
      share429,
      lost: lost + dropped,
      throttleRedeliveries,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await azurite.stop();
    await emulator.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `Conditions: ${SUBS.length} subscriptions, web apps (identity PATCH + 2 role PUTs each), injected latency reads 20 ms, writes 50 ms; ARM buckets per principal ` +
      `writes 200 + 10/s, reads 250 + 25/s, global 15x; Event Grid retries 10 s, 30 s, 1 min, 5 min ... / ${TIME_FACTOR}, delivery timeout 30 s; ` +
      `remediation budget 25 s; queue and ledger in Azurite; host.json queue settings; spec validation off; Node ${process.version}.\n`,
  );
  const rows: string[][] = [];
  const results: RunResult[] = [];
  for (const events of EVENTS) {
    for (const instances of INSTANCES) {
      const r = await run(events, instances);
      rows.push(r.row);
      results.push(r);
    }
  }
  process.stdout.write(
    `\n${formatTable(['events', 'instances', 'floor', 'total', 'x floor', 'ARM calls', '429s', 'redeliveries (throttling)', 'hand-offs', 'lost', 'event-to-done p50/p95/p99', 'load'], rows)}\n`,
  );
  process.stdout.write(
    `Targets: total <= 1.15x floor (${results.every((r) => r.ratio <= 1.15) ? 'met' : 'NOT met'}), 429s < 1 % of ARM calls (${results.every((r) => r.share429 < 0.01) ? 'met' : 'NOT met'}), ` +
      `0 lost (${results.every((r) => r.lost === 0) ? 'met' : 'NOT met'}), 0 redeliveries from throttling (${results.every((r) => r.throttleRedeliveries === 0) ? 'met' : 'NOT met'}).\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
