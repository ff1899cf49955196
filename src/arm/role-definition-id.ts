import { isGuid } from './resource-id';

/** Subscription-scoped role definition id, the form role assignments are created with. */
export function roleDefinitionIdFor(guid: string, subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`;
}

// A full role definition id, either tenant-level or under a subscription.
const ROLE_DEFINITION_ID =
  /^(?:\/subscriptions\/[0-9a-f-]{36})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})\/?$/i;

/** The GUID inside a full role definition id, or undefined if `value` is not one. */
export function roleGuidFromDefinitionId(value: string): string | undefined {
  const m = ROLE_DEFINITION_ID.exec(value.trim());
  return m && isGuid(m[1]!) ? m[1]!.toLowerCase() : undefined;
}
