import { type ArmResourceId, parseArmId, tryParseArmId } from '../arm/resource-id';
import { isProvisioningBusy } from '../arm/resource-types';
import { evaluateGovernance, type RulesConfig, withResolvedSubscriptions } from '../config';
import { ResourceGoneError } from '../errors';
import { type ApplyResult, type ApplySettings, applyPlan, PartialApplyError } from './apply';
import { assessPlan, type NotApplied } from './assessment';
import type { CallBudget } from './call-budget';
import { type DaprContext, daprFindings, planDaprGrants } from './dapr';
import { DEFAULT_BUSY_RETRY_MS, deferral, failure, type HandOffSettings, handOffReason, type StoppedAt } from './deferral';
import { addFindings, end, type Findings, next, outcomeOf, type Step, toOutcomeError } from './findings';
import { GovernedSubscriptions } from './governed-subscriptions';
import { GrantBlockedError } from './grant-targets';
import type { DeferralReason, HandOffPolicy, ResumePoint } from './hand-off';
import { bookingPastHandOff, plannedWrites, resumedTurnTooFar, throttledPastHandOff } from './pacing';
import { planHasIdentityWork, planRemediation } from './plan';
import { reportPlan } from './plan-report';
import type { EnginePorts } from './ports';
import { DeadlineExceededError } from './retry';
import { revokeExcess } from './revoke-excess';
import { budgetBlocker, DEFAULT_ROLE_ASSIGNMENT_RESERVE } from './role-assignment-budget';
import type { ActionRecord, Plan, RemediationOutcome, ResourceState } from './types';

export interface RemediationRequest {
  resourceId: string;
  correlationId: string;
  /** `plan`: read and plan only, never write. */
  mode: 'plan' | 'apply';
  requestedProfiles?: readonly string[];
  /**
   * Set when the trigger can put the rest of the work on the remediation queue: what cannot finish
   * inside this delivery ends `deferred` with `outcome.deferral` instead of waiting or failing.
   */
  handOff?: HandOffPolicy;
  /** Carrying on a remediation handed off earlier (from its queue message). */
  resume?: ResumePoint;
  /** The remediation's first start (ISO), kept across hand-offs so its one ledger row spans it all. */
  startedAt?: string;
  /**
   * When the trigger received the delivery (epoch ms). The budget counts from it: what the trigger did
   * before (ledger lookups, the claim; seconds when a burst queues hundreds of them) is inside the
   * delivery's time too, and Event Grid stops waiting 30 s after it sent the event, not after we began.
   */
  deliveredAt?: number;
}

export interface RemediatorSettings extends ApplySettings, HandOffSettings {
  /** Wall-clock budget for one remediation; every ARM call and retry shares it. */
  budgetMs: number;
  /** Never write, whatever the rules say (an app-wide dry run). */
  dryRun: boolean;
  /** How long a resolution of `scope.managementGroups` is trusted (default MANAGEMENT_GROUP_TTL_MS). */
  managementGroupTtlMs?: number;
  /** Role assignments left in a subscription below which no new grant is made (default DEFAULT_ROLE_ASSIGNMENT_RESERVE). */
  roleAssignmentReserve?: number;
  /** The time exemptions are judged at (the rules file's `exemptions:` expire); default: the real time. Tests set it. */
  clock?: () => Date;
}

/** Governance checks that need only the id: they cost no ARM call. */
const ID_ONLY_SKIPS = new Set(['subscription-not-governed', 'resource-group-not-governed', 'type-not-governed', 'child-resource']);

function idOnlySkip(config: RulesConfig, id: ArmResourceId, now: Date): { reason: string; detail: string } | undefined {
  const early = evaluateGovernance(config, id, undefined, now);
  return !early.governed && ID_ONLY_SKIPS.has(early.reason) ? { reason: early.reason, detail: early.detail } : undefined;
}

/** The time a delivery keeps back at the end of its budget to enqueue the rest and record the outcome. */
export function handOffTime(clock: number, budgetMs: number): number {
  return clock + budgetMs - Math.min(3000, budgetMs * 0.2);
}

/** One remediation's fixed facts, settled before its first step. */
interface RunStart {
  request: RemediationRequest;
  /** When the remediation first started (kept across hand-offs). */
  started: number;
  handOffAt?: number;
}

/** A governed resource: its id and the one rules config its remediation runs under. */
interface Governed {
  id: ArmResourceId;
  config: RulesConfig;
}

/** Everything the steps after governance share; none of it changes during the run. */
interface RunContext extends RunStart, Governed {
  budget: CallBudget;
  resume?: ResumePoint;
}

/** Where the plan stands once planned: the plan, and what the Dapr step read for apply. */
interface Planned {
  plan: Plan;
  dapr?: DaprContext;
}

/** Plan, then apply: the one entry point every trigger and the CLI use. */
export class Remediator {
  /** The governed subscriptions, management groups resolved through ARM and cached (shared with the sweep). */
  readonly governance: GovernedSubscriptions;

  constructor(
    config: RulesConfig,
    private readonly ports: EnginePorts,
    private readonly settings: RemediatorSettings,
  ) {
    this.governance = new GovernedSubscriptions(config, ports.managementGroups, { ttlMs: settings.managementGroupTtlMs });
  }

  /**
   * The skip decision that needs only the id (subscription, resource group, type, child): no ARM call,
   * no ledger lookup. Undefined when the resource may be governed. A subscription that only a
   * management group could govern, with no fresh resolution at hand, is left to `remediate`.
   */
  skipByIdAlone(resourceId: string): { reason: string; detail: string } | undefined {
    const id = tryParseArmId(resourceId);
    if (!id) return undefined;
    const known = this.governance.known();
    const config =
      id.subscriptionId && this.governance.undecided(id.subscriptionId) ? withResolvedSubscriptions(known, [id.subscriptionId]) : known;
    return idOnlySkip(config, id, this.now());
  }

  /** The time exemptions are judged at: the settings' clock (tests), else the real time. */
  now(): Date {
    return this.settings.clock?.() ?? new Date();
  }

  /** The steps of a remediation: governance, then (for a governed resource) read, plan, and apply or assess. */
  async remediate(request: RemediationRequest): Promise<RemediationOutcome> {
    const start = this.start(request);
    const governed = await this.resolveGovernance(request);
    if (governed.kind === 'end') return outcomeOf(request, start.started, governed.findings);
    const context: RunContext = {
      ...start,
      ...governed.value,
      budget: { signal: AbortSignal.timeout(this.settings.budgetMs), handOffAt: start.handOffAt },
      resume: request.resume,
    };
    return outcomeOf(request, start.started, addFindings(governed.findings ?? {}, await this.remediateGoverned(context)));
  }

  private start(request: RemediationRequest): RunStart {
    const clock = request.deliveredAt !== undefined && request.deliveredAt <= Date.now() ? request.deliveredAt : Date.now();
    const started = request.startedAt && Number.isFinite(Date.parse(request.startedAt)) ? Date.parse(request.startedAt) : clock;
    return { request, started, ...(request.handOff ? { handOffAt: handOffTime(clock, this.settings.budgetMs) } : {}) };
  }

  /** The id, and the rules config the resource is governed by (or why not, when the id alone tells). */
  private async resolveGovernance(request: RemediationRequest): Promise<Step<Governed>> {
    const id = tryParseArmId(request.resourceId);
    if (!id) return end({ errors: invalidIdErrors(request.resourceId) });
    const found: Findings = { resourceType: id.type };
    let config: RulesConfig;
    try {
      // Under management groups: is this subscription under one of them now (cached, see governed-subscriptions.ts)?
      config = await this.governance.configFor(id.subscriptionId, AbortSignal.timeout(this.settings.budgetMs));
    } catch (e) {
      return end({
        ...found,
        errors: [toOutcomeError(isTimeout(e) ? new DeadlineExceededError('resolving the management groups', e) : e)],
      });
    }
    const early = idOnlySkip(config, id, this.now());
    if (early) return end({ ...found, status: 'skipped', skipped: [early] });
    return next({ id, config }, found);
  }

  /** Read, plan, then apply or assess; any error ends in a hand-off or a failure. */
  private async remediateGoverned(context: RunContext): Promise<Findings> {
    // Every action of this remediation, earlier deliveries' included: its one ledger row lists them all.
    let at: StoppedAt = {
      resourceId: context.request.resourceId,
      handOff: context.request.handOff,
      resume: context.resume,
      actions: [...(context.resume?.actions ?? [])],
      pending: context.resume?.operation,
    };
    let known: Findings = {};
    try {
      const held = this.holdBeforeAnyCall(context, at);
      if (held) return held;
      at = { ...at, actions: await this.finishPendingWrite(context, at.actions), pending: undefined };
      const read = await this.readResource(context, at.actions);
      known = addFindings(known, read.findings);
      if (read.kind === 'end') return known;
      at = { ...at, ...read.value };
      const planned = this.plan(context, read.value.resource);
      known = addFindings(known, planned.findings);
      if (planned.kind === 'end') return known;
      at = { ...at, plan: planned.value };
      const withDapr = await this.planDapr(context, read.value.resource, planned.value);
      known = addFindings(known, withDapr.findings);
      if (withDapr.kind === 'end') return known;
      at = { ...at, plan: withDapr.value.plan };
      return addFindings(known, await this.applyOrAssess(context, read.value.resource, withDapr.value, at));
    } catch (e) {
      return addFindings(known, this.stopped(e, at));
    }
  }

  /** Checks that need no ARM call: a throttled subscription, or a resumed remediation whose turn is far. */
  private holdBeforeAnyCall(context: RunContext, at: StoppedAt): Findings | undefined {
    const subscriptionId = context.id.subscriptionId!;
    const throttled = throttledPastHandOff(this.ports.pacing, subscriptionId, context.handOffAt);
    if (throttled) return this.defer(at, 'throttled', throttled.detail, throttled.delayMs, { operation: at.pending });
    if (!context.resume || context.resume.operation) return undefined;
    const far = resumedTurnTooFar(this.ports.pacing, subscriptionId, context.handOffAt);
    return far ? this.defer(at, 'throttled', far.detail, far.delayMs) : undefined;
  }

  /** Our write was accepted by an earlier delivery and may still run: poll it, never send it again. */
  private async finishPendingWrite(context: RunContext, actions: ActionRecord[]): Promise<ActionRecord[]> {
    const operation = context.resume?.operation;
    if (!operation) return actions;
    await this.ports.resources.resumeWrite(operation, context.budget);
    return [...actions, { kind: 'identity-written', from: operation.from, to: operation.to }];
  }

  private async readResource(
    context: RunContext,
    actions: ActionRecord[],
  ): Promise<Step<{ resource: ResourceState; actions: ActionRecord[] }>> {
    const resource = await this.ports.resources.read(context.request.resourceId, context.budget);
    if (!resource) return end({ status: 'gone', actions, skipped: [{ reason: 'resource-gone', detail: 'the resource no longer exists' }] });
    // An identity written by an earlier delivery: its principal is known now.
    const completed = actions.map((a) =>
      a.kind === 'identity-written' && !a.principalId ? { ...a, principalId: resource.identity.principalId } : a,
    );
    return next(
      { resource, actions: completed },
      {
        resourceType: resource.type,
        identityBefore: context.resume?.operation?.from ?? resource.identity.type,
        identityAfter: resource.identity.type,
      },
    );
  }

  /** The plan under the run's rules config: pure, no ARM call. */
  private plan(context: RunContext, resource: ResourceState): Step<Plan> {
    const planned = planRemediation(resource, context.config, { requestedProfiles: context.request.requestedProfiles, now: this.now() });
    if (planned.kind === 'skip') return end({ status: 'skipped', skipped: [{ reason: planned.reason, detail: planned.detail }] });
    if (planned.kind === 'invalid') return end({ errors: [{ code: planned.code, message: planned.detail, transient: false }] });
    const { plan } = planned;
    const found: Findings = { plan: reportPlan(plan), rule: plan.rule, mode: plan.mode, grantee: plan.grantee };
    // Nothing is written, not even the roles: they would go to an identity the workload does not have.
    if (plan.blockers.length > 0) return end({ ...found, status: 'blocked', blockers: [...plan.blockers] });
    return next(plan, found);
  }

  /** A Dapr app under a rule with a `dapr` section: its components' grants join the plan (read-only). */
  private async planDapr(context: RunContext, resource: ResourceState, plan: Plan): Promise<Step<Planned>> {
    const options = context.config.rules.find((r) => r.name === plan.rule)?.dapr;
    const dapr = options ? await planDaprGrants(plan, resource, options, this.ports, context.budget) : undefined;
    return dapr ? next({ plan: dapr.plan, dapr: dapr.context }, { plan: reportPlan(dapr.plan) }) : next({ plan });
  }

  private notApplied(context: RunContext, plan: Plan): NotApplied | undefined {
    if (context.request.mode === 'plan') return 'plan mode';
    if (plan.mode !== 'enforce') return 'report-only';
    return this.settings.dryRun ? 'dry run' : undefined;
  }

  private async applyOrAssess(context: RunContext, resource: ResourceState, { plan, dapr }: Planned, at: StoppedAt): Promise<Findings> {
    const why = this.notApplied(context, plan);
    if (why) return assessPlan(plan, context.config, resource, dapr, this.ports, context.budget, why);
    // An operation is running on the resource (its creation, someone's update): writing now would
    // conflict or be overwritten. Look again once that operation had time to end.
    if (context.request.handOff && planHasIdentityWork(plan) && isProvisioningBusy(resource.provisioningState)) {
      return this.defer(
        at,
        'resource-busy',
        `the resource is ${resource.provisioningState}: its identity is written once that operation ends`,
        resource.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS,
      );
    }
    // A resumed remediation had its turn booked already; a first attempt books its writes now.
    const booked = context.resume
      ? undefined
      : bookingPastHandOff(this.ports.pacing, resource.subscriptionId, plannedWrites(plan), context.handOffAt);
    if (booked) return this.defer(at, 'throttled', booked.detail, booked.delayMs);
    const short = await this.budgetShort(plan, resource, dapr, context);
    if (short) return short;
    const result = await applyPlan(plan, resource, this.ports, this.settings, context.budget, {
      actions: at.actions,
      principalIsNew: context.resume?.principalIsNew,
      dapr,
    });
    const done = applied(plan, result);
    const revoked = await revokeExcess(plan, context.config, result.principalId, this.ports, context.budget);
    if (!revoked) return done;
    const removedAny = (revoked.removed ?? []).some((r) => r.status === 'removed');
    return addFindings(done, { ...revoked, ...(removedAny && done.status === 'compliant' ? { status: 'remediated' } : {}) });
  }

  /**
   * The role-assignment budget: when a subscription of the plan's scopes is short of slots, a plan that
   * would add grants is blocked (`RoleAssignmentBudget`) before any write; one that adds none goes on.
   */
  private async budgetShort(
    plan: Plan,
    resource: ResourceState,
    dapr: DaprContext | undefined,
    context: RunContext,
  ): Promise<Findings | undefined> {
    const reserve = this.settings.roleAssignmentReserve ?? DEFAULT_ROLE_ASSIGNMENT_RESERVE;
    const blocker = await budgetBlocker(plan, this.ports, reserve, context.budget);
    if (!blocker) return undefined;
    const assessed = await assessPlan(plan, context.config, resource, dapr, this.ports, context.budget, 'plan mode');
    const adds = planHasIdentityWork(plan) || (assessed.plan?.roleAssignments ?? []).some((r) => r.present === false);
    return adds ? { ...assessed, status: 'blocked', blockers: [blocker], skipped: [] } : undefined;
  }

  private defer(at: StoppedAt, reason: DeferralReason, detail: string, retryAfterMs: number, next?: Partial<ResumePoint>): Findings {
    return deferral(at, this.settings, { reason, detail, retryAfterMs, next });
  }

  /** An error ends the run: the resource is gone, the rest is handed off, or it fails here. */
  private stopped(e: unknown, at: StoppedAt): Findings {
    let findings: Findings = { actions: at.actions };
    if (e instanceof PartialApplyError) findings = addFindings(findings, applied(at.plan!, e.partial));
    const error = isTimeout(e) ? new DeadlineExceededError('the remediation', e) : e;
    // Deleted between our read and our write: nothing is left to fix, and retrying would loop.
    if (error instanceof ResourceGoneError)
      return addFindings(findings, { status: 'gone', skipped: [{ reason: 'resource-gone', detail: error.message }] });
    // A grant Azure would ignore (an access-policy vault): a person must act, so nothing is retried.
    if (error instanceof GrantBlockedError) return addFindings(findings, { status: 'blocked', blockers: [error.blocker] });
    const why = at.handOff ? handOffReason(error, at, this.settings, this.ports.pacing) : undefined;
    if (why) return addFindings(findings, this.defer(at, why.reason, why.detail, why.retryAfterMs, { operation: at.pending, ...why.next }));
    return addFindings(findings, failure(error, at, this.settings));
  }
}

const isTimeout = (e: unknown) => e instanceof DOMException && e.name === 'TimeoutError';

function invalidIdErrors(resourceId: string): Findings['errors'] {
  try {
    parseArmId(resourceId);
    return [];
  } catch (e) {
    return [toOutcomeError(e)];
  }
}

/** What applying did, as the outcome says it. */
function applied(plan: Plan, result: ApplyResult): Findings {
  const wrote = result.actions.some(
    (a) =>
      a.kind !== 'role-already-assigned' &&
      a.kind !== 'cosmos-role-already-assigned' &&
      a.kind !== 'user-assigned-identity-reused' &&
      a.kind !== 'federated-credential-exists',
  );
  // Azure accepted the identity, but the workload cannot use it until someone finishes the step.
  const pending = result.pending && result.pending.length > 0 ? result.pending : undefined;
  return {
    principalId: result.principalId,
    ...(result.grantee ? { grantee: result.grantee } : {}),
    identityAfter: result.identityAfter,
    actions: result.actions,
    ...(result.workloadIdentities ? { workloadIdentities: result.workloadIdentities } : {}),
    plan: reportPlan(plan, result.observed),
    skipped: daprFindings(plan, result.observed.daprClientIds),
    status: pending ? 'pending' : wrote ? 'remediated' : 'compliant',
    ...(pending ? { blockers: pending } : {}),
  };
}
