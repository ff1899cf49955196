import { type ArmResourceId, isWithinScope, tryParseArmId } from '../arm/resource-id';
import { printable, truncate } from '../errors';
import { globMatches } from './glob';
import type { RawExemption } from './schema';
import type { Exemption, ExemptionTarget, RulesWarning } from './types';

/**
 * The rules file's `exemptions:` (issue 24.4), modelled on Azure Policy exemptions: a target, a reason,
 * a category and an expiry. Only the administrator writes them; unlike the opt-out tag, a tag writer
 * cannot add one.
 */

type KeyPath = Array<string | number>;
type Fail = (path: KeyPath, reason: string) => never;

const TARGET_KEYS = ['resourceId', 'resourceGroup', 'name'] as const;

/**
 * One entry, checked: exactly one target, a resource id that is one, a real instant for `expiresOn`
 * (required for a waiver), rule names that exist. `ruleNames` are every rule the file names, so a rule
 * that failed its own checks is not blamed again here.
 */
export function buildExemption(raw: RawExemption, index: number, ruleNames: readonly string[], fail: Fail): Exemption {
  const path: KeyPath = ['exemptions', index];
  const given = TARGET_KEYS.filter((k) => raw[k] !== undefined);
  if (given.length !== 1) {
    fail(
      path,
      `needs exactly one of 'resourceId' (one resource's ARM id), 'resourceGroup' (a resource group name or glob) or 'name' (a resource name or glob)${given.length > 1 ? `, not ${given.join(' and ')}` : ''}`,
    );
  }
  const target = { kind: given[0]!, value: raw[given[0]!]! } as ExemptionTarget;
  if (target.kind === 'resourceId') {
    if (tryParseArmId(target.value)?.kind !== 'resource')
      fail(
        [...path, 'resourceId'],
        `'${printable(truncate(target.value))}' is not a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/<namespace>/<type>/<name>)`,
      );
  }
  if (raw.reason.trim().length === 0) fail([...path, 'reason'], 'must say why the resource is exempt');
  const expiresOn = raw.expiresOn === undefined ? undefined : parseInstant(raw.expiresOn, [...path, 'expiresOn'], fail);
  // A waiver "accepts non-compliance for a while" (Learn, exemption structure: exemption category); one with
  // no end is how exceptions become permanent unnoticed, so the file must say when it ends. A mitigated
  // entry (the intent is met another way) may be open-ended, as Azure allows for both.
  if (raw.category === 'waiver' && !expiresOn) {
    fail(
      [...path, 'expiresOn'],
      "is required for a waiver (e.g. expiresOn: 2026-09-30T00:00:00Z); use category 'mitigated' when the need is met another way for good",
    );
  }
  const rules = raw.rules?.map((name, j) => {
    const found = ruleNames.find((r) => r.toLowerCase() === name.toLowerCase());
    if (!found) fail([...path, 'rules', j], `rule '${name}' is not defined under rules`);
    return found!;
  });
  return {
    index,
    target,
    reason: raw.reason.trim(),
    category: raw.category,
    ...(expiresOn ? { expiresOn } : {}),
    ...(rules ? { rules: [...new Set(rules)] } : {}),
  };
}

/** The instant an ISO 8601 date-time (already shaped by the schema) names; a calendar date that does not exist fails. */
function parseInstant(value: string, path: KeyPath, fail: Fail): Date {
  const [, y, m, d] = /^(\d{4})-(\d{2})-(\d{2})T/.exec(value) ?? [];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
  const ms = Date.parse(value);
  // Date.parse takes 2026-02-30 for March 2nd: check the calendar date itself.
  if (!Number.isFinite(ms) || Number(m) < 1 || Number(m) > 12 || Number(d) < 1 || Number(d) > daysInMonth) {
    fail(path, `'${value}' is not a real date and time`);
  }
  return new Date(ms);
}

/** Whether the entry is in force at `now`: from `expiresOn` on it no longer is. */
export function exemptionInForce(exemption: Exemption, now: Date): boolean {
  return exemption.expiresOn === undefined || now.getTime() < exemption.expiresOn.getTime();
}

function targets(target: ExemptionTarget, id: ArmResourceId): boolean {
  switch (target.kind) {
    // An exemption on a resource covers its children too (a site's deployment slots), as an Azure Policy
    // exemption covers the hierarchy beneath its scope.
    case 'resourceId':
      return isWithinScope(id.id, target.value);
    case 'resourceGroup':
      return id.resourceGroup !== undefined && globMatches(target.value, id.resourceGroup);
    case 'name':
      return id.name !== undefined && globMatches(target.value, id.name);
  }
}

/** The first entry in force at `now` that covers the resource under `ruleName`, if any. */
export function exemptionFor(
  exemptions: readonly Exemption[] | undefined,
  id: ArmResourceId,
  ruleName: string,
  now: Date,
): Exemption | undefined {
  return exemptions?.find(
    (e) =>
      exemptionInForce(e, now) && (!e.rules || e.rules.some((r) => r.toLowerCase() === ruleName.toLowerCase())) && targets(e.target, id),
  );
}

/** `2026-09-30T00:00:00Z`: the instant in UTC, without milliseconds when there are none. */
export function formatInstant(instant: Date): string {
  return instant.toISOString().replace('.000Z', 'Z');
}

/**
 * The skip detail: which entry, its category, its expiry and its reason. The reason comes from the
 * trusted rules file, but it is shown on terminals, in logs and in HTML: control characters are escaped.
 */
export function describeExemption(exemption: Exemption): string {
  const until = exemption.expiresOn ? `expires ${formatInstant(exemption.expiresOn)}` : 'no expiry';
  return `exemptions[${exemption.index}] (${exemption.category}, ${until}): ${printable(exemption.reason)}`;
}

/** `validate` and start-up: entries already expired are dead weight that reads as if it still applied. */
export function expiredExemptionWarnings(exemptions: readonly Exemption[], now: Date): RulesWarning[] {
  return exemptions
    .filter((e) => !exemptionInForce(e, now))
    .map((e) => ({
      keyPath: `exemptions[${e.index}].expiresOn`,
      path: ['exemptions', e.index, 'expiresOn'],
      reason: `expired on ${formatInstant(e.expiresOn!)}: it no longer applies, and the next sweep remediates what it covered. Remove the entry, or give it a new expiresOn`,
    }));
}
