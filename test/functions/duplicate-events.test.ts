import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { benchmarkRulesYaml } from '../../bench/rules';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { type AppProcess, type AppProcessConfig, startAppProcess } from '../support/app-processes';
import { useAzurite } from '../support/azurite';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings } from '../support/queue-host';

/**
 * Duplicate events across instances (issue 13): Event Grid delivers every write of a resource as its
 * own event, and the app's instances share no memory. Two app processes, one Azurite (queue, ledger and
 * the claims in it), one emulator: the events for a resource whose remediation runs on the other
 * instance collapse into it, and a write that lands while it runs is looked at again on the queue.
 */
const env = useEmulator({ specValidation: false });
const storage = useAzurite();

describe('duplicate events collapse into the remediation running on another instance', () => {
  const processes: AppProcess[] = [];
  let queueName = 0;
  const start = async () => {
    const config: AppProcessConfig = {
      settings: {
        AUTOPILOT_ARM_ENDPOINT: env.emulator.url,
        AUTOPILOT_RULES_PATH: 'inline',
        AzureWebJobsStorage: storage.azurite.connectionString,
        AUTOPILOT_REMEDIATION_QUEUE: `dups${++queueName}`,
        AUTOPILOT_LEDGER_TABLE: `dupsledger${queueName}`,
        AUTOPILOT_LRO_POLL_INTERVAL_MS: '20',
      },
      rulesYaml: benchmarkRulesYaml([SUB_A]),
      ca: env.emulator.ca,
      environment: env.emulator.managedIdentityEnvironment,
      queue: { ...hostJsonQueueSettings(), maxPollingIntervalMs: 300 },
    };
    const started = await Promise.all([startAppProcess(0, config), startAppProcess(1, config)]);
    processes.push(...started);
    return started;
  };
  before(() => grantAppOwner(env.emulator));
  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
  });

  const waitFor = async (what: string, done: () => boolean, ms = 20_000) => {
    const until = Date.now() + ms;
    while (!done()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('three events for one web app on two instances: one remediation writes, the duplicates are acknowledged, the follow-up writes nothing more', async () => {
    const [a, b] = await start();
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-dups',
      type: SEED_TYPES.webApp,
      name: 'web-dups-1',
    });
    // The identity PATCH takes 1.5 s: long enough for the duplicates to arrive while it runs.
    const slow = env.emulator.faults.add({
      operation: 'write',
      path: '/providers/microsoft.web/sites/web-dups-1',
      action: { kind: 'latency', ms: 1500 },
      times: 1,
    });
    const from = env.emulator.lastSeq;
    try {
      const first = a!.deliver(resourceWriteEvent({ resourceId: id }), 30_000);
      await new Promise((r) => setTimeout(r, 500));
      const duplicates = await Promise.all([
        b!.deliver(resourceWriteEvent({ resourceId: id }), 30_000),
        b!.deliver(resourceWriteEvent({ resourceId: id }), 30_000),
      ]);
      assert.deepEqual(duplicates, [undefined, undefined], 'both duplicates acknowledged');
      assert.equal(await first, undefined);
      const collapsed = b!.messages.filter((m) => m.kind === 'ignored' && m.reason === 'remediation-running');
      assert.equal(collapsed.length, 2, 'both collapsed into the running remediation');
      // The holder saw the marks and put one fresh remediation on the queue: it reads the web app and finds it done.
      await waitFor('the follow-up on the queue', () =>
        processes.some((p) => p.messages.some((m) => m.kind === 'outcome' && m.trigger === 'queue')),
      );
      const followUps = processes.flatMap((p) => p.messages.filter((m) => m.kind === 'outcome' && m.trigger === 'queue'));
      assert.equal(followUps.length, 1, 'one follow-up for both duplicates');
      assert.equal(followUps[0]!.kind === 'outcome' && followUps[0]!.status, 'compliant');
      const writes = env.emulator.requestsSince(from, { writesOnly: true });
      assert.equal(writes.filter((w) => /\/sites\/web-dups-1$/i.test(w.path)).length, 1, 'one identity write');
      assert.equal(writes.filter((w) => /roleAssignments/i.test(w.path)).length, 2, 'two grants, once');
    } finally {
      slow.remove();
    }
  });

  it('a write that removes the identity while the remediation grants its roles is seen by the follow-up: the identity comes back with its grants', async () => {
    const [a, b] = await start();
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-dups',
      type: SEED_TYPES.webApp,
      name: 'web-dups-2',
    });
    const slow = env.emulator.faults.add({ operation: 'write', path: 'roleAssignments', action: { kind: 'latency', ms: 1500 }, times: 2 });
    try {
      const first = a!.deliver(resourceWriteEvent({ resourceId: id }), 30_000);
      await waitFor('the identity write', () => Boolean(env.emulator.state.resource(id)!.body.identity?.principalId));
      const firstPrincipal = env.emulator.state.resource(id)!.body.identity!.principalId as string;
      // A deployment writes the site again without an identity while the grants are still being made...
      env.emulator.state.resource(id)!.body.identity = { type: 'None' };
      // ...and its event reaches the other instance.
      assert.equal(await b!.deliver(resourceWriteEvent({ resourceId: id }), 30_000), undefined);
      assert.ok(b!.messages.some((m) => m.kind === 'ignored' && m.reason === 'remediation-running'));
      assert.equal(await first, undefined);
      await waitFor('the follow-up to restore the identity and its grants', () => {
        const principalId = env.emulator.state.resource(id)!.body.identity?.principalId;
        return Boolean(principalId && principalId !== firstPrincipal && env.emulator.state.assignmentsFor(principalId).length === 2);
      });
      const followUpsNow = () =>
        processes.flatMap((p) =>
          p.messages.filter((m) => m.kind === 'outcome' && m.trigger === 'queue' && m.resourceId.toLowerCase() === id.toLowerCase()),
        );
      // ARM has the grants before the instance logs its outcome and that log crosses the process boundary.
      await waitFor("the follow-up's outcome", () => followUpsNow().length > 0);
      const followUps = followUpsNow();
      assert.deepEqual(
        followUps.map((m) => m.kind === 'outcome' && m.status),
        ['remediated'],
      );
    } finally {
      slow.remove();
    }
  });
});
