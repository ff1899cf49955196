import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { REMOVAL_KINDS, REMOVAL_STATUSES } from '../engine/removals';
import type { RemediationOutcome } from '../engine/types';

/**
 * The outcome of a remediation, written once. The ledger row (src/ledger/types.ts, ledger-recorder.ts), the log line
 * (summary.ts) and the OpenAPI document (src/http/openapi.ts) are derived from it: a field added here
 * reaches all three, and `OutcomeRecord` below is checked against the engine's `RemediationOutcome`,
 * so a field the engine adds without it here does not compile.
 *
 * Sub-schemas with an `$id` become components of their own in the OpenAPI document.
 */

/** A string from a fixed list: `enum`, which OpenAPI 3.0 knows (TypeBox's literal unions emit `const`). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const DateTime = () => Type.String({ format: 'date-time' });

export const OUTCOME_STATUSES = [
  'compliant',
  'remediated',
  'planned',
  'skipped',
  'gone',
  'blocked',
  'pending',
  'deferred',
  'failed',
] as const;

export const GranteeSchema = Type.Object(
  {
    role: StringEnum(['resource', 'cluster', 'kubelet']),
    objectId: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    identityId: Type.Optional(Type.String()),
  },
  {
    $id: 'Grantee',
    description:
      'The principal that holds (or would hold) the roles: resource (its own identity), cluster (AKS control plane) or kubelet (AKS nodes, what pods use)',
  },
);

export const WorkloadIdentitySchema = Type.Object(
  {
    serviceAccount: Type.String({ description: 'namespace/name, from the rules file' }),
    identityId: Type.String(),
    clientId: Type.Optional(Type.String()),
    principalId: Type.Optional(Type.String()),
    annotation: Type.Optional(Type.String()),
    credential: Type.Object({
      name: Type.String(),
      issuer: Type.Optional(Type.String()),
      subject: Type.String(),
      status: StringEnum(['created', 'updated', 'exists', 'missing']),
    }),
    roles: Type.Array(Type.String()),
  },
  {
    $id: 'WorkloadIdentity',
    description:
      'AKS workload identity of one Kubernetes service account: set `annotation` on the service account (azure.workload.identity/client-id: <clientId>)',
  },
);

/** The engine's `Deferral`: what the queue carries on from is opaque here (see engine/hand-off.ts). */
export const DeferralSchema = Type.Object(
  {
    reason: Type.String(),
    detail: Type.String(),
    retryAfterMs: Type.Number(),
    resume: Type.Object(
      { attempt: Type.Integer() },
      { description: 'Where the queue carries on: the hand-off count, a running write to poll, what was done.' },
    ),
  },
  { description: 'Set when deferred: why, when the remediation queue carries on, and from where.' },
);

export const RemovalSchema = Type.Object(
  {
    kind: StringEnum(REMOVAL_KINDS),
    id: Type.String({ description: "The object's ARM id" }),
    status: StringEnum(REMOVAL_STATUSES, {
      description:
        'removed: ARM deleted it; absent: already gone; kept: not proven ours for this owner, or still in use (never deleted); failed',
    }),
    reason: Type.String({ description: 'Why it was a candidate for removal' }),
    detail: Type.Optional(Type.String({ description: 'Why it was kept, or how it failed' })),
    principalId: Type.Optional(Type.String()),
    roleDefinitionGuid: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
  },
  {
    $id: 'Removal',
    description: 'An object a lifecycle path (clean-up after a delete, revocation, orphans) looked at, and what became of it',
  },
);

export const RevocationSchema = Type.Object(
  {
    assignmentId: Type.Optional(Type.String({ description: "The role assignment's ARM id" })),
    role: Type.String(),
    scope: Type.String(),
    reason: Type.String({ description: 'Why the rules no longer give it (a tag re-pointed, a profile or rule gone, consent withdrawn)' }),
    revoke: StringEnum(['report', 'enforce'], {
      description: "The rule's lifecycle.revoke: report lists it (the resource is not compliant); enforce has the sweep remove it",
    }),
  },
  { $id: 'Revocation', description: 'A role assignment identity-autopilot made that the rules no longer give' },
);

export const OutcomeSchema = Type.Object(
  {
    correlationId: Type.String(),
    resourceId: Type.String(),
    resourceType: Type.Optional(Type.String()),
    status: StringEnum(OUTCOME_STATUSES),
    rule: Type.Optional(Type.String()),
    mode: Type.Optional(StringEnum(['enforce', 'report'])),
    principalId: Type.Optional(Type.String()),
    grantee: Type.Optional(GranteeSchema),
    workloadIdentities: Type.Optional(
      Type.Array(WorkloadIdentitySchema, {
        description: "AKS workload identity: each service account's identity, clientId and federated credential.",
      }),
    ),
    identityBefore: Type.Optional(Type.String()),
    identityAfter: Type.Optional(Type.String()),
    plan: Type.Optional(Type.Unsafe<NonNullable<RemediationOutcome['plan']>>({ type: 'object' })),
    actions: Type.Array(Type.Object({ kind: Type.String() })),
    revocations: Type.Optional(Type.Array(RevocationSchema)),
    removed: Type.Optional(Type.Array(RemovalSchema)),
    skipped: Type.Array(Type.Object({ reason: Type.String(), detail: Type.String() })),
    blockers: Type.Optional(
      Type.Array(
        Type.Object({
          code: Type.String(),
          detail: Type.String(),
          remedy: Type.Optional(Type.String()),
          waivedBy: Type.Optional(Type.String({ description: 'The rule workload option that lifts it.' })),
        }),
        {
          description:
            'Why a blocked or pending outcome is not done, and what a person can do (for example RequiresRedeploy, RestartNotAllowed).',
        },
      ),
    ),
    errors: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), transient: Type.Boolean() })),
    deferral: Type.Optional(DeferralSchema),
    startedAt: DateTime(),
    durationMs: Type.Number(),
  },
  { $id: 'Outcome' },
);

export type OutcomeRecord = Static<typeof OutcomeSchema>;
export type OutcomeField = keyof OutcomeRecord;

/** The names of an object schema's properties, in order: what a record derived from it lists. */
export function fieldsOf<T extends { properties: Record<string, TSchema> }>(schema: T): Array<keyof T['properties'] & string> {
  return Object.keys(schema.properties) as Array<keyof T['properties'] & string>;
}

/** The outcome's fields a derived record carries as they are: all but those it leaves out or reshapes. */
export function outcomeFieldsBut<const Omitted extends readonly OutcomeField[]>(
  omitted: Omitted,
): Array<Exclude<OutcomeField, Omitted[number]>> {
  return fieldsOf(OutcomeSchema).filter((f): f is Exclude<OutcomeField, Omitted[number]> => !(omitted as readonly string[]).includes(f));
}

/** The fields of `record` a derived record lists, those with a value only. */
export function pickDefined<T extends object, K extends keyof T>(record: T, fields: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const field of fields) if (record[field] !== undefined) picked[field] = record[field];
  return picked;
}

/** The schema and the engine's type name the same fields, and every outcome fits the schema. */
export type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
const schemaNamesEveryOutcomeField: SameKeys<OutcomeRecord, RemediationOutcome> = true;
const everyOutcomeFitsTheSchema: RemediationOutcome extends OutcomeRecord ? true : false = true;
void schemaNamesEveryOutcomeField;
void everyOutcomeFitsTheSchema;
