import { formatTable } from '../app/text-table';
import { parseArmId } from '../arm/resource-id';
import { revocationLine } from '../engine/revocation';
import type { PrincipalDescription, RemediationOutcome, WorkloadIdentityResult } from '../engine/types';
import type { LedgerEntry } from '../ledger/types';
import type { SweepReport } from '../sweep/report';
import { actionText, findingReasons, resultCounts } from '../sweep/report-text';
import { terminalLine as safe } from '../text/safe-text';

function shortScope(scope: string): string {
  try {
    const id = parseArmId(scope);
    if (id.kind === 'resourceGroup') return `resource group ${id.resourceGroup}`;
    if (id.kind === 'subscription') return `subscription ${id.subscriptionId}`;
    return `${id.type} ${id.name}`;
  } catch {
    return scope;
  }
}

/** `kubelet identity, objectId ..., clientId ...`: which of the workload's principals holds the roles. */
export function describeGrantee(grantee: PrincipalDescription, principalId?: string): string {
  const objectId = grantee.objectId ?? principalId;
  const parts = [
    `${grantee.role} identity`,
    objectId ? `objectId ${objectId}` : 'objectId not known yet',
    ...(grantee.clientId ? [`clientId ${grantee.clientId}`] : []),
  ];
  return parts.join(', ');
}

/** One service account's workload identity: the annotation to set, and the credential's state. */
export function describeWorkloadIdentity(w: WorkloadIdentityResult): string[] {
  return [
    `service account ${safe(w.serviceAccount)}: identity ${safe(w.identityId)}`,
    `  annotation: ${w.annotation ? safe(w.annotation) : 'clientId not known yet (the identity is created on apply)'}`,
    `  federated credential ${safe(w.credential.name)}: ${w.credential.status}${w.credential.issuer ? ` (issuer ${safe(w.credential.issuer)}, subject ${safe(w.credential.subject)})` : ''}`,
  ];
}

/** A human summary of one outcome: what would change (plan) or what changed (apply). */
export function renderOutcome(outcome: RemediationOutcome, requestId: string): string {
  // Every value a resource creator can influence (ids, tag-derived scopes, details quoting them) goes through safe().
  const lines = [
    safe(outcome.resourceId),
    `status: ${outcome.status}${outcome.rule ? `   rule: ${safe(outcome.rule)} (${outcome.mode})` : ''}   request: ${requestId}`,
  ];
  const plan = outcome.plan;
  if (outcome.grantee) lines.push(`principal: ${describeGrantee(outcome.grantee, outcome.principalId)}`);
  else if (plan && outcome.principalId) lines.push(`principal: ${outcome.principalId}`);
  if (plan) {
    const identity =
      plan.identity.action === 'write'
        ? `${plan.identity.from} -> ${plan.identity.to.type} (${safe(plan.identity.reason)})`
        : `unchanged: ${safe(plan.identity.reason)}`;
    lines.push(`identity: ${identity}`);
    if (plan.userAssignedIdentity) lines.push(`user-assigned identity: ${safe(plan.userAssignedIdentity.id)}`);
    const assigned = new Set(
      outcome.actions
        .filter((a) => a.kind === 'role-assigned')
        .map(
          (a) => `${(a as { scope: string }).scope.toLowerCase()}|${(a as { roleDefinitionId: string }).roleDefinitionId.split('/').pop()}`,
        ),
    );
    const rows = plan.roleAssignments.map((r) => {
      const a = r as typeof r & { present?: boolean };
      const state = assigned.has(`${r.scope.toLowerCase()}|${r.roleDefinitionGuid}`) ? 'assigned now' : a.present ? 'present' : 'missing';
      return [safe(r.roleDisplayName), safe(shortScope(r.scope)), safe(r.profile), state];
    });
    if (rows.length > 0) lines.push('', formatTable(['role', 'scope', 'profile', 'state'], rows));
    if (plan.clusterChange) lines.push(`cluster: ${safe(plan.clusterChange.reason)}`);
    // Cosmos DB data-plane roles (the second grant kind) and a Dapr app's components.
    for (const d of plan.dataPlaneRoleAssignments ?? [])
      lines.push(
        `cosmos db data role: ${safe(d.roleDisplayName)} on ${safe(shortScope(d.accountId))} (${safe(d.source)}): ${d.present ? 'present' : 'missing'}`,
      );
    for (const c of plan.dapr?.components ?? []) {
      lines.push(
        `dapr component ${safe(c.name)} (${safe(c.componentType)}): ${c.status}${c.clientId ? `; azureClientId: ${c.clientId.action}: ${safe(c.clientId.detail)}` : ''}`,
      );
    }
    for (const note of plan.notes) lines.push(`note: ${safe(note)}`);
    for (const f of plan.followUps ?? [])
      lines.push(`after the identity write: ${f.code}: ${f.run ? 'run by the product' : `not opted in (${f.optIn}); ${safe(f.remedy)}`}`);
  }
  lines.push(...(outcome.workloadIdentities ?? []).flatMap(describeWorkloadIdentity));
  // Grants the rules no longer give, as a plan shows destroys: `- Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)`.
  const revocations = outcome.revocations ?? [];
  if (revocations.length > 0)
    lines.push(
      '',
      `removals (lifecycle.revoke: ${revocations[0]!.revoke}):`,
      ...revocations.map((r) => safe(revocationLine({ role: r.role, assignment: { scope: r.scope }, reason: r.reason }))),
    );
  // A pending outcome's blockers are what keeps the workload from its identity, not a refusal to act.
  const label = outcome.status === 'pending' ? 'pending' : 'blocked';
  for (const b of outcome.blockers ?? [])
    lines.push(`${label}: ${b.code}: ${safe(b.detail)}`, ...(b.remedy ? [`  to fix: ${safe(b.remedy)}`] : []));
  for (const s of outcome.skipped) lines.push(`skipped: ${s.reason}: ${safe(s.detail)}`);
  for (const e of outcome.errors) lines.push(`error: ${safe(e.code)}${e.transient ? ' (transient)' : ''}: ${safe(e.message)}`);
  return `${lines.join('\n')}\n`;
}

/** The sweep's excess grants and orphans, each with what became of it; orphans the product did not make, listed only. */
function renderRevocations(report: SweepReport): string[] {
  const r = report.revocations;
  if (!r || r.items.length + r.foreign.length === 0) return [];
  const lines = [
    '',
    `excess grants ${r.excess}, orphans ${r.orphans} (removed ${r.removed}); orphans identity-autopilot did not make: ${r.foreignOrphans} (never removed)`,
  ];
  if (r.guard) lines.push(`revocation stopped: ${r.guard.code}: ${safe(r.guard.detail)}`);
  for (const i of r.items)
    lines.push(
      `${safe(revocationLine({ role: i.role, assignment: { scope: i.scope }, reason: i.reason }))} [${i.kind}, ${i.status}] ${safe(i.resourceId)}`,
    );
  for (const f of r.foreign)
    lines.push(
      `- ${safe(f.role)} @ ${safe(shortScope(f.scope))} (orphan, principal ${safe(f.principalId)}, not made by identity-autopilot: kept)`,
    );
  return lines;
}

export function renderLedger(resourceId: string, entries: LedgerEntry[]): string {
  if (entries.length === 0) return `${safe(resourceId)}\nno ledger entries\n`;
  const rows = entries.map((e) => [
    e.finishedAt,
    e.trigger,
    e.status,
    e.grantee ? describeGrantee(e.grantee, e.principalId) : principalsOf(e),
    String(e.actions.length),
    safe(e.errors.map((x) => (x as { code: string }).code).join(', ')) || '-',
    safe(e.requestId),
  ]);
  return `${safe(resourceId)}\n${formatTable(['finished', 'trigger', 'status', 'principal', 'actions', 'errors', 'request'], rows)}\n`;
}

/** A ledger row's principal when there is no single grantee: each service account's clientId (workload identity). */
function principalsOf(e: LedgerEntry): string {
  if (e.workloadIdentities?.length)
    return e.workloadIdentities.map((w) => `${safe(w.serviceAccount)}: clientId ${w.clientId ?? 'not known yet'}`).join('\n');
  return e.principalId ?? '-';
}

/** Totals, then one row per finding: what was wrong and what became of it (fixes folded in: sweep/fix-results.ts), then why and how to fix. */
export function renderSweep(report: SweepReport): string {
  const t = report.totals;
  const skipped =
    Object.entries(t.skipped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const results = resultCounts(t)
    .map(([label, n]) => `${label} ${n}`)
    .join(', ');
  const lines = [
    `sweep ${report.sweepId}${report.reportOnly ? ' (report only)' : ''}: ${report.subscriptions.length} subscription(s), ${report.resourceGraph.calls} Resource Graph call(s), ${report.durationMs} ms`,
    `scanned ${t.scanned}, compliant ${t.compliant}, non-compliant ${t.nonCompliant} (${results}); skipped: ${skipped}`,
  ];
  if (report.findings.length > 0) {
    // The folded report says what each fix did (sweep/fix-results.ts); the reason column names its codes.
    const rows = report.findings.map((f) => [
      safe(f.resourceId),
      f.problems.join('\n'),
      safe(f.rule),
      actionText(f),
      safe(
        findingReasons(f)
          .map((r) => r.code)
          .join('\n'),
      ) || '-',
    ]);
    lines.push('', formatTable(['resource', 'drift', 'rule', 'result', 'reason'], rows));
    if (report.findingsTruncated) lines.push(`(first ${report.findings.length} findings; the stored report has all of them)`);
  }
  // Each reason in full with its remedy, as `apply` prints them (a failed queue send is in the failures below).
  for (const f of report.findings)
    for (const r of findingReasons(f).filter((x) => x.code !== 'QueueSendFailed'))
      lines.push(
        `${f.action}: ${safe(f.resourceId)}: ${safe(r.code)}: ${safe(r.detail)}`,
        ...(r.remedy ? [`  to fix: ${safe(r.remedy)}`] : []),
      );
  for (const s of report.skippedResources ?? []) lines.push(`${safe(s.reason)}: ${safe(s.resourceId)}: ${safe(s.detail)}`);
  lines.push(...renderRevocations(report));
  for (const f of report.failures) lines.push(`failed: ${safe(f.resourceId)}: ${safe(f.code)}: ${safe(f.detail)}`);
  return `${lines.join('\n')}\n`;
}
