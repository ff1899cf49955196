import { subscriptionOf } from '../arm/resource-id';
import type { CallBudget } from './call-budget';
import { outcomeOf, toOutcomeError } from './findings';
import { sameId } from './grants/grant-kind';
import type { EnginePorts } from './ports';
import { cosmosProblem, executeRemovals, type Removal, type RemovalRecord, removalId, roleAssignmentProblem } from './removals';
import type { OutcomeError, RemediationOutcome } from './types';

/**
 * Clean-up after a resource was deleted (ResourceDeleteSuccess). An event proves nothing (it may be
 * forged, late, or about a resource deleted and made again under the same name), so:
 * 1. ARM must answer 404 for the resource now; a living resource keeps everything.
 * 2. What the product recorded for it (its ledger rows) only hints at whom to look for: the principals
 *    it granted, the identities and credentials it made. Every object is then proven ours for this
 *    resource by ARM itself (removals.ts) right before its DELETE; the rest is kept and reported.
 * A principal of a re-created resource is new (system-assigned principals are never reused) and the
 * names of the product's assignments hash the principal id, so nothing of a newer incarnation matches.
 */

/** What the product recorded of a deleted resource (ledger rows): hints, never proof. */
export interface CleanUpHints {
  /** Principals that held the resource's grants (its system-assigned identity, AKS kubelet, ...). */
  principals: string[];
  /** Subscriptions its grants were made in, besides the resource's own. */
  subscriptions: string[];
  /** Cosmos DB accounts it was given data-plane roles on. */
  cosmosAccounts: string[];
  /** User-assigned identities the product made for it, with the owner recorded on each and their principal. */
  identities: Array<{ identityId: string; owner: string; principalId?: string }>;
  /** Federated credentials the product made for it (AKS service accounts), on their identities. */
  credentials: Array<{ identityId: string; name: string }>;
}

export interface CleanUpRequest {
  resourceId: string;
  correlationId: string;
  /** Subscriptions Resource Graph is asked about (the governed ones). */
  subscriptions: string[];
}

const REASON = 'resource deleted';

export async function cleanUpDeleted(
  request: CleanUpRequest,
  hints: CleanUpHints,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<RemediationOutcome> {
  const started = Date.now();
  try {
    if (await ports.resources.read(request.resourceId, budget)) {
      return outcomeOf(request, started, {
        status: 'skipped',
        skipped: [
          {
            reason: 'resource-exists',
            detail: 'ARM still has the resource (a forged or late delete event, or it was made again): nothing is removed',
          },
        ],
      });
    }
    const identities = await identityFates(request, hints, ports, budget);
    // A kept identity keeps its principal's grants: whoever still holds it may be using them.
    const keptPrincipals = hints.identities.filter((i) => !identities.removed.includes(i)).flatMap((i) => i.principalId ?? []);
    const principals = unique([...hints.principals, ...identities.removed.flatMap((i) => i.principalId ?? [])]).filter(
      (p) => !keptPrincipals.some((k) => sameId(k, p)),
    );
    const search: Search = { resourceId: request.resourceId, principals, hints, ports, budget };
    const assignments = await assignmentRemovals(search);
    const cosmos = await cosmosRemovals(search);
    // An identity's credentials go with it (its child resources): only those on identities kept are deleted one by one.
    const credentials: Removal[] = hints.credentials
      .filter((c) => !identities.removed.some((i) => sameId(i.identityId, c.identityId)))
      .map((c) => ({ kind: 'federated-credential', ...c, owner: { resourceId: request.resourceId }, reason: REASON }));
    const grants = await executeRemovals([...assignments.removals, ...cosmos.removals, ...credentials], ports, budget);
    // An identity goes last, and only once its grants are gone: a failed removal keeps it for the next delivery.
    const failedFor = new Set(grants.records.filter((r) => r.status === 'failed').map((r) => r.principalId?.toLowerCase()));
    const identityRemovals: Removal[] = identities.removed
      .filter((i) => !i.principalId || !failedFor.has(i.principalId.toLowerCase()))
      .map((i) => ({
        kind: 'user-assigned-identity',
        identityId: i.identityId,
        owner: { resourceId: request.resourceId, identityOwner: i.owner },
        reason: REASON,
      }));
    const last = await executeRemovals(identityRemovals, ports, budget);
    const removed = [...assignments.kept, ...cosmos.kept, ...identities.kept, ...grants.records, ...last.records];
    const errors = [...identities.errors, ...grants.errors, ...last.errors];
    return outcomeOf(request, started, { status: errors.length > 0 ? 'failed' : 'gone', removed, errors });
  } catch (e) {
    return outcomeOf(request, started, { status: 'failed', errors: [toOutcomeError(e)] });
  }
}

const unique = (ids: string[]) => [...new Map(ids.map((id) => [id.toLowerCase(), id])).values()];

/**
 * Which of the identities made for the resource may go: none another resource holds. Resource Graph
 * answers who holds one, and it lags ARM (seconds to minutes, no upper bound), so its "nobody" is
 * trusted only when the same answer shows it has caught up: it lists the identity itself (newer than
 * its creation) and no longer lists the deleted resource as a holder (newer than the delete). Otherwise
 * the identity is kept and the clean-up comes again (a transient error: Event Grid delivers again later).
 */
async function identityFates(
  request: CleanUpRequest,
  hints: CleanUpHints,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<{ removed: CleanUpHints['identities']; kept: RemovalRecord[]; errors: OutcomeError[] }> {
  const out = { removed: [] as CleanUpHints['identities'], kept: [] as RemovalRecord[], errors: [] as OutcomeError[] };
  for (const identity of hints.identities) {
    const keep = (detail: string) =>
      out.kept.push({ kind: 'user-assigned-identity', id: identity.identityId, status: 'kept', reason: REASON, detail });
    if (!ports.identityHolders) {
      keep('the app cannot ask Resource Graph who holds it');
      continue;
    }
    const answer = await ports.identityHolders.holders(identity.identityId, request.subscriptions, budget);
    const others = answer.holders.filter((h) => !sameId(h, request.resourceId));
    if (others.length > 0) keep(`still held by ${others.slice(0, 5).join(', ')}`);
    else if (!answer.identityIndexed || answer.holders.length > 0) {
      keep('Resource Graph has not caught up (it does not list the identity yet, or still lists the deleted resource as its holder)');
      out.errors.push({
        code: 'ResourceGraphLagging',
        message: `who holds ${identity.identityId} is asked again once Resource Graph has caught up`,
        transient: true,
      });
    } else out.removed.push(identity);
  }
  return out;
}

/** Where the search for a deleted resource's grants looks, and with what. */
interface Search {
  resourceId: string;
  principals: string[];
  hints: CleanUpHints;
  ports: EnginePorts;
  budget: CallBudget;
}

/** What a search found: removals for what ARM proves ours, and what is kept (reported, never deleted). */
interface Found {
  removals: Removal[];
  kept: RemovalRecord[];
}

/** A candidate proven ours (no problem) becomes a removal; any other is kept and reported, with why. */
function sortCandidate(found: Found, removal: Removal, problem: string | undefined, facts: Partial<RemovalRecord>): void {
  if (problem === undefined) found.removals.push(removal);
  else found.kept.push({ kind: removal.kind, id: removalId(removal), status: 'kept', reason: REASON, detail: problem, ...facts });
}

/**
 * One list per principal and subscription (`$filter=principalId eq`), the fewest ARM calls that find
 * every assignment; those ARM does not prove ours for this resource are kept and reported.
 */
async function assignmentRemovals({ resourceId, principals, hints, ports, budget }: Search): Promise<Found> {
  const found: Found = { removals: [], kept: [] };
  for (const principalId of principals) {
    for (const subscriptionId of unique([subscriptionOf(resourceId), ...hints.subscriptions])) {
      for (const a of await ports.roleAssignments.listForPrincipal(subscriptionId, principalId, budget)) {
        if (!a.id) continue;
        const owner = { resourceId, principalId };
        sortCandidate(found, { kind: 'role-assignment', assignmentId: a.id, owner, reason: REASON }, roleAssignmentProblem(a, owner), {
          principalId,
          roleDefinitionGuid: a.roleDefinitionGuid,
          scope: a.scope,
        });
      }
    }
  }
  return found;
}

/**
 * The Cosmos DB SQL role assignments of the principals, on the accounts the product granted (one list
 * each); those the list already shows are not ours (name, principal) are kept and reported without a GET.
 */
async function cosmosRemovals({ resourceId, principals, hints, ports, budget }: Search): Promise<Found> {
  const port = ports.cosmosRoleAssignments;
  const found: Found = { removals: [], kept: [] };
  if (!port || principals.length === 0) return found;
  for (const accountId of unique(hints.cosmosAccounts)) {
    for (const a of await port.list(accountId, budget)) {
      const principalId = principals.find((p) => sameId(p, a.principalId));
      if (!principalId || !a.name) continue;
      const owner = { resourceId, principalId };
      const removal: Removal = { kind: 'cosmos-sql-role-assignment', accountId, name: a.name, owner, reason: REASON };
      sortCandidate(found, removal, cosmosProblem(a, owner), { principalId, scope: a.scope });
    }
  }
  return found;
}
