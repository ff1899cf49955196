import { tryParseArmId } from '../arm/resource-id';
import type { FindingReason, SweepFinding, SweepReport, SweepTotals } from './report';

/**
 * What every sweep report (CLI table, JSON, Markdown, HTML) says about a finding and the totals, in
 * one place so the four cannot disagree. The texts returned here are raw: each renderer escapes them
 * for its medium (resource names, tag values and ARM messages are attacker input).
 */

/** A finding's result as reports show it: a held blocked one with since when it is unchanged. */
export function actionText(f: SweepFinding): string {
  if (f.blocked && f.action === 'blocked') return `blocked (unchanged since ${f.blocked.since})`;
  return f.action === 'not-applied' ? 'not applied' : f.action;
}

/** Why a finding is not fixed, with remedies: its outcome's reasons, the ledger's blocker, or the queue send's error. */
export function findingReasons(f: SweepFinding): FindingReason[] {
  if (f.reasons && f.reasons.length > 0) return f.reasons;
  if (f.blocked)
    return [{ code: f.blocked.code, detail: f.blocked.detail, ...(f.blocked.remedy !== undefined && { remedy: f.blocked.remedy }) }];
  if (f.error) return [{ code: 'QueueSendFailed', detail: f.error }];
  return [];
}

/** The reasons as one line of text: `Code: detail; Code: detail`. */
export const reasonLine = (reasons: readonly FindingReason[]): string => reasons.map((r) => `${r.code}: ${r.detail}`).join('; ');
/** The remedies as one line of text (reasons without one are left out). */
export const remedyLine = (reasons: readonly FindingReason[]): string =>
  reasons
    .map((r) => r.remedy)
    .filter((r): r is string => !!r)
    .join('; ');

/** The counts a report shows apart, in order, with their labels; zero counts of rare kinds are left out. */
export function resultCounts(t: SweepTotals): Array<[label: string, count: number]> {
  const counts: Array<[string, number, boolean]> = [
    ['fixed', t.fixed ?? 0, (t.fixed ?? 0) > 0],
    ['queued', t.queued, true],
    ['blocked', t.blocked ?? 0, true],
    ['pending', t.pending ?? 0, true],
    ['not applied', t.notApplied ?? 0, (t.notApplied ?? 0) > 0],
    ['reported', t.reported, true],
    ['failed', t.failed, true],
  ];
  return counts.filter(([, , shown]) => shown).map(([label, n]) => [label, n]);
}

/** A resource as a person reads it: its name, resource group and subscription (display name when known). */
export interface ResourceLabel {
  name: string;
  resourceGroup?: string;
  subscription?: string;
  type?: string;
}

export function resourceLabel(resourceId: string, report: Pick<SweepReport, 'subscriptionNames'>): ResourceLabel {
  const id = tryParseArmId(resourceId);
  const name = id?.name ?? resourceId.replace(/\/+$/, '').split('/').pop() ?? resourceId;
  const sub = id?.subscriptionId;
  return {
    name,
    ...(id?.resourceGroup !== undefined && { resourceGroup: id.resourceGroup }),
    ...(sub !== undefined && { subscription: report.subscriptionNames?.[sub.toLowerCase()] ?? sub }),
    ...(id?.type !== undefined && { type: id.type }),
  };
}

/** The Azure portal's page of a resource (the id as a path; the id's characters are URL-encoded, so it cannot leave the URL). */
export const portalUrl = (resourceId: string): string => `https://portal.azure.com/#@/resource${encodeURI(resourceId)}`;

/** A scope's last name (`rg-web`, `kv-orders`), for a narrow column; the full scope goes on hover. */
export const shortScope = (scope: string): string => scope.replace(/\/+$/, '').split('/').pop() || scope;
