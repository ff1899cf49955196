import type { CallBudget } from '../engine/call-budget';
import type { RoleAssignmentBudgetPort, RoleAssignmentUsage } from '../engine/role-assignment-budget';
import { type GraphQueryPort, RESOURCE_GRAPH_PAGE_SIZE } from './resource-graph';

/** The role assignments of the subscription the request names (`authorizationresources`, ARM's shape). */
export const ROLE_ASSIGNMENT_COUNT_QUERY = [
  'authorizationresources',
  "| where type =~ 'microsoft.authorization/roleassignments'",
  '| project id',
].join('\n');

/** Who holds them: one column, read only when the budget is short. */
export const ROLE_ASSIGNMENT_HOLDERS_QUERY = [
  'authorizationresources',
  "| where type =~ 'microsoft.authorization/roleassignments'",
  '| project principalId = tolower(tostring(properties.principalId))',
].join('\n');

/** How long a count is trusted: a burst of remediations in one subscription shares one query. */
const COUNT_TTL_MS = 60_000;
/** How long the last count decides whether a remediation needs a fresh one: a few sweep periods. */
const KNOWN_TTL_MS = 6 * 60 * 60_000;
const TOP_CONSUMERS = 5;

/**
 * The budget's counts from Resource Graph: one call per subscription (`$top: 1`, the count is the
 * answer's `totalRecords`, QueryResponse in resourcegraph.json 2024-04-01), cached a minute; the top
 * consumers page through the holders (a few pages at most: 4,000 rows).
 */
export class ResourceGraphRoleAssignmentBudget implements RoleAssignmentBudgetPort {
  private readonly counts = new Map<string, { at: number; usage: Promise<RoleAssignmentUsage> }>();
  private readonly last = new Map<string, { at: number; assignments: number }>();

  constructor(
    private readonly graph: () => GraphQueryPort,
    private readonly now: () => number = Date.now,
  ) {}

  usage(subscriptionId: string, call: CallBudget, withConsumers = false): Promise<RoleAssignmentUsage> {
    const key = subscriptionId.toLowerCase();
    if (withConsumers) return this.withConsumers(key, call.signal);
    const cached = this.counts.get(key);
    if (cached && this.now() - cached.at < COUNT_TTL_MS) return cached.usage;
    const usage = this.graph()
      .query({ query: ROLE_ASSIGNMENT_COUNT_QUERY, subscriptions: [key], top: 1 }, call.signal)
      .then((page) => {
        const assignments = page.totalRecords ?? page.rows.length;
        this.last.set(key, { at: this.now(), assignments });
        return { assignments };
      });
    usage.catch(() => this.counts.delete(key));
    this.counts.set(key, { at: this.now(), usage });
    return usage;
  }

  known(subscriptionId: string): number | undefined {
    const last = this.last.get(subscriptionId.toLowerCase());
    return last && this.now() - last.at < KNOWN_TTL_MS ? last.assignments : undefined;
  }

  private async withConsumers(subscriptionId: string, signal: AbortSignal): Promise<RoleAssignmentUsage> {
    const byPrincipal = new Map<string, number>();
    let skipToken: string | undefined;
    let assignments = 0;
    do {
      const page = await this.graph().query(
        { query: ROLE_ASSIGNMENT_HOLDERS_QUERY, subscriptions: [subscriptionId], top: RESOURCE_GRAPH_PAGE_SIZE, skipToken },
        signal,
      );
      for (const r of page.rows) byPrincipal.set(String(r.principalId), (byPrincipal.get(String(r.principalId)) ?? 0) + 1);
      assignments += page.rows.length;
      skipToken = page.skipToken;
    } while (skipToken);
    const topConsumers = [...byPrincipal]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_CONSUMERS)
      .map(([principalId, n]) => ({ principalId, assignments: n }));
    return { assignments, topConsumers };
  }
}
