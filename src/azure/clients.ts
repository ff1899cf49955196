import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { armTelemetryPolicy } from '../telemetry/arm-policy';
import type { Telemetry } from '../telemetry/telemetry';
import { armDebugPolicy } from './debug-policy';
import type { ArmThrottleGate } from './throttle-gate';

/** Where ARM is and how to reach it: real Azure, or the local emulator with its own CA. */
export interface ArmConnection {
  /** `https://management.azure.com` for public Azure. */
  endpoint: string;
  credential: TokenCredential;
  /** PEM of a CA to trust for this endpoint only (the emulator's per-run certificate). */
  ca?: string;
  /** Token audience; defaults to public Azure's, which the emulator also accepts. */
  audience?: string;
  /** Shared 429 gate; every client of one app should share one. */
  throttleGate?: ArmThrottleGate;
  /** Counts and traces every ARM call (`autopilot.arm.calls`, `autopilot.arm.throttle_wait`). */
  telemetry?: Telemetry;
  /** Gets one line per ARM attempt (method, URL, status, duration, correlation id): the CLI's `--debug`. */
  requestLog?: (line: string) => void;
}

export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com';

/** Options every SDK client gets: endpoint, scopes and, for the emulator, a scoped CA. */
export function armClientOptions(connection: ArmConnection) {
  const audience = connection.audience ?? PUBLIC_ARM_ENDPOINT;
  return {
    endpoint: connection.endpoint,
    credentialScopes: [`${audience.replace(/\/$/, '')}/.default`],
    // Throttling and server errors are retried by the SDK (honouring Retry-After); the remediation's
    // deadline (an AbortSignal on every call) bounds the total, since Retry-After itself is unbounded.
    retryOptions: { maxRetries: 6, retryDelayInMs: 800, maxRetryDelayInMs: 16_000 },
    ...(connection.ca ? { tlsOptions: { ca: connection.ca } } : {}),
    // Per retry, so every attempt is counted and waits at the gate; telemetry first, outside the gate,
    // so the gate's own waits and the SDK's Retry-After sleeps are measured apart.
    additionalPolicies: [
      ...(connection.telemetry ? [{ policy: armTelemetryPolicy(connection.telemetry), position: 'perRetry' as const }] : []),
      ...(connection.throttleGate ? [{ policy: connection.throttleGate.policy(), position: 'perRetry' as const }] : []),
      ...(connection.requestLog ? [{ policy: armDebugPolicy(connection.requestLog), position: 'perRetry' as const }] : []),
    ],
  };
}

export interface ArmClients {
  resources: ResourceManagementClient;
  authorization: AuthorizationManagementClient;
  msi: ManagedServiceIdentityClient;
}

/**
 * The SDK clients for one subscription. Generic by-id calls ignore the subscription, but the SDK
 * constructors require one, and role assignments and identities are listed per subscription.
 */
export function createArmClients(connection: ArmConnection, subscriptionId: string): ArmClients {
  const options = armClientOptions(connection);
  return {
    resources: new ResourceManagementClient(connection.credential, subscriptionId, options),
    authorization: new AuthorizationManagementClient(connection.credential, subscriptionId, options),
    msi: new ManagedServiceIdentityClient(connection.credential, subscriptionId, options),
  };
}

/** Caches one client set per subscription, so pipelines and token caches are reused. */
export class ArmClientPool {
  private readonly bySubscription = new Map<string, ArmClients>();

  constructor(readonly connection: ArmConnection) {}

  for(subscriptionId: string): ArmClients {
    const k = subscriptionId.toLowerCase();
    let clients = this.bySubscription.get(k);
    if (!clients) {
      clients = createArmClients(this.connection, subscriptionId);
      this.bySubscription.set(k, clients);
    }
    return clients;
  }
}
