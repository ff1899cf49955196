/**
 * `npm run sandbox`: identity-autopilot working end to end with no Azure account. It starts the local
 * ARM emulator with a demo estate, runs the app under its own managed identity (the emulator's
 * token endpoint), delivers one ResourceWriteSuccess event per resource through the real Event Grid
 * handler, and prints what happened; then what the product takes back (lifecycle-demo.ts).
 */

import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { coverageLine, resourceWriteEvent } from '../../tools/arm-emulator';
import { formatTable } from '../app/text-table';
import { parseArmId } from '../arm/resource-id';
import { builtinRoleById } from '../config';
import { triggerNamed } from '../functions/triggers';
import { runDaprDemo } from './dapr-demo';
import { runDuplicatesDemo } from './duplicates-demo';
import { type Sandbox, startSandbox } from './environment';
import { seedAzureTruthCases, seedSlotAndJob } from './estate';
import { runHandOffDemo } from './hand-off-demo';
import { runLifecycleDemo } from './lifecycle-demo';
import type { LogLine } from './log-line';
import { runSecretlessDemo } from './secretless-demo';
import { runSweepDemo } from './sweep-demo';

function identitySummary(
  identity: { type?: string; principalId?: string; userAssignedIdentities?: Record<string, unknown> } | undefined,
): string {
  if (!identity?.type || identity.type === 'None') return 'none';
  const parts = [identity.type];
  if (identity.principalId) parts.push(`principal ${identity.principalId.slice(0, 8)}…`);
  for (const id of Object.keys(identity.userAssignedIdentities ?? {})) parts.push(`uami ${id.split('/').pop()}`);
  return parts.join('\n');
}

function shortScope(scope: string): string {
  const id = parseArmId(scope);
  if (id.kind === 'resourceGroup') return `rg ${id.resourceGroup}`;
  if (id.kind === 'subscription') return 'subscription';
  return `${id.type!.split('/').pop()} ${id.name}`;
}

type Handler = ReturnType<typeof triggerNamed<'eventGrid'>>['handler'];

/** The roles an outcome assigned, and to whom when not to the resource's own identity, one per line. */
function rolesText(outcome: LogLine | undefined): string[] {
  const roles = (outcome?.actions ?? [])
    .filter((a: { kind: string }) => a.kind === 'role-assigned' || a.kind === 'role-already-assigned')
    .map(
      (a: { roleDefinitionId: string; scope: string }) =>
        `${builtinRoleById(a.roleDefinitionId.split('/').pop()!)?.roleName ?? a.roleDefinitionId} @ ${shortScope(a.scope)}`,
    );
  // Roles that went to a principal other than the resource's own identity (AKS: the kubelet identity pods use).
  const grantee = outcome?.grantee as { role: string; objectId?: string } | undefined;
  if (roles.length > 0 && grantee && grantee.role !== 'resource')
    roles.push(`to the ${grantee.role} identity ${grantee.objectId?.slice(0, 8) ?? ''}…`);
  // AKS workload identity: each service account's identity, its federated credential, and the annotation's clientId.
  for (const w of (outcome?.workloadIdentities ?? []) as Array<{
    serviceAccount: string;
    clientId?: string;
    credential: { status: string };
  }>) {
    roles.push(`to SA ${w.serviceAccount}: credential ${w.credential.status},`, `client-id ${w.clientId ?? '?'}`);
  }
  return roles;
}

/** The table's result column: why nothing happened, or what did. */
function resultText(outcome: LogLine | undefined, ignored: LogLine | undefined, thrown: unknown): string {
  if (ignored) return `ignored: ${ignored.reason}`;
  if (outcome?.status === 'skipped') return `skipped: ${outcome.skipped[0]?.reason}`;
  if (thrown) return `failed: ${String(thrown)}`;
  if (outcome?.status === 'blocked') return `blocked: ${outcome.blockers.map((b: { code: string }) => b.code).join(', ')}`;
  if (outcome?.status === 'pending') return `pending: ${outcome.blockers?.[0]?.code ?? ''}`;
  if ((outcome?.actions ?? []).some((a: { kind: string }) => a.kind === 'follow-up-done'))
    return `${outcome?.status}\n+ instances upgraded`;
  return outcome?.status ?? '';
}

/** Delivers one event to the real Event Grid handler and describes what it did to the resource. */
async function remediationRow(
  sandbox: Sandbox,
  handler: Handler,
  label: string,
  event: Record<string, unknown>,
): Promise<{ cells: string[]; outcome?: LogLine }> {
  const { emulator } = sandbox;
  const resourceId = String((event.data as Record<string, unknown>).resourceUri);
  const before = structuredClone(emulator.state.resource(resourceId)?.body.identity);
  const lines: Array<LogLine> = [];
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'resourceWriteSuccess',
    logHandler: (_level, ...args) => args.forEach((a) => lines.push(JSON.parse(String(a)))),
  });
  const started = Date.now();
  let thrown: unknown;
  await handler(event, context).catch((e) => (thrown = e));
  const ms = Date.now() - started;
  const after = emulator.state.resource(resourceId)?.body.identity;
  const outcome = lines.find((l) => l.event === 'remediation.outcome');
  const ignored = lines.find((l) => l.event === 'event.ignored');
  const roles = rolesText(outcome);
  return {
    cells: [
      `${label}\n${resourceId.split('/').pop()}`,
      identitySummary(before),
      identitySummary(after),
      roles.join('\n') || '-',
      resultText(outcome, ignored, thrown),
      `${ms} ms`,
    ],
    outcome,
  };
}

/** What a person can do about each blocked row (too long for the table). */
function remedyLines(outcomes: Array<LogLine | undefined>): string {
  const lines = outcomes
    .filter((o) => o?.status === 'blocked')
    .flatMap((o) =>
      (o!.blockers as Array<{ code: string; remedy?: string }>).map(
        (b) => `  ${String(o!.resourceId).split('/').pop()} (${b.code}): ${b.remedy ?? 'no remedy given'}\n`,
      ),
    );
  return lines.length > 0 ? `Blocked, and what to do:\n${lines.join('')}\n` : '';
}

async function main(): Promise<void> {
  const sandbox = await startSandbox();
  const { emulator, app, close } = sandbox;
  try {
    // The slot after its site, the job after the container groups: each row next to its kin.
    const [slot, job] = seedSlotAndJob(emulator);
    const estate = [
      ...sandbox.estate.flatMap((r) => (r.label === 'web app' ? [r, slot!] : r.label === 'container group' ? [r, job!] : [r])),
      ...seedAzureTruthCases(emulator),
    ];
    const settings = app.settings;
    const handler = triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler;

    process.stdout.write(
      `identity-autopilot sandbox: ARM emulator at ${emulator.url}, ${estate.length} resources, rules ${settings.rulesPath}\n`,
    );
    process.stdout.write(
      `The app runs as principal ${emulator.appPrincipal.id} (managed identity from ${emulator.managedIdentityEnvironment.IDENTITY_ENDPOINT}).\n\n`,
    );

    const rows: string[][] = [];
    const events: Array<{ label: string; event: Record<string, unknown> }> = estate.map((r) => ({
      label: r.label,
      event: resourceWriteEvent({ resourceId: r.id }),
    }));
    // Our own writes raise events too; this is what the loop guard is for.
    events.push({
      label: 'our own PATCH (loop guard)',
      event: resourceWriteEvent({ resourceId: estate[0]!.id, callerObjectId: emulator.appPrincipal.id }),
    });
    const outcomes: Array<LogLine | undefined> = [];
    for (const { label, event } of events) {
      const { cells, outcome } = await remediationRow(sandbox, handler, label, event);
      rows.push(cells);
      outcomes.push(outcome);
    }
    process.stdout.write(`${formatTable(['resource', 'identity before', 'identity after', 'roles assigned', 'result', 'time'], rows)}\n\n`);
    process.stdout.write(remedyLines(outcomes));
    const writes = emulator.requests.filter((r) => r.operation !== 'read').length;
    const violations = (await emulator.specViolations()).length;
    process.stdout.write(
      `ARM calls: ${emulator.requests.length} (${writes} writes); spec checks: ${emulator.specs.checked} checked, ${violations} violations.\n`,
    );
    process.stdout.write(`${coverageLine(emulator.specs.coverage)}.\n`);
    // Dapr: a container app's components get exactly what the catalogue names.
    process.stdout.write('\n');
    await runDaprDemo(emulator, app, (text) => process.stdout.write(text));
    // A write that outlives an Event Grid delivery, finished from the remediation queue.
    process.stdout.write('\n');
    await runHandOffDemo(emulator, app, (text) => process.stdout.write(text));
    // Duplicate events on two instances collapse into one remediation (the hand-off demo ends with a blank line).
    await runDuplicatesDemo(emulator, app, (text) => process.stdout.write(text));
    // Compliance sweep: drift the events never saw, found through Resource Graph and fixed through the queue trigger.
    process.stdout.write('\n');
    await runSweepDemo(emulator, app, estate, (text) => process.stdout.write(text));
    // Lifecycle: clean-up on delete, revocation (enforce and report), withdrawn consent, the role-assignment budget.
    process.stdout.write('\n');
    await runLifecycleDemo(emulator, app, (text) => process.stdout.write(text));
    // Secretless: a key-based component reported, migrated by the sweep after the window, and the targets' readiness.
    process.stdout.write('\n');
    await runSecretlessDemo(emulator, app, (text) => process.stdout.write(text));
  } finally {
    await close();
  }
}

main().catch((e) => {
  process.stderr.write(`sandbox failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
