import { parseArmId, tryParseArmId } from '../arm/resource-id';
import { evaluateGovernance, type RulesConfig } from '../config';
import { isAutopilotError, ResourceGoneError } from '../errors';
import { type ApplyResult, type ApplySettings, applyPlan, assessRoleAssignments, isTransient, PartialApplyError } from './apply';
import { verifyGrantTargets } from './grant-targets';
import { knownPrincipal, planHasIdentityWork, planRemediation } from './plan';
import type { EnginePorts } from './ports';
import { DeadlineExceededError } from './retry';
import type { OutcomeError, Plan, RemediationOutcome } from './types';

export interface RemediationRequest {
  resourceId: string;
  correlationId: string;
  /** `plan`: read and plan only, never write. */
  mode: 'plan' | 'apply';
  requestedProfiles?: readonly string[];
}

export interface RemediatorSettings extends ApplySettings {
  /** Wall-clock budget for one remediation; every ARM call and retry shares it. */
  budgetMs: number;
  /** Never write, whatever the rules say (an app-wide dry run). */
  dryRun: boolean;
}

/** Governance checks that need only the id: they cost no ARM call. */
const ID_ONLY_SKIPS = new Set(['subscription-not-governed', 'resource-group-not-governed', 'type-not-governed', 'child-resource']);

function toOutcomeError(e: unknown): OutcomeError {
  if (e instanceof PartialApplyError) return { code: e.code, message: e.message, transient: isTransient(e) };
  if (isAutopilotError(e)) return { code: e.code, message: e.message, transient: isTransient(e) };
  return { code: 'InternalError', message: e instanceof Error ? e.message : String(e), transient: false };
}

function planNeedsWrites(plan: Plan, missingRoles: number): boolean {
  return planHasIdentityWork(plan) || missingRoles > 0;
}

/** Plan, then apply: the one entry point every trigger and the CLI use. */
export class Remediator {
  constructor(
    private readonly config: RulesConfig,
    private readonly ports: EnginePorts,
    private readonly settings: RemediatorSettings,
  ) {}

  /**
   * The skip decision that needs only the id (subscription, resource group, type, child): no ARM call,
   * no ledger lookup. Undefined when the resource may be governed.
   */
  skipByIdAlone(resourceId: string): { reason: string; detail: string } | undefined {
    const id = tryParseArmId(resourceId);
    if (!id) return undefined;
    const early = evaluateGovernance(this.config, id, undefined);
    return !early.governed && ID_ONLY_SKIPS.has(early.reason) ? { reason: early.reason, detail: early.detail } : undefined;
  }

  async remediate(request: RemediationRequest): Promise<RemediationOutcome> {
    const started = Date.now();
    const outcome: RemediationOutcome = {
      correlationId: request.correlationId,
      resourceId: request.resourceId,
      status: 'failed',
      actions: [],
      skipped: [],
      errors: [],
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
    };
    const finish = (): RemediationOutcome => {
      outcome.durationMs = Date.now() - started;
      return outcome;
    };
    const id = tryParseArmId(request.resourceId);
    if (!id) {
      try {
        parseArmId(request.resourceId);
      } catch (e) {
        outcome.errors.push(toOutcomeError(e));
      }
      return finish();
    }
    outcome.resourceType = id.type;
    const early = this.skipByIdAlone(request.resourceId);
    if (early) {
      outcome.status = 'skipped';
      outcome.skipped.push(early);
      return finish();
    }
    const signal = AbortSignal.timeout(this.settings.budgetMs);
    try {
      const resource = await this.ports.resources.read(request.resourceId, signal);
      if (!resource) {
        outcome.status = 'gone';
        outcome.skipped.push({ reason: 'resource-gone', detail: 'the resource no longer exists' });
        return finish();
      }
      outcome.resourceType = resource.type;
      outcome.identityBefore = resource.identity.type;
      outcome.identityAfter = resource.identity.type;
      const planned = planRemediation(resource, this.config, { requestedProfiles: request.requestedProfiles });
      if (planned.kind === 'skip') {
        outcome.status = 'skipped';
        outcome.skipped.push({ reason: planned.reason, detail: planned.detail });
        return finish();
      }
      if (planned.kind === 'invalid') {
        outcome.errors.push({ code: planned.code, message: planned.detail, transient: false });
        return finish();
      }
      const { plan } = planned;
      outcome.plan = plan;
      outcome.rule = plan.rule;
      outcome.mode = plan.mode;
      outcome.grantee = plan.grantee;
      if (plan.blockers.length > 0) {
        // Nothing is written, not even the roles: they would go to an identity the workload does not have.
        outcome.status = 'blocked';
        outcome.blockers = plan.blockers;
        return finish();
      }
      const writesAllowed = request.mode === 'apply' && plan.mode === 'enforce' && !this.settings.dryRun;
      if (!writesAllowed) {
        // A plan must not show a grant that apply would refuse.
        await verifyGrantTargets(plan, this.ports, signal);
        const known = knownPrincipal(plan);
        const assessed = await assessRoleAssignments(plan, known, this.ports, signal, { principalIsNew: !known });
        outcome.principalId = known;
        plan.roleAssignments = assessed;
        const missing = assessed.filter((r) => !r.present).length;
        outcome.status = planNeedsWrites(plan, missing) ? 'planned' : 'compliant';
        if (outcome.status === 'planned') {
          const why = request.mode === 'plan' ? 'plan mode' : plan.mode === 'report' ? `rule '${plan.rule}' is report-only` : 'dry run';
          outcome.skipped.push({ reason: 'not-applied', detail: `changes are needed but were not made: ${why}` });
        }
        return finish();
      }
      const result = await applyPlan(plan, resource, this.ports, this.settings, signal);
      this.record(outcome, plan, result);
      return finish();
    } catch (e) {
      if (e instanceof PartialApplyError) this.record(outcome, outcome.plan!, e.partial);
      const error = e instanceof DOMException && e.name === 'TimeoutError' ? new DeadlineExceededError('the remediation', e) : e;
      if (error instanceof ResourceGoneError) {
        // Deleted between our read and our write: nothing is left to fix, and retrying would loop.
        outcome.status = 'gone';
        outcome.skipped.push({ reason: 'resource-gone', detail: error.message });
        return finish();
      }
      outcome.status = 'failed';
      outcome.errors.push(toOutcomeError(error));
      return finish();
    }
  }

  private record(outcome: RemediationOutcome, plan: Plan, result: ApplyResult): void {
    outcome.principalId = result.principalId;
    outcome.grantee = result.grantee ?? outcome.grantee;
    outcome.identityAfter = result.identityAfter;
    outcome.actions = result.actions;
    plan.roleAssignments = result.roleAssignments;
    const wrote = result.actions.some((a) => a.kind !== 'role-already-assigned' && a.kind !== 'user-assigned-identity-reused');
    outcome.status = wrote ? 'remediated' : 'compliant';
    // Azure accepted the identity, but the workload cannot use it until someone finishes the step.
    if (result.pending && result.pending.length > 0) {
      outcome.status = 'pending';
      outcome.blockers = result.pending;
    }
  }
}
