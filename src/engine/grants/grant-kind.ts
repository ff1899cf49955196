import type { CallBudget } from '../call-budget';
import type { EnginePorts } from '../ports';

/**
 * Whom a grant exists for. A create names the owner it is made for; a remove names the owner that ARM's
 * own record of the object proves (its description, its deterministic name, who wrote it), so a
 * lifecycle step can delete only what was made for that owner and nothing else.
 */
export interface GrantOwner {
  /** The principal that holds the grant; undefined on a create for a principal the identity write makes. */
  principalId?: string;
  /** The workload the grant is made for, when known (always on a create). */
  resourceId?: string;
  /** The rule it is made under, when known. */
  rule?: string;
  /** The profile, `dapr:<component>` or service account it comes from, when known. */
  source?: string;
}

/** One step from what is observed to what is desired: make a grant, or remove one of ours no longer wanted. */
export type GrantAction<Desired, Observed> =
  | { readonly kind: 'create'; readonly grant: Desired; readonly owner: GrantOwner }
  | { readonly kind: 'remove'; readonly grant: Observed; readonly owner: GrantOwner };

/**
 * One kind of grant (an Azure role assignment, a Cosmos DB SQL role assignment, a federated credential,
 * a Dapr component's azureClientId): what the plan wants, what Azure has, and the difference. `diff` is
 * pure; only `observe` reads Azure, and nothing here writes.
 */
export interface GrantKind<Context, Desired, Observed> {
  /** What the plan wants of this kind, for the context's principal. */
  desired(context: Context): readonly Desired[];
  /** What Azure holds of this kind for the context's principal (read-only). */
  observe(ports: EnginePorts, context: Context, budget: CallBudget): Promise<readonly Observed[]>;
  /** Creates for what is desired and missing; removes for what is observed, ours for this owner, and no longer desired. */
  diff(desired: readonly Desired[], observed: readonly Observed[], context: Context): GrantAction<Desired, Observed>[];
}

/** The grants a diff wants made. */
export const creates = <D, O>(actions: readonly GrantAction<D, O>[]): D[] => actions.flatMap((a) => (a.kind === 'create' ? [a.grant] : []));

/** Case-insensitive equality of ARM ids, principals and GUIDs. */
export const sameId = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
