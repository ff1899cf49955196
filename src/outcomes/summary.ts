import { type Static, Type } from '@sinclair/typebox';
import type { RemediationOutcome } from '../engine/types';
import type { LogLevel } from '../logging/logger';
import { OutcomeSchema, outcomeFieldsBut, pickDefined } from './schema';

/**
 * The one structured line each outcome gets (and the data of its outcome event): every field of the
 * outcome schema but `plan`, too large for a line (its Dapr part is summarised as `dapr`), and
 * `startedAt` (the line has its own time); the deferral as when, not what the queue resumes from.
 */
export const OUTCOME_LOG_OMITS = ['plan', 'startedAt', 'deferral'] as const;

export const OutcomeLogSchema = Type.Composite([
  Type.Omit(OutcomeSchema, OUTCOME_LOG_OMITS),
  Type.Object({
    deferral: Type.Optional(
      Type.Object({ reason: Type.String(), detail: Type.String(), retryAfterSeconds: Type.Integer(), attempt: Type.Integer() }),
    ),
    dapr: Type.Optional(
      Type.Object(
        {
          appId: Type.String(),
          components: Type.Array(
            Type.Object({
              name: Type.String(),
              componentType: Type.String(),
              status: Type.String(),
              targets: Type.Array(Type.Unknown()),
              clientId: Type.Optional(Type.Unknown()),
            }),
          ),
          // Why no component of the app was honoured (DaprAppIdNotUnique, DaprEnvironmentNotHonoured): codes only, the details are in `skipped`.
          refused: Type.Optional(Type.Array(Type.String())),
        },
        { description: 'A Dapr app: what each component got, and whether its azureClientId names the grantee.' },
      ),
    ),
  }),
]);
export type OutcomeLogLine = Static<typeof OutcomeLogSchema>;

const LOGGED_FIELDS = outcomeFieldsBut(OUTCOME_LOG_OMITS);

export function summarizeOutcome(outcome: RemediationOutcome): OutcomeLogLine {
  const { deferral, plan } = outcome;
  return {
    ...(pickDefined(outcome, LOGGED_FIELDS) as Omit<OutcomeLogLine, 'deferral' | 'dapr'>),
    ...(deferral && {
      deferral: {
        reason: deferral.reason,
        detail: deferral.detail,
        retryAfterSeconds: Math.ceil(deferral.retryAfterMs / 1000),
        attempt: deferral.resume.attempt,
      },
    }),
    ...(plan?.dapr && {
      dapr: {
        appId: plan.dapr.appId,
        components: plan.dapr.components.map((c) => ({
          name: c.name,
          componentType: c.componentType,
          status: c.status,
          targets: c.targets,
          clientId: c.clientId,
        })),
        ...(plan.dapr.problems?.length ? { refused: plan.dapr.problems.map((p) => p.code) } : {}),
      },
    }),
  };
}

export function outcomeLogLevel(outcome: RemediationOutcome): LogLevel {
  if (outcome.status === 'failed') return outcome.errors.every((e) => e.transient) ? 'warn' : 'error';
  // Both need a person: the product will not make the change, or the workload cannot use it yet.
  if (outcome.status === 'blocked' || outcome.status === 'pending') return 'warn';
  return 'info';
}

/** Worth another delivery: every error is transient (throttling, server errors, replication, deadline). */
export function isTransientOutcome(outcome: RemediationOutcome): boolean {
  return outcome.status === 'failed' && outcome.errors.length > 0 && outcome.errors.every((e) => e.transient);
}
