import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { type ArmEmulator, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import type { Autopilot } from '../app/composition';
import { formatTable } from '../app/text-table';
import { triggerNamed } from '../functions/triggers';
import { InMemoryRemediationQueue, runSweep } from '../sweep';
import { writeHtmlReportFile } from '../sweep/report-file';
import type { DemoResource } from './estate';
import { SANDBOX_SUBSCRIPTION } from './estate';
import type { LogLine } from './log-line';

const short = (id: string) => id.split('/').pop()!;

type Blocker = { code: string; detail: string; remedy?: string };

/** One unfixed resource, as `apply` prints it: code and detail, then the remedy on its own line. */
function whatToDo(resourceId: string, status: string, b: Blocker): string {
  return `  ${short(resourceId)} (${status}): ${b.code}: ${b.detail}\n${b.remedy ? `    to fix: ${b.remedy}\n` : ''}`;
}

/**
 * The sweep part of the sandbox: drift is seeded behind the app's back (an identity turned off, a
 * role assignment deleted, a resource created while the app was down), a sweep finds it through
 * Resource Graph, fans it out to the remediation queue (in memory here, behind the same port as the
 * Storage queue), and the real queue trigger fixes each message; a second sweep shows it is clean.
 */
export async function runSweepDemo(
  emulator: ArmEmulator,
  app: Autopilot,
  estate: DemoResource[],
  out: (text: string) => void,
  /** Where the HTML report is written (the sandbox keeps its reports in memory, which nobody can open). */
  reportDir: string = SANDBOX_REPORT_DIR,
): Promise<{ reportPath: string }> {
  const state = emulator.state;
  const vm = estate.find((r) => r.label === 'virtual machine')!.id;
  const web = estate.find((r) => r.label === 'web app')!.id;
  delete state.resource(vm)!.body.identity;
  const webPrincipal = state.resource(web)!.body.identity.principalId as string;
  const grant = state.assignmentsFor(webPrincipal)[0]!;
  state.roleAssignments.delete(grant.id.toLowerCase());
  seedResource(state, {
    subscriptionId: SANDBOX_SUBSCRIPTION,
    resourceGroup: 'rg-web',
    type: SEED_TYPES.webApp,
    name: 'app-created-during-outage',
  });
  out(
    "Drift seeded behind the app's back: identity removed from vm-build-agent, one role assignment of app-storefront deleted, app-created-during-outage created while the app was down.\n\n",
  );

  const queue = new InMemoryRemediationQueue(app.settings.sweep.queueName);
  const host = { rules: app.rules, ports: app.ports, ledger: app.ledger, sweep: { ...app.sweep, queue } };
  const report = await runSweep(host);
  const handler = triggerNamed('storageQueue', 'remediationQueue', () => app).handler;
  const rows: string[][] = [];
  /** Each blocked or pending outcome's reasons, as `apply` prints them: code, detail, then the remedy. */
  const toDo: string[] = [];
  for (const message of queue.messages) {
    const lines: Array<LogLine> = [];
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: 'remediationQueue',
      triggerMetadata: { dequeueCount: 1 },
      logHandler: (_l, ...args) => args.forEach((a) => lines.push(JSON.parse(String(a)))),
    });
    let thrown: unknown;
    await handler(message, context).catch((e) => (thrown = e));
    const outcome = lines.find((l) => l.event === 'remediation.outcome');
    const finding = report.findings.find((f) => f.resourceId === message.resourceId);
    const fixed = (outcome?.actions ?? [])
      .map((a: { kind: string; role?: string }) =>
        a.kind === 'identity-written' ? 'identity enabled' : a.kind === 'role-assigned' ? `granted ${a.role}` : a.kind,
      )
      .join('\n');
    for (const b of (outcome?.blockers ?? []) as Blocker[]) toDo.push(whatToDo(message.resourceId, String(outcome?.status), b));
    rows.push([
      short(message.resourceId),
      finding?.problems.join('\n') ?? '',
      (finding?.missingRoleAssignments ?? []).map((m) => m.role).join('\n') || '-',
      fixed || '-',
      thrown ? `failed: ${String(thrown)}` : String(outcome?.status),
    ]);
  }
  // An enforce sweep again (its queue is not run): the blocked resources, unchanged since, are held, not queued again.
  const after = await runSweep({ ...host, sweep: { ...host.sweep, queue: new InMemoryRemediationQueue() } });
  const held = after.findings.filter((f) => f.action === 'blocked').map((f) => `${short(f.resourceId)} (${f.blocked?.code})`);
  out(
    `Sweep ${report.sweepId.slice(0, 8)}: scanned ${report.totals.scanned}, compliant ${report.totals.compliant}, queued ${report.totals.queued}, reported ${report.totals.reported}, skipped ${JSON.stringify(report.totals.skipped)}; ${report.resourceGraph.calls} Resource Graph calls.\n`,
  );
  out(`${formatTable(['resource', 'drift found', 'roles missing', 'queue trigger did', 'result'], rows)}\n\n`);
  // Held by the sweep (blocked before, unchanged since): never queued, so their remedy comes from the ledger's blocker.
  for (const f of report.findings) if (f.action === 'blocked' && f.blocked) toDo.push(whatToDo(f.resourceId, 'blocked, held', f.blocked));
  if (toDo.length > 0) out(`Not fixed, and what to do:\n${toDo.join('')}\n`);
  mkdirSync(reportDir, { recursive: true });
  const written = await writeHtmlReportFile(join(reportDir, `sweep-${after.sweepId.slice(0, 8)}.html`), after, app.sweep.reports);
  out(
    `Second sweep: scanned ${after.totals.scanned}, compliant ${after.totals.compliant}, non-compliant ${after.totals.nonCompliant} (queued again ${after.totals.queued}; blocked and unchanged, not queued again: ${held.join(', ') || 'none'}).\nReport: ${written.path} (open it in a browser)\n`,
  );
  return { reportPath: written.path };
}

/** The OS temporary directory: the sandbox writes nothing into the working tree. */
export const SANDBOX_REPORT_DIR = join(tmpdir(), 'identity-autopilot-sandbox');
