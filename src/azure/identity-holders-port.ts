import type { CallBudget } from '../engine/call-budget';
import type { IdentityHoldersPort } from '../engine/ports';
import { budgetOf } from './call-options';
import { type GraphQuery, kql } from './dapr-port';

type Json = Record<string, unknown>;

/**
 * Which resources list a user-assigned identity in their identity block, from Resource Graph (`resources`
 * table, `identity.userAssignedIdentities` keyed by identity id). The text match only narrows the rows:
 * each row's keys are compared exactly (case-insensitively, as ARM ids are), so a tag or name that
 * happens to hold the id never counts as a holder. The identity's own row comes back in the same query:
 * it says whether the index has caught up with the identity at all.
 */
export class GraphIdentityHoldersPort implements IdentityHoldersPort {
  constructor(private readonly graph: GraphQuery) {}

  async holders(
    identityId: string,
    subscriptions: string[],
    call: CallBudget | AbortSignal,
  ): Promise<{ identityIndexed: boolean; holders: string[] }> {
    const id = kql(identityId.toLowerCase());
    const query = `resources | where id =~ ${id} or tostring(identity.userAssignedIdentities) contains ${id} | project id, identity`;
    const rows = await this.graph(query, subscriptions, budgetOf(call).signal);
    const wanted = identityId.toLowerCase();
    return {
      identityIndexed: rows.some((row) => String(row.id).toLowerCase() === wanted),
      holders: rows
        .filter((row) => {
          const held = ((row.identity as Json | undefined)?.userAssignedIdentities ?? {}) as Json;
          return Object.keys(held).some((k) => k.toLowerCase() === wanted);
        })
        .map((row) => String(row.id)),
    };
  }
}
