import { type ArmEmulator, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { type Autopilot, createAutopilot } from '../app/composition';
import { triggerNamed } from '../functions/triggers';
import { InMemoryRemediationQueue } from '../sweep';
import { SANDBOX_SUBSCRIPTION } from './estate';
import { contextFor } from './hand-off-demo';
import type { LogLine } from './log-line';

/**
 * Duplicate events on two instances: a deployment writes one web app three times, and Event Grid hands
 * the three events to two instances at once. Two app objects share the ledger (and so its claims) and
 * the queue, as two Flex Consumption instances share Table storage: one remediates, the others are
 * acknowledged as `remediation-running`, and the holder leaves one follow-up on the queue, which reads
 * the app afresh and finds nothing more to do.
 */
export async function runDuplicatesDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<void> {
  const queue = new InMemoryRemediationQueue(app.settings.sweep.queueName);
  const instance = () =>
    createAutopilot(app.settings, {
      rules: app.rules,
      ca: app.connection.ca,
      credential: app.connection.credential,
      ledger: app.ledger,
      sweep: { queue },
    });
  const instances = [instance(), instance()];
  const id = seedResource(emulator.state, {
    subscriptionId: SANDBOX_SUBSCRIPTION,
    resourceGroup: 'rg-web',
    type: SEED_TYPES.webApp,
    name: 'app-deployed-thrice',
  });
  // The identity write takes a second here, so the other events arrive while it runs.
  const slow = emulator.faults.add({
    operation: 'write',
    path: '/sites/app-deployed-thrice',
    action: { kind: 'latency', ms: 1000 },
    times: 1,
  });
  out('Duplicate events: app-deployed-thrice written three times by a deployment; its three events reach two instances at once.\n');
  const before = emulator.lastSeq;
  try {
    const results = await Promise.all(
      [0, 1, 1].map(async (n, i) => {
        await new Promise((r) => setTimeout(r, i * 200));
        const lines: Array<LogLine> = [];
        await triggerNamed('eventGrid', 'resourceWriteSuccess', () => instances[n]!).handler(
          resourceWriteEvent({ resourceId: id }),
          contextFor('resourceWriteSuccess', lines),
        );
        const outcome = lines.find((l) => l.event === 'remediation.outcome');
        const ignored = lines.find((l) => l.event === 'event.ignored');
        return `  event ${i + 1} on instance ${n + 1}: ${outcome ? outcome.status : `acknowledged, ${ignored?.reason}`}`;
      }),
    );
    out(`${results.join('\n')}\n`);
    const queueHandler = triggerNamed('storageQueue', 'remediationQueue', () => instances[0]!).handler;
    for (let message = queue.messages.shift(); message; message = queue.messages.shift()) {
      const lines: Array<LogLine> = [];
      await queueHandler(message, contextFor('remediationQueue', lines));
      out(`  follow-up from the queue: ${lines.find((l) => l.event === 'remediation.outcome')?.status}\n`);
    }
    const writes = emulator.requestsSince(before, { writesOnly: true });
    out(
      `  identity writes: ${writes.filter((w) => /\/sites\/app-deployed-thrice$/i.test(w.path)).length}; role assignments written: ${writes.filter((w) => /roleAssignments/i.test(w.path)).length}\n`,
    );
  } finally {
    slow.remove();
  }
}
