import { randomUUID } from 'node:crypto';
import { parseArmId } from '../arm/resource-id';
import { evaluateGovernance } from '../config';
import type { RemediationOutcome } from '../engine/types';
import { AutopilotError, isAutopilotError } from '../errors';
import { createLogger, type StructuredLogger } from '../logging/logger';
import type { TriggerKind } from '../outcomes/recorder';
import type { Autopilot } from './composition';
import { remediationPorts, runRemediation } from './run-remediation';

/** The CLI prints the outcome itself; it logs no line for it. */
const SILENT = createLogger(() => undefined);

export interface ManualRequest {
  resourceId: string;
  mode: 'plan' | 'apply';
  profiles?: readonly string[];
}

export type ManualResult =
  | { kind: 'done'; requestId: string; outcome: RemediationOutcome }
  | {
      kind: 'rejected';
      status: 400 | 403 | 422;
      code: 'InvalidResourceId' | 'OutsideGovernedScope' | 'UnknownProfile' | 'ProfileNotSelectable' | 'RulesNotApplicable';
      detail: string;
      requestId: string;
    };

const SELECTION_ERRORS = new Set(['UnknownProfile', 'ProfileNotSelectable']);

/**
 * A manual plan or apply for one resource, as the HTTP API and the CLI offer it. A caller is less
 * trusted than the rules' author: only resources inside the governed scope, and only profiles the
 * matching rule allows; anything else is refused before a single write.
 */
export async function runManualRemediation(
  autopilot: Autopilot,
  request: ManualRequest,
  trigger: TriggerKind,
  log: StructuredLogger = SILENT,
): Promise<ManualResult> {
  const requestId = randomUUID();
  const receivedAt = new Date().toISOString();
  let id;
  try {
    id = parseArmId(request.resourceId);
  } catch (e) {
    return {
      kind: 'rejected',
      status: 400,
      code: 'InvalidResourceId',
      detail: isAutopilotError(e) ? e.message : 'the resource id could not be read',
      requestId,
    };
  }
  if (id.kind !== 'resource') {
    return {
      kind: 'rejected',
      status: 400,
      code: 'InvalidResourceId',
      detail: `'${request.resourceId}' is a ${id.kind}, not a resource`,
      requestId,
    };
  }
  // Under management groups the governed subscriptions are ARM's answer now; when ARM cannot give it,
  // the remediation below fails with that error rather than this check refusing on a guess.
  const rules = await autopilot.remediator.governance
    .configFor(id.subscriptionId, AbortSignal.timeout(autopilot.settings.budgetSeconds * 1000))
    .catch(() => undefined);
  const governance = rules ? evaluateGovernance(rules, id, undefined, autopilot.remediator.now()) : ({ governed: true } as const);
  // Skips that depend on more than the id (tags, exemptions) are the remediation's to report, as an outcome.
  if (!governance.governed && !['no-matching-rule', 'opted-out', 'exempted'].includes(governance.reason)) {
    return { kind: 'rejected', status: 403, code: 'OutsideGovernedScope', detail: governance.detail, requestId };
  }
  for (const name of request.profiles ?? []) {
    if (!autopilot.rules.profiles.has(name)) {
      return { kind: 'rejected', status: 403, code: 'UnknownProfile', detail: `profile '${name}' is not defined in the rules`, requestId };
    }
  }
  const result = await runRemediation(remediationPorts(autopilot), {
    resourceId: id.id,
    remediationId: requestId,
    correlationId: requestId,
    mode: request.mode,
    trigger,
    requestedProfiles: request.profiles,
    // Plan mode writes nothing, not even to the ledger: it is a question, not an action.
    record: request.mode === 'apply' ? { eventTime: receivedAt } : undefined,
    log: log.child({ requestId }),
    refuse: refusalOf,
  });
  if (result.kind === 'refused') return { ...result.refusal, kind: 'rejected', requestId };
  // Collapsing and waiting come from a claim, which a manual run does not take.
  if (result.kind !== 'finished')
    throw new AutopilotError('UnexpectedClaim', `a manual remediation takes no claim, yet it ended ${result.kind}`);
  return { kind: 'done', requestId, outcome: result.outcome };
}

type OutcomeRefusal = Omit<Extract<ManualResult, { kind: 'rejected' }>, 'kind' | 'requestId'>;

/** Outcomes a caller gets as a refusal of the request rather than as an outcome; never recorded. */
function refusalOf(outcome: RemediationOutcome): OutcomeRefusal | undefined {
  const selection = outcome.errors.find((e) => SELECTION_ERRORS.has(e.code));
  if (selection) return { status: 403, code: selection.code as 'UnknownProfile' | 'ProfileNotSelectable', detail: selection.message };
  const invalid = outcome.errors.find(
    (e) => e.code === 'ScopeTemplateUnresolved' || e.code === 'ScopeOutsideGovernedSubscriptions' || e.code === 'IdentityTemplateInvalid',
  );
  if (invalid) return { status: 422, code: 'RulesNotApplicable', detail: invalid.message };
  return undefined;
}
