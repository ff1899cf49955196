import { parseArmId, tryParseArmId } from '../arm/resource-id';
import { isProvisioningBusy } from '../arm/resource-types';
import { evaluateGovernance, type RulesConfig, withResolvedSubscriptions } from '../config';
import type { ArmResourceId } from '../arm/resource-id';
import { type ArmCallError, isArmCallError, isAutopilotError, ResourceGoneError } from '../errors';
import { type ApplyResult, type ApplySettings, applyPlan, assessRoleAssignments, isTransient, markPresent, PartialApplyError, resolveRoles } from './apply';
import { assessWorkloadIdentities } from './workload-identity';
import { verifyGrantTargets } from './grant-targets';
import { type DaprContext, daprFindings, decideClientIds, identityCount, planDaprGrants } from './dapr';
import { markCosmosPresent } from './data-plane';
import {
  authorizationRetryDelayMs,
  type Deferral,
  type DeferralReason,
  type HandOffPolicy,
  missingPermissionMessage,
  nextResumePoint,
  type PendingWrite,
  type ResumePoint,
  transientRetryDelayMs,
} from './hand-off';
import { type CallBudget, TurnPastHandOffError, WriteStillRunningError } from './call-budget';
import { GovernedSubscriptions } from './governed-subscriptions';
import { knownPrincipal, planHasIdentityWork, planRemediation } from './plan';
import type { EnginePorts } from './ports';
import { DeadlineExceededError } from './retry';
import type { ActionRecord, IdentityState, OutcomeError, Plan, RemediationOutcome, ResourceState } from './types';

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

export interface RemediatorSettings extends ApplySettings {
  /** Wall-clock budget for one remediation; every ARM call and retry shares it. */
  budgetMs: number;
  /** Never write, whatever the rules say (an app-wide dry run). */
  dryRun: boolean;
  /** How long after the first 403 authorization failures are retried through hand-offs. */
  authorizationRetryWindowMs: number;
  /** Most hand-offs of one remediation for reasons other than authorization (bounded by its window). */
  maxHandOffs?: number;
  /** How long a resolution of `scope.managementGroups` is trusted (default MANAGEMENT_GROUP_TTL_MS). */
  managementGroupTtlMs?: number;
}

/**
 * Default bound on hand-offs (the authorization window bounds 403s on its own): at a running write's
 * ~25 s per delivery, 40 minutes of polling; at AKS's 60 s busy wait, over an hour and a half.
 */
const DEFAULT_MAX_HAND_OFFS = 100;

function isAuthorizationFailure(e: unknown): e is ArmCallError {
  return isArmCallError(e) && e.status === 403 && (e.code === 'AuthorizationFailed' || e.code === 'LinkedAuthorizationFailed');
}

/** The first authorization failure in an error (a partial apply holds one per failed grant). */
function authorizationFailureIn(e: unknown): ArmCallError | undefined {
  if (isAuthorizationFailure(e)) return e;
  if (e instanceof PartialApplyError) return e.failures.find(isAuthorizationFailure);
  return undefined;
}

/**
 * Longest wait for ARM's write budget a remediation back from the queue sits through in its queue
 * worker; past it, it goes back to the queue. See the check in run(). The host processes at most
 * batchSize + newBatchThreshold messages of a queue function at once per instance (QueuesOptions.BatchSize,
 * Microsoft.Azure.WebJobs.Extensions.Storage.Queues: "The maximum number of messages processed in parallel
 * by the job is NewBatchThreshold plus BatchSize"): 12 with this app's host.json.
 */
const RESUMED_HOLD_MS = 3000;

/**
 * Longest queue delay of a hand-off that waits for ARM's write budget. The wait is this instance's
 * estimate of its share of a budget that other instances spend too; once a message is on the queue its
 * delay cannot be shortened, so an estimate that proves too long would leave the budget unused. Past
 * this delay the remediation comes back and is paced, or sent back again, by what ARM says then (a 429's
 * Retry-After is never cut: the gate check at the start sends it back before any call).
 */
const MAX_PACED_DELAY_MS = 20_000;

/** How long to wait for a busy resource when its type module is not known (before the read). */
const DEFAULT_BUSY_RETRY_MS = 15_000;

/** Governance checks that need only the id: they cost no ARM call. */
const ID_ONLY_SKIPS = new Set(['subscription-not-governed', 'resource-group-not-governed', 'type-not-governed', 'child-resource']);

function toOutcomeError(e: unknown): OutcomeError {
  if (e instanceof PartialApplyError) return { code: e.code, message: e.message, transient: isTransient(e) };
  if (isArmCallError(e) && e.permission) return { code: e.code, message: e.message, transient: isTransient(e), permission: e.permission };
  if (isAutopilotError(e)) return { code: e.code, message: e.message, transient: isTransient(e) };
  return { code: 'InternalError', message: e instanceof Error ? e.message : String(e), transient: false };
}

/** ARM writes a plan makes at most: the user-assigned identity, the identity write, every grant. */
function plannedWrites(plan: Plan): number {
  return (plan.userAssignedIdentity ? 1 : 0) + (plan.identity.action === 'write' ? 1 : 0) + plan.roleAssignments.length;
}

function idOnlySkip(config: RulesConfig, id: ArmResourceId): { reason: string; detail: string } | undefined {
  const early = evaluateGovernance(config, id, undefined);
  return !early.governed && ID_ONLY_SKIPS.has(early.reason) ? { reason: early.reason, detail: early.detail } : undefined;
}

function planNeedsWrites(plan: Plan, missingRoles: number): boolean {
  return planHasIdentityWork(plan) || missingRoles > 0;
}

/** Plan, then apply: the one entry point every trigger and the CLI use. */
export class Remediator {
  /** The governed subscriptions, management groups resolved through ARM and cached (shared with the sweep). */
  readonly governance: GovernedSubscriptions;

  constructor(
    private readonly config: RulesConfig,
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
    const config = id.subscriptionId && this.governance.undecided(id.subscriptionId) ? withResolvedSubscriptions(known, [id.subscriptionId]) : known;
    return idOnlySkip(config, id);
  }

  async remediate(request: RemediationRequest): Promise<RemediationOutcome> {
    const clock = request.deliveredAt !== undefined && request.deliveredAt <= Date.now() ? request.deliveredAt : Date.now();
    const budget = this.settings.budgetMs;
    // Time kept back at the end of the budget to enqueue the rest and record the outcome.
    const handOffAt = request.handOff ? clock + budget - Math.min(3000, budget * 0.2) : undefined;
    return this.run(request, clock, handOffAt);
  }

  private async run(request: RemediationRequest, clock: number, handOffAt: number | undefined): Promise<RemediationOutcome> {
    const started = request.startedAt && Number.isFinite(Date.parse(request.startedAt)) ? Date.parse(request.startedAt) : clock;
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
    let config: RulesConfig;
    try {
      // Under management groups: is this subscription under one of them now (cached, see governed-subscriptions.ts)?
      config = await this.governance.configFor(id.subscriptionId, AbortSignal.timeout(this.settings.budgetMs));
    } catch (e) {
      outcome.errors.push(toOutcomeError(e instanceof DOMException && e.name === 'TimeoutError' ? new DeadlineExceededError('resolving the management groups', e) : e));
      return finish();
    }
    const early = idOnlySkip(config, id);
    if (early) {
      outcome.status = 'skipped';
      outcome.skipped.push(early);
      return finish();
    }
    // Every port call of this remediation gets its deadline and hand-off time: a call whose turn would come later is not waited for.
    const budget: CallBudget = { signal: AbortSignal.timeout(this.settings.budgetMs), handOffAt };
    const resume = request.resume;
    // Every action of this remediation, earlier deliveries' included: its one ledger row lists them all.
    const progress: ActionRecord[] = [...(resume?.actions ?? [])];
    let resource: ResourceState | undefined;
    // A write of ours still to be polled: every hand-off before it ends carries it on.
    let pending = resume?.operation;
    const defer = (reason: DeferralReason, detail: string, retryAfterMs: number, next: Partial<ResumePoint> = {}): RemediationOutcome => {
      outcome.actions = progress;
      const handOffs = (resume?.attempt ?? 0) + 1;
      if (reason !== 'authorization-propagating' && handOffs > (this.settings.maxHandOffs ?? DEFAULT_MAX_HAND_OFFS)) {
        outcome.status = 'failed';
        outcome.errors.push({ code: 'HandOffLimitReached', message: `still not done after ${handOffs - 1} hand-offs: ${detail}`, transient: false });
        return finish();
      }
      outcome.status = 'deferred';
      const deferral: Deferral = { reason, detail, retryAfterMs: Math.max(0, Math.round(retryAfterMs)), resume: nextResumePoint(resume, progress, outcome.plan, next) };
      outcome.deferral = deferral;
      return finish();
    };
    try {
      // ARM is throttling this subscription for longer than this delivery can wait: no call at all.
      const closedFor = request.handOff ? (this.ports.pacing?.closedForMs(id.subscriptionId!) ?? 0) : 0;
      if (handOffAt !== undefined && closedFor > 0 && Date.now() + closedFor > handOffAt) {
        return defer('throttled', `ARM throttled the app's calls to this subscription; they resume in ${Math.ceil(closedFor / 1000)} s`, closedFor, { operation: pending });
      }
      // A remediation back from the queue holds one of the host's few queue workers while it waits for
      // its writes' turn. When that turn is far (its booking was early, or other instances took the
      // budget), waiting would starve remediations of other subscriptions whose budget is idle: it goes
      // back to the queue until then, before any ARM call.
      if (resume && !resume.operation && handOffAt !== undefined && this.ports.pacing) {
        const turn = this.ports.pacing.writeTurnMs(id.subscriptionId!);
        if (turn > RESUMED_HOLD_MS) {
          // Back behind this instance's own bookings: returns of many remediations spread out instead of all coming back together.
          const wait = Math.max(turn, this.ports.pacing.bookWrites(id.subscriptionId!, 1));
          return defer('throttled', `the app's writes to this subscription already waiting in this instance take ARM's remaining budget for the next ${Math.ceil(turn / 1000)} s`, this.pacedDelayMs(id.subscriptionId!, wait));
        }
      }
      if (resume?.operation) {
        // Our write was accepted earlier and may still run: poll it, never send it again.
        await this.ports.resources.resumeWrite(resume.operation, budget);
        progress.push({ kind: 'identity-written', from: resume.operation.from, to: resume.operation.to });
        pending = undefined;
      }
      resource = await this.ports.resources.read(request.resourceId, budget);
      if (!resource) {
        outcome.status = 'gone';
        outcome.actions = progress;
        outcome.skipped.push({ reason: 'resource-gone', detail: 'the resource no longer exists' });
        return finish();
      }
      const found = resource;
      for (const a of progress) if (a.kind === 'identity-written' && !a.principalId) a.principalId = found.identity.principalId;
      outcome.resourceType = resource.type;
      outcome.identityBefore = resume?.operation?.from ?? resource.identity.type;
      outcome.identityAfter = resource.identity.type;
      const planned = planRemediation(resource, config, { requestedProfiles: request.requestedProfiles });
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
      // A Dapr app under a rule with a `dapr` section: its components' grants join the plan (read-only).
      const daprOptions = this.config.rules.find((r) => r.name === plan.rule)?.dapr;
      const dapr = daprOptions ? await planDaprGrants(plan, resource, daprOptions, this.ports, budget) : undefined;
      const writesAllowed = request.mode === 'apply' && plan.mode === 'enforce' && !this.settings.dryRun;
      if (!writesAllowed) {
        // A plan must not show a grant that apply would refuse.
        await verifyGrantTargets(plan, this.ports, budget);
        let needsWrites: boolean;
        if (plan.workloadIdentities) {
          // AKS workload identity: each service account's identity, credential and roles, read-only.
          const resolved = await resolveRoles(plan, this.ports, budget);
          const assessed = await assessWorkloadIdentities(plan.workloadIdentities, this.ports, budget, (principalId) =>
            markPresent(resolved, principalId, this.ports, budget, { principalIsNew: !principalId }),
          );
          plan.roleAssignments = resolved;
          outcome.workloadIdentities = assessed.results;
          needsWrites = !assessed.complete || plan.clusterChange !== undefined;
        } else {
          const known = knownPrincipal(plan);
          const assessed = await assessRoleAssignments(plan, known, this.ports, budget, { principalIsNew: !known });
          outcome.principalId = known;
          plan.roleAssignments = assessed;
          await markCosmosPresent(plan, known, this.ports, budget, { principalIsNew: !known });
          if (dapr) decideClientIds(plan, dapr, resource.id, plan.grantee, identityCount(identityAfterPlan(plan, resource.identity)));
          outcome.skipped.push(...daprFindings(plan));
          const missing =
            assessed.filter((r) => !r.present).length +
            (plan.dataPlaneRoleAssignments ?? []).filter((r) => !r.present).length +
            (plan.dapr?.components ?? []).filter((c) => c.clientId?.action === 'write').length;
          needsWrites = planNeedsWrites(plan, missing);
        }
        outcome.status = needsWrites ? 'planned' : 'compliant';
        if (outcome.status === 'planned') {
          const why = request.mode === 'plan' ? 'plan mode' : plan.mode === 'report' ? `rule '${plan.rule}' is report-only` : 'dry run';
          outcome.skipped.push({ reason: 'not-applied', detail: `changes are needed but were not made: ${why}` });
        }
        return finish();
      }
      // An operation is running on the resource (its creation, someone's update): writing now would
      // conflict or be overwritten. Look again once that operation had time to end.
      if (request.handOff && planHasIdentityWork(plan) && isProvisioningBusy(resource.provisioningState)) {
        return defer('resource-busy', `the resource is ${resource.provisioningState}: its identity is written once that operation ends`, resource.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS);
      }
      // Load levelling: a first attempt books its writes against ARM's remaining budget; when they could
      // not all go inside this delivery, none is started and the remediation waits on the queue for its
      // turn instead. A resumed one has had its turn booked already: it goes to the pacing directly (which
      // hands it off again only if the pace itself cannot serve it in time), so returns never queue
      // behind newer bookings.
      if (handOffAt !== undefined && this.ports.pacing && !resume) {
        const wait = this.ports.pacing.bookWrites(resource.subscriptionId, plannedWrites(plan));
        if (wait > 0 && Date.now() + wait > handOffAt) {
          return defer('throttled', `ARM's remaining write budget for this subscription, shared by every instance of the app, reaches this remediation in about ${Math.ceil(wait / 1000)} s`, this.pacedDelayMs(resource.subscriptionId, wait));
        }
      }
      const result = await applyPlan(plan, resource, this.ports, this.settings, budget, { actions: progress, principalIsNew: resume?.principalIsNew, dapr });
      this.record(outcome, plan, result);
      return finish();
    } catch (e) {
      outcome.actions = progress;
      if (e instanceof PartialApplyError) this.record(outcome, outcome.plan!, e.partial);
      const error = e instanceof DOMException && e.name === 'TimeoutError' ? new DeadlineExceededError('the remediation', e) : e;
      if (error instanceof ResourceGoneError) {
        // Deleted between our read and our write: nothing is left to fix, and retrying would loop.
        outcome.status = 'gone';
        outcome.skipped.push({ reason: 'resource-gone', detail: error.message });
        return finish();
      }
      if (request.handOff) {
        const deferred = this.deferralFor(error, request, resource, outcome.plan, (reason, detail, ms, next = {}) => defer(reason, detail, ms, { operation: pending, ...next }));
        if (deferred) return deferred;
      }
      outcome.status = 'failed';
      const authorization = authorizationFailureIn(error);
      if (authorization?.permission) {
        const since = resume?.authorizationFailingSince ? Date.parse(resume.authorizationFailingSince) : undefined;
        const window = since !== undefined ? this.settings.authorizationRetryWindowMs : undefined;
        outcome.errors.push({ code: authorization.code, message: missingPermissionMessage(authorization.permission, window), transient: false, permission: authorization.permission });
        return finish();
      }
      outcome.errors.push(toOutcomeError(error));
      return finish();
    }
  }

  /** What to hand off for an error, or undefined when it fails here (permanent, or out of hand-offs). */
  private deferralFor(
    error: unknown,
    request: RemediationRequest,
    resource: ResourceState | undefined,
    plan: Plan | undefined,
    defer: (reason: DeferralReason, detail: string, retryAfterMs: number, next?: Partial<ResumePoint>) => RemediationOutcome,
  ): RemediationOutcome | undefined {
    const resume = request.resume;
    const attempt = (resume?.attempt ?? 0) + 1;
    if (error instanceof WriteStillRunningError) {
      // Progress, not failure: the write is Azure's now; the next delivery polls the same operation.
      const operation: PendingWrite = resume?.operation ?? {
        resourceId: request.resourceId,
        monitor: error.monitor,
        from: plan?.identity.action === 'write' ? plan.identity.from : (resource?.identity.type ?? 'None'),
        to: plan?.identity.action === 'write' ? plan.identity.to.type : (resource?.identity.type ?? 'None'),
      };
      return defer('operation-running', 'the identity write was accepted and is still running; its operation is polled, not written again', error.retryAfterMs, { operation: { ...operation, monitor: error.monitor } });
    }
    const authorization = authorizationFailureIn(error);
    if (authorization) {
      const now = Date.now();
      const since = resume?.authorizationFailingSince ? Date.parse(resume.authorizationFailingSince) : now;
      const window = this.settings.authorizationRetryWindowMs;
      const elapsed = now - since;
      if (elapsed >= window) return undefined;
      const what = authorization.permission ? `'${authorization.permission.action}' on '${authorization.permission.scope}'` : 'a call';
      return defer(
        'authorization-propagating',
        `ARM refused ${what} (${authorization.code}); a new role assignment of the app can take minutes to reach ARM, so this is retried until ${new Date(since + window).toISOString()}`,
        authorizationRetryDelayMs(window, attempt, elapsed),
        { authorizationFailingSince: new Date(since).toISOString() },
      );
    }
    const subscriptionId = resource?.subscriptionId ?? parseArmId(request.resourceId).subscriptionId!;
    const paced = error instanceof TurnPastHandOffError ? error : error instanceof PartialApplyError ? error.failures.find((f) => f instanceof TurnPastHandOffError) : undefined;
    if (paced) return defer('throttled', `${paced.message}; the rest waits on the queue`, this.pacedDelayMs(subscriptionId, paced.waitMs));
    if (!isTransient(error)) return undefined;
    // After a failure the write may or may not have been accepted: the next attempt re-reads, and a
    // resource still busy with it is deferred again rather than written twice.
    const closedFor = this.ports.pacing?.closedForMs(subscriptionId) ?? 0;
    const cause = error instanceof PartialApplyError ? error.failures.find(isTransient) : error;
    if (closedFor > 0 || (isArmCallError(cause) && cause.status === 429)) {
      return defer('throttled', `ARM throttled the app's calls; they resume in ${Math.ceil(closedFor / 1000)} s`, Math.max(closedFor, 1000));
    }
    if (isArmCallError(cause) && cause.status === 409) {
      return defer('resource-busy', `${cause.code}: another operation on the resource is in progress`, resource?.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS);
    }
    if (!request.handOff?.transientFailures) return undefined;
    const first = toOutcomeError(cause ?? error);
    return defer('transient', `${first.code}: ${first.message}`, transientRetryDelayMs(attempt));
  }

  /** The queue delay of a hand-off that waits for ARM's write budget: at most MAX_PACED_DELAY_MS, but never less than a 429's Retry-After. */
  private pacedDelayMs(subscriptionId: string, waitMs: number): number {
    return Math.max(this.ports.pacing?.closedForMs(subscriptionId) ?? 0, Math.min(MAX_PACED_DELAY_MS, waitMs));
  }

  private record(outcome: RemediationOutcome, plan: Plan, result: ApplyResult): void {
    outcome.principalId = result.principalId;
    outcome.grantee = result.grantee ?? outcome.grantee;
    outcome.identityAfter = result.identityAfter;
    outcome.actions = result.actions;
    plan.roleAssignments = result.roleAssignments;
    if (result.workloadIdentities) outcome.workloadIdentities = result.workloadIdentities;
    const wrote = result.actions.some((a) => a.kind !== 'role-already-assigned' && a.kind !== 'cosmos-role-already-assigned' && a.kind !== 'user-assigned-identity-reused' && a.kind !== 'federated-credential-exists');
    outcome.skipped.push(...daprFindings(plan));
    outcome.status = wrote ? 'remediated' : 'compliant';
    // Azure accepted the identity, but the workload cannot use it until someone finishes the step.
    if (result.pending && result.pending.length > 0) {
      outcome.status = 'pending';
      outcome.blockers = result.pending;
    }
  }
}

/** The identity the workload will hold once the plan's identity write is done (for plan-only outcomes). */
function identityAfterPlan(plan: Plan, current: IdentityState): IdentityState {
  if (plan.identity.action !== 'write') return current;
  const to = plan.identity.to;
  return { type: to.type, userAssigned: Object.keys(to.userAssignedIdentities ?? {}).map((id) => ({ id })) };
}
