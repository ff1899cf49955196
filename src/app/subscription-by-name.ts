import { isGuid } from '../arm/resource-id';
import type { ArmConnection } from '../azure/clients';
import { listSubscriptions } from '../azure/subscriptions';
import { AutopilotError } from '../errors';

/**
 * A subscription named as az names it (`--subscription`): its id, or its display name matched without
 * regard to case among the subscriptions the caller can see (azure-cli `Profile.get_subscription`
 * matches the id or the name case-insensitively, and refuses a name shared by several). An id is
 * returned as given, without a call.
 */
export async function subscriptionIdFor(connection: ArmConnection, nameOrId: string, signal?: AbortSignal): Promise<string> {
  if (isGuid(nameOrId)) return nameOrId;
  const wanted = nameOrId.trim().toLowerCase();
  const visible = await listSubscriptions(connection, signal);
  const matches = visible.filter((s) => s.displayName.toLowerCase() === wanted);
  if (matches.length === 1) return matches[0]!.subscriptionId;
  if (matches.length === 0)
    throw new AutopilotError(
      'SubscriptionNotFound',
      `subscription '${nameOrId}' not found: it is neither a subscription id nor the name of one of the ${visible.length} subscription(s) this identity can see ('az account list -o table' lists them)`,
    );
  throw new AutopilotError(
    'AmbiguousSubscriptionName',
    `${matches.length} subscriptions are named '${nameOrId}' (${matches.map((m) => m.subscriptionId).join(', ')}): give the subscription id`,
  );
}
