import { ResourceManagementClient } from '@azure/arm-resources';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { type ArmConnection, armClientOptions } from './clients';

export interface SubscriptionSummary {
  subscriptionId: string;
  displayName: string;
}

/** Subscriptions_List's api-version (resources.json's sibling subscriptions.json, Microsoft.Resources 2022-12-01). */
const SUBSCRIPTIONS_API_VERSION = '2022-12-01';
/** Far more pages than any tenant has; stops a nextLink loop. */
const MAX_PAGES = 100;

/**
 * The subscriptions the caller can see (`GET /subscriptions`, Subscriptions_List, following nextLink),
 * through the same pipeline as every ARM call (credential, retries, 429 gate, `--debug` line). The
 * resources client is used only for its pipeline: generic requests ignore its subscription.
 */
export async function listSubscriptions(connection: ArmConnection, signal?: AbortSignal): Promise<SubscriptionSummary[]> {
  const client = new ResourceManagementClient(connection.credential, '00000000-0000-0000-0000-000000000000', armClientOptions(connection));
  const found: SubscriptionSummary[] = [];
  let url: string | undefined = `${connection.endpoint.replace(/\/$/, '')}/subscriptions?api-version=${SUBSCRIPTIONS_API_VERSION}`;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const response = await client.sendRequest(createPipelineRequest({ url, method: 'GET', abortSignal: signal }));
    if (response.status !== 200)
      throw new Error(`listing subscriptions failed: HTTP ${response.status} ${response.bodyAsText ?? ''}`.trim());
    const body = JSON.parse(response.bodyAsText ?? '{}') as {
      value?: Array<{ subscriptionId?: unknown; displayName?: unknown }>;
      nextLink?: unknown;
    };
    for (const s of body.value ?? [])
      if (typeof s.subscriptionId === 'string') found.push({ subscriptionId: s.subscriptionId, displayName: String(s.displayName ?? '') });
    // The token goes only to the ARM endpoint: a next page elsewhere is not followed.
    url = typeof body.nextLink === 'string' && sameOrigin(body.nextLink, connection.endpoint) ? body.nextLink : undefined;
  }
  return found;
}

function sameOrigin(url: string, endpoint: string): boolean {
  try {
    return new URL(url).origin === new URL(endpoint).origin;
  } catch {
    return false;
  }
}
