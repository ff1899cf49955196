import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { benchmarkRulesYaml } from '../../bench/rules';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { type AppProcess, startAppProcess } from '../support/app-processes';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

/**
 * Two app instances in two processes, sharing the app's principal, against one emulator with ARM's
 * token buckets on. They share no memory: each paces itself by the remaining-writes headers ARM sends
 * to every caller with that principal, so both slow down together and the shared bucket is never
 * emptied into 429s. Spec validation off: 240 calls would spend most of the run in oav.
 */
const env = useEmulator({ specValidation: false });

describe('one pacing signal across app processes', () => {
  const processes: AppProcess[] = [];
  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    env.emulator.throttle.disable();
  });

  it('two app processes sharing a principal back off together from the headers: no 429 storm, both progress, every resource done', async () => {
    grantAppOwner(env.emulator);
    const config = {
      settings: { AUTOPILOT_ARM_ENDPOINT: env.emulator.url, AUTOPILOT_RULES_PATH: 'unused.yaml', AUTOPILOT_LRO_POLL_INTERVAL_MS: '20' },
      // The benchmarks' rules: a system-assigned identity and two grants per web app.
      rulesYaml: benchmarkRulesYaml([SUB_A]),
      ca: env.emulator.ca,
      environment: env.emulator.managedIdentityEnvironment,
    };
    processes.push(...(await Promise.all([startAppProcess(0, config), startAppProcess(1, config)])));
    const PER_PROCESS = 20;
    const ids = processes.map((p) =>
      Array.from({ length: PER_PROCESS }, (_, i) =>
        seedResource(env.emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-shared-pacing',
          type: SEED_TYPES.webApp,
          name: `web-pace-${p.index}-${i}`,
        }),
      ),
    );
    // A write bucket of 30 refilled at ARM's 10/s: 40 web apps need 120 writes (identity + 2 grants),
    // 90 of them past the burst, so about 9 s of writing at the refill rate, shared by both processes.
    env.emulator.throttle.enable({ write: { capacity: 30, refillPerSecond: 10 } });
    const throttledBefore = env.emulator.throttle.throttled;
    const results = await Promise.all(
      processes.map((p, n) => Promise.all(ids[n]!.map((id) => p.deliver(resourceWriteEvent({ resourceId: id }), 30_000)))),
    );

    assert.deepEqual(
      results.flat().filter((r) => r !== undefined),
      [],
      'every delivery acknowledged within its 30 s',
    );
    for (const id of ids.flat()) {
      const principalId = env.emulator.state.resource(id)!.body.identity?.principalId;
      assert.ok(principalId, `${id} has its identity`);
      assert.equal(env.emulator.state.assignmentsFor(principalId).length, 2, `${id} has its grants`);
    }
    const throttled = env.emulator.throttle.throttled - throttledBefore;
    assert.ok(throttled <= 2, `paced by the shared headers, not by 429s: ${throttled} 429s`);

    const writesOf = (p: AppProcess) => p.messages.flatMap((m) => (m.kind === 'arm' && m.method !== 'GET' ? [m.at] : []));
    const all = processes.flatMap(writesOf).sort((a, b) => a - b);
    assert.ok(all.length >= 120, `${all.length} writes`);
    // Past the burst, the bucket allows 10 writes a second in all: both processes wrote all along, each
    // at a share of that rate, neither alone at the full rate.
    const pacedFrom = all[30]!;
    const pacedTo = all.at(-1)!;
    const seconds = (pacedTo - pacedFrom) / 1000;
    assert.ok(seconds >= 6, `the writes past the burst were spread over ${seconds.toFixed(1)} s at the refill rate`);
    for (const p of processes) {
      const own = writesOf(p).filter((t) => t > pacedFrom);
      assert.ok(own.length >= 20, `process ${p.index} kept writing past the burst (${own.length} writes)`);
      assert.ok(own.length / seconds < 9, `process ${p.index} slowed below the refill rate (${(own.length / seconds).toFixed(1)}/s)`);
      assert.ok(
        p.messages.some((m) => m.kind === 'wait'),
        `process ${p.index} waited for ARM's budget`,
      );
    }
  });
});
