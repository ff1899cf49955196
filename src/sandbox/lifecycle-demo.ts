import { join, relative } from 'node:path';
import type { Timer } from '@azure/functions';
import {
  type ArmEmulator,
  ROLE,
  resourceDeleteEvent,
  resourceWriteEvent,
  SEED_TYPES,
  seedResource,
  seedScopeResource,
} from '../../tools/arm-emulator';
import { type Autopilot, createAutopilot } from '../app/composition';
import { formatTable } from '../app/text-table';
import { builtinRoleById, loadRulesFile } from '../config';
import { triggerNamed } from '../functions/triggers';
import { InMemoryRemediationQueue, InMemoryReportStore, type SweepReport } from '../sweep';
import { contextFor } from './hand-off-demo';
import type { LogLine } from './log-line';

/**
 * The lifecycle part of the sandbox (issue 22): what identity-autopilot gave is taken back, through the
 * real triggers. A deleted app is cleaned up on its ResourceDeleteSuccess event (a person's assignment
 * stays); a re-pointed kv-id tag is revoked under `lifecycle.revoke: enforce` and reported under
 * `report`; a vault owner's withdrawn consent is found by the timer sweep; the sweep counts role
 * assignments per subscription (Azure's 4,000 limit), and a new grant is blocked below the reserve.
 * Its own subscription and rules (lifecycle-rules.yaml), so that nothing of the main demo is revoked.
 */
export const LIFECYCLE_SUBSCRIPTION = '5a5d60a8-0000-4000-8000-00000000011f';
export const LIFECYCLE_RULES_PATH = join(__dirname, 'lifecycle-rules.yaml');
/** The demo's reserve for the budget's blocked grant: only 5 slots of 4,000 may be left to others. */
export const DEMO_RESERVE = 3995;

const SUB = LIFECYCLE_SUBSCRIPTION;
const rgId = (rg: string) => `/subscriptions/${SUB}/resourceGroups/${rg}`;
const vaultId = (name: string) => `${rgId('rg-vaults')}/providers/Microsoft.KeyVault/vaults/${name}`;
const short = (id: string) => id.split('/').pop()!;
const roleOf = (guid: string | undefined) => (guid ? (builtinRoleById(guid)?.roleName ?? guid) : '?');

/** What the demo saw, for its test: the printed tables' facts. */
export interface LifecycleDemoResult {
  /** Clean-up after delete: `<resource>: <object> -> <status>`. */
  cleanUp: string[];
  /** The Event Grid applies after the tag was re-pointed: `<resource>: <role> @ <vault> -> <status> (<reason>)`. */
  applied: string[];
  /** The timer sweep's excess grants: `<resource>: <role> @ <vault> -> <status> (<reason>)`. */
  swept: string[];
  nonCompliant: string[];
  roleAssignments: Record<string, number>;
  budget: { status: string; code?: string };
}

async function deliver(app: Autopilot, event: Record<string, unknown>): Promise<LogLine> {
  const lines: LogLine[] = [];
  await triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler(event, contextFor('resourceWriteSuccess', lines));
  const outcome = lines.find((l) => l.event === 'remediation.outcome');
  if (!outcome) throw new Error(`no outcome for ${String((event.data as LogLine).resourceUri)}: ${JSON.stringify(lines)}`);
  return outcome;
}

/** A workload seeded in the demo subscription and remediated through Event Grid: its id and principal. */
async function remediated(emulator: ArmEmulator, app: Autopilot, input: Omit<Parameters<typeof seedResource>[1], 'subscriptionId'>) {
  const id = seedResource(emulator.state, { subscriptionId: SUB, ...input });
  const outcome = await deliver(app, resourceWriteEvent({ resourceId: id }));
  if (outcome.status !== 'remediated') throw new Error(`${input.name}: ${outcome.status} ${JSON.stringify(outcome.blockers ?? [])}`);
  return { id, principalId: String(outcome.principalId) };
}

const web = (rg: string, name: string, vault: string) => ({
  resourceGroup: rg,
  type: SEED_TYPES.webApp,
  name,
  tags: { 'identity-autopilot-profiles': 'vault-secrets', 'kv-id': vaultId(vault) },
});

/** The demo subscription: the app is Owner there (as in the main demo), and three vaults whose owners consent. */
function seedLifecycleEstate(emulator: ArmEmulator): void {
  const state = emulator.state;
  state.addSubscription(SUB, 'Contoso Lifecycle');
  state.grant({ principalId: emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB}` });
  state.addResourceGroup(SUB, 'rg-vaults');
  for (const name of ['kv-orders', 'kv-payments'])
    seedScopeResource(state, vaultId(name), 'westeurope', { 'kv-consumers': 'rg-apps,rg-team-a,rg-team-b' });
  seedScopeResource(state, vaultId('kv-partner'), 'westeurope', { 'kv-consumers': 'rg-team-a,rg-team-b' });
}

const OBJECT_WORDS: Record<string, string> = {
  'user-assigned-identity': 'identity',
  'federated-credential': 'credential',
  'cosmos-sql-role-assignment': 'Cosmos DB SQL role assignment',
};

/** One removal record as a table row: what it was, and what became of it (a kept one says why, briefly). */
function removalRow(resource: string, r: LogLine): string[] {
  const object =
    r.kind === 'role-assignment'
      ? `${roleOf(r.roleDefinitionGuid)} @ ${short(r.scope ?? r.id.split('/providers/Microsoft.Authorization')[0])}`
      : `${OBJECT_WORDS[r.kind] ?? r.kind} ${short(r.id)}`;
  const notOurs = /does not record identity-autopilot as its creator/.test(r.detail ?? '');
  const result = r.status === 'kept' ? `kept: ${notOurs ? 'not made by identity-autopilot' : r.detail}` : r.status;
  return [resource, object, result];
}

/** (1) A web app and a container app (with the identity the product made for it) deleted, then their delete events. */
async function cleanUpDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<string[]> {
  const state = emulator.state;
  const site = await remediated(emulator, app, web('rg-apps', 'app-retired', 'kv-orders'));
  const containerApp = await remediated(emulator, app, { ...web('rg-apps', 'ca-retired', 'kv-orders'), type: SEED_TYPES.containerApp });
  // A person copies the product's description onto an assignment of their own: the description proves nothing.
  const ours = state.assignmentsFor(site.principalId)[0]!;
  state.grant({ principalId: site.principalId, roleDefinitionGuid: ROLE.contributor, scope: rgId('rg-apps') }).description =
    ours.description;
  out(
    'Clean-up on delete: app-retired (system-assigned) and ca-retired (identity id-ca-retired, made by the product) were remediated;\n' +
      "a person gave app-retired's principal Contributor with the product's description. Both apps are deleted, then their\n" +
      'ResourceDeleteSuccess events arrive. Before removing anything the product checks with ARM that the app is gone (404).\n',
  );
  const rows: string[][] = [];
  for (const workload of [site, containerApp]) {
    state.deleteResource(workload.id);
    const outcome = await deliver(app, resourceDeleteEvent({ resourceId: workload.id }));
    const removed = (outcome.removed ?? []) as LogLine[];
    for (const r of removed) rows.push(removalRow(short(workload.id), r));
    if (removed.length === 0) rows.push([short(workload.id), '-', `${outcome.status}`]);
  }
  out(`${formatTable(['deleted resource', 'object', 'result'], rows)}\n`);
  const left = state.assignmentsFor(site.principalId).map((a) => `${roleOf(a.roleDefinitionGuid)} @ ${short(a.scope)}`);
  const identityLeft = state.resource(`${rgId('rg-apps')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ca-retired`);
  out(
    `  left behind: ${left.join(', ') || 'nothing'} (app-retired's principal); identity id-ca-retired ${identityLeft ? 'still exists' : 'deleted'}\n\n`,
  );
  return rows.map(([resource, object, result]) => `${resource}: ${object} -> ${result}`);
}

/** A reason in a few words: withdrawn consent names the vault and the resource group its tag leaves out. */
function shortReason(reason: string): string {
  const consent = /^consent withdrawn: role scope '([^']+)'.*its '([^']+)' tag does not list .*\(([^)]+)\)$/.exec(reason);
  if (consent) return `consent withdrawn: ${short(consent[1]!)}'s ${consent[2]} tag does not list ${short(consent[3]!)}`;
  return reason;
}

/** One revocation (from an outcome or the sweep report) as `role @ vault`, its status and reason. */
const revocationCells = (r: LogLine, status: string): string[] => [
  `${r.role} @ ${short(r.scope)}`,
  r.revoke,
  status,
  shortReason(r.reason),
];

/** (2) kv-id re-pointed on an enforce and a report workload: the tag change is a write, its event applies. */
async function repointDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<string[]> {
  const state = emulator.state;
  const checkout = await remediated(emulator, app, web('rg-team-a', 'app-checkout', 'kv-orders'));
  const invoices = await remediated(emulator, app, web('rg-team-b', 'app-invoices', 'kv-orders'));
  out(
    'Re-pointed tag: app-checkout (rule team-a, lifecycle.revoke: enforce) and app-invoices (team-b, report) held\n' +
      'Key Vault Secrets User @ kv-orders; their kv-id tags now name kv-payments, and the tag writes raise events.\n',
  );
  const rows: string[][] = [];
  for (const workload of [checkout, invoices]) {
    state.resource(workload.id)!.body.tags['kv-id'] = vaultId('kv-payments');
    const outcome = await deliver(app, resourceWriteEvent({ resourceId: workload.id }));
    const granted = (outcome.actions as LogLine[]).filter((a) => a.kind === 'role-assigned').map((a) => `${a.role} @ ${short(a.scope)}`);
    const removedIds = new Set(((outcome.removed ?? []) as LogLine[]).filter((r) => r.status === 'removed').map((r) => r.id.toLowerCase()));
    for (const r of (outcome.revocations ?? []) as LogLine[]) {
      const status = r.assignmentId && removedIds.has(String(r.assignmentId).toLowerCase()) ? 'revoked' : 'kept';
      rows.push([short(workload.id), `+ ${granted.join(', ') || '-'}`, ...revocationCells(r, status), outcome.status]);
    }
    // Under report an apply reads nothing more: the old grant stays, and the sweep lists it (below).
    if (!outcome.revocations?.length) {
      const old = state.assignmentsFor(workload.principalId).filter((a) => /kv-orders$/i.test(a.scope));
      for (const a of old)
        rows.push([
          short(workload.id),
          `+ ${granted.join(', ') || '-'}`,
          `${roleOf(a.roleDefinitionGuid)} @ kv-orders`,
          'report',
          'kept',
          'the sweep reports it',
          outcome.status,
        ]);
    }
  }
  out(`${formatTable(['resource', 'granted', 'old grant', 'revoke', 'done', 'reason', 'result'], rows)}\n\n`);
  return rows.map((r) => `${r[0]}: ${r[2]} -> ${r[4]} (${r[5]})`);
}

/** (3) kv-partner's owner withdraws consent; the timer sweep judges every owned grant and counts the budget. */
async function sweepDemo(
  emulator: ArmEmulator,
  app: Autopilot,
  sweeper: Autopilot,
  reports: InMemoryReportStore,
  out: (text: string) => void,
) {
  await remediated(emulator, app, web('rg-team-a', 'app-partner-sync', 'kv-partner'));
  await remediated(emulator, app, web('rg-team-b', 'app-partner-feed', 'kv-partner'));
  emulator.state.resource(vaultId('kv-partner'))!.body.tags['kv-consumers'] = 'rg-apps';
  out(
    "Withdrawn consent: kv-partner's owner sets its kv-consumers tag to rg-apps only; app-partner-sync (team-a, enforce) and\n" +
      'app-partner-feed (team-b, report) hold Key Vault Secrets User on it. The timer sweep runs.\n',
  );
  await triggerNamed('timer', 'complianceSweep', () => sweeper).handler({ isPastDue: false } as Timer, contextFor('complianceSweep', []));
  const report = JSON.parse(reports.reports.at(-1)!.json) as SweepReport;
  const items = report.revocations?.items ?? [];
  const rows = items.map((i) => [short(i.resourceId), ...revocationCells(i, i.status === 'removed' ? 'revoked' : i.status)]);
  out(`${formatTable(['resource', 'owned grant', 'revoke', 'done', 'reason'], rows)}\n`);
  const nonCompliant = report.findings.filter((f) => f.problems.length > 0).map((f) => short(f.resourceId));
  out(
    `  excess ${report.revocations?.excess ?? 0}, removed ${report.revocations?.removed ?? 0}, orphans ${report.revocations?.orphans ?? 0}; ` +
      `not compliant: ${nonCompliant.join(', ') || 'none'}\n\n`,
  );
  return {
    swept: rows.map((r) => `${r[0]}: ${r[1]} -> ${r[3]} (${r[4]})`),
    nonCompliant,
    roleAssignments: report.roleAssignments ?? {},
  };
}

/**
 * (4) The budget: the sweep's count per subscription, and a new grant blocked on the instance that swept,
 * whose reserve is the demo's (a remediation starts from the last sweep's count: the same instance).
 */
async function budgetDemo(emulator: ArmEmulator, strict: Autopilot, counts: Record<string, number>, out: (text: string) => void) {
  for (const [subscription, count] of Object.entries(counts))
    out(
      `Role-assignment budget: the sweep counted ${count} of Azure's 4,000 role assignments in subscription ${short(subscription)}\n` +
        `(metric autopilot.role_assignments, alert at 80 %); new grants stop when fewer than the reserve (default 200) are left.\n`,
    );
  const id = seedResource(emulator.state, { subscriptionId: SUB, ...web('rg-team-a', 'app-late', 'kv-orders') });
  const outcome = await deliver(strict, resourceWriteEvent({ resourceId: id }));
  const blocker = (outcome.blockers ?? [])[0] as LogLine | undefined;
  out(
    `  The sweeping instance runs with AUTOPILOT_ROLE_ASSIGNMENT_RESERVE=${DEMO_RESERVE} (demo value). New app app-late: ${outcome.status}` +
      `${blocker ? ` (${blocker.code})` : ''}; ${emulator.state.resource(id)?.body.identity ? 'identity written' : 'nothing written'}.\n`,
  );
  if (blocker?.detail) out(`  ${String(blocker.detail).split('. ')[0]}.\n`);
  return { status: String(outcome.status), code: blocker?.code as string | undefined };
}

/** Another app over the same rules, ARM connection and ledger (overrides for createAutopilot). */
const sameConnection = (app: Autopilot) => ({
  rules: app.rules,
  ca: app.connection.ca,
  credential: app.connection.credential,
  ledger: app.ledger,
});

/** Runs the four parts in the demo subscription under lifecycle-rules.yaml; prints tables and returns their facts. */
export async function runLifecycleDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<LifecycleDemoResult> {
  seedLifecycleEstate(emulator);
  const reports = new InMemoryReportStore();
  const rules = loadRulesFile(LIFECYCLE_RULES_PATH);
  const lifecycle = createAutopilot(app.settings, { ...sameConnection(app), rules });
  // The timer's instance: Resource Graph allows 15 queries per 5 s, so one sweep serves both the
  // revocation and the budget parts; its reserve only matters for new grants (part 4).
  const sweeper = createAutopilot(
    { ...app.settings, roleAssignmentReserve: DEMO_RESERVE },
    { ...sameConnection(app), rules, sweep: { queue: new InMemoryRemediationQueue(app.settings.sweep.queueName), reports } },
  );
  out(`Lifecycle (subscription ${SUB}, rules ${relative(process.cwd(), LIFECYCLE_RULES_PATH)}): taking back what the product gave.\n\n`);
  const cleanUp = await cleanUpDemo(emulator, lifecycle, out);
  const applied = await repointDemo(emulator, lifecycle, out);
  const swept = await sweepDemo(emulator, lifecycle, sweeper, reports, out);
  const budget = await budgetDemo(emulator, sweeper, swept.roleAssignments, out);
  return { cleanUp, applied, ...swept, budget };
}
