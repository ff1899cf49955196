import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { type ArmEmulator, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { type Autopilot, createAutopilot } from '../app/composition';
import { triggerNamed } from '../functions/triggers';
import { InMemoryRemediationQueue } from '../sweep';
import { SANDBOX_SUBSCRIPTION } from './estate';
import type { LogLine } from './log-line';

/** Container Instances' realistic 2-minute redeploy, scaled down for the demo. */
const TIME_FACTOR = 1 / 20;

/** An invocation context whose log lines (JSON) land in `lines`: the sandbox reads outcomes from them. */
export function contextFor(functionName: string, lines: Array<LogLine>): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    triggerMetadata: { dequeueCount: 1 },
    logHandler: (_l, ...args) => args.forEach((a) => lines.push(JSON.parse(String(a)))),
  });
}

/**
 * A long write resumed from the queue: a container group's PUT (its rule consents to the restart; AKS
 * is not written on a managed-identity cluster) runs longer than one Event Grid delivery,
 * so the handler hands the rest (polling, then the roles) to the remediation queue (in memory here,
 * behind the same port as the Storage queue) and acknowledges the event; the queue trigger polls the
 * same operation until it ends, without writing again, then grants the roles.
 */
export async function runHandOffDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<void> {
  const queue = new InMemoryRemediationQueue(app.settings.sweep.queueName);
  // The same app with a queue, and a 3-second delivery budget standing in for Event Grid's 30 s.
  const handOffApp = createAutopilot(app.settings, {
    rules: app.rules,
    ca: app.connection.ca,
    credential: app.connection.credential,
    ledger: app.ledger,
    sweep: { queue },
    engine: { budgetMs: 3000 },
  });
  const previous = { ...emulator.lro };
  emulator.lro.timeFactor = TIME_FACTOR;
  emulator.lro.retryAfterSeconds = 1;
  try {
    const id = seedResource(emulator.state, {
      subscriptionId: SANDBOX_SUBSCRIPTION,
      resourceGroup: 'rg-jobs',
      type: SEED_TYPES.containerGroup,
      name: 'aci-long-write',
    });
    out(
      `Long write: container group aci-long-write (rule allows the restart), whose redeploy runs 2 min x ${TIME_FACTOR.toFixed(2)} = ${(120 * TIME_FACTOR).toFixed(0)} s here; delivery budget 3 s.\n`,
    );
    const before = emulator.lastSeq;
    const started = Date.now();
    const lines: Array<LogLine> = [];
    await triggerNamed('eventGrid', 'resourceWriteSuccess', () => handOffApp).handler(
      resourceWriteEvent({ resourceId: id }),
      contextFor('resourceWriteSuccess', lines),
    );
    const first = lines.find((l) => l.event === 'remediation.outcome');
    out(
      `  ${((Date.now() - started) / 1000).toFixed(1)} s  Event Grid handler: ${first?.status} (${first?.deferral?.reason}), event acknowledged; rest queued for ${first?.deferral?.retryAfterSeconds} s\n`,
    );
    const queueHandler = triggerNamed('storageQueue', 'remediationQueue', () => handOffApp).handler;
    let attempt = 0;
    for (let message = queue.messages.shift(); message; message = queue.messages.shift()) {
      attempt++;
      await new Promise((r) => setTimeout(r, (queue.delays.shift() ?? 0) * 1000));
      const queued: Array<LogLine> = [];
      await queueHandler(message, contextFor('remediationQueue', queued));
      const outcome = queued.find((l) => l.event === 'remediation.outcome');
      const roles = (outcome?.actions ?? [])
        .filter((a: { kind: string }) => a.kind === 'role-assigned')
        .map((a: { role: string }) => a.role);
      const did =
        outcome?.status === 'deferred'
          ? `${outcome.status} (${outcome.deferral?.reason}), queued again for ${outcome.deferral?.retryAfterSeconds} s`
          : `${outcome?.status}${roles.length ? `, granted ${roles.join(', ')}` : ''}`;
      out(`  ${((Date.now() - started) / 1000).toFixed(1)} s  queue trigger (attempt ${attempt}): ${did}\n`);
    }
    const calls = emulator.requestsSince(before);
    const puts = calls.filter((c) => c.method === 'PUT' && c.path.toLowerCase() === id.toLowerCase()).length;
    const rows = await handOffApp.ledger.byResourceId(id);
    out(
      `  group PUTs: ${puts}; operation polls: ${calls.filter((c) => /\/operations\//i.test(c.path)).length}; ledger rows for the group: ${rows.length} (${rows[0]?.status})\n\n`,
    );
  } finally {
    Object.assign(emulator.lro, previous);
    emulator.lro.timeFactor = previous.timeFactor;
  }
}
