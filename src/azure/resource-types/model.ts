import type { SupportedResourceType } from '../../arm/resource-types';
import type {
  ClusterWorkloadIdentityChange,
  DaprAppFacts,
  FollowUpNeed,
  IdentityCapabilities,
  PlanBlocker,
  WorkloadIdentityFacts,
  WorkloadPrincipals,
} from '../../engine/types';
import type { ArmRequester } from '../resource-action';

/** The engine's one internal name for each identity kind (see IdentityState.type). */
export type IdentityKind = 'None' | 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned';

/**
 * How identity is written on one resource type. One module per type; the engine never branches on
 * type names itself.
 */
export interface ResourceTypeHandler {
  readonly type: SupportedResourceType;
  /** Stable api-version used for every call on this type. */
  readonly apiVersion: string;
  /**
   * `patch`: PATCH `{ identity }` and wait for the LRO.
   * `get-modify-put`: the RP's PATCH takes tags only, so the full body from the GET is PUT back with
   * the new identity (for ACI this restarts the containers).
   */
  readonly identityWrite: 'patch' | 'get-modify-put';
  /** The ARM operation ResourceWriteSuccess reports for a write of this type. */
  readonly writeOperation: string;
  /** Why this type needs care, shown in plans. */
  readonly note?: string;
  /**
   * How this RP's spec spells each identity kind the type accepts, sent verbatim in every write: RPs
   * validate `identity.type` against their own enum, and the combined kind is spelled differently by
   * different RPs. A kind the type cannot hold is absent.
   */
  readonly identityTypeSpelling: Readonly<Partial<Record<IdentityKind, string>>>;
  /** What the identity block can hold; absent: both kinds at once (most RPs). */
  readonly identityCapabilities?: IdentityCapabilities;
  /** What this resource's identity block can hold, when it depends on the body (a scale set's orchestration mode). */
  identityCapabilitiesOf?(body: Record<string, unknown>): IdentityCapabilities | undefined;
  /**
   * `etag`: the RP supports optimistic concurrency, so every write carries `If-Match` with the ETag
   * of the GET it was built from, and a 412 means "read again".
   */
  readonly concurrency?: 'etag';
  /**
   * Members of `properties` the module's facts read: the sweep's Resource Graph query projects them,
   * so a sweep plans with the same facts as a full GET.
   */
  readonly graphProperties?: readonly string[];
  /**
   * The PATCH body for `identityWrite: 'patch'`, when the RP's spec requires more than `{ identity }`
   * (default: `{ identity }`).
   */
  identityPatchBody?(identity: unknown, resource: { location: string }): Record<string, unknown>;
  /** What in a GET body forbids writing the identity at all (write-only secrets, a stopped group...). */
  writeBlockers?(body: Record<string, unknown>): PlanBlocker[];
  /** Dapr enabled on the workload: its app id and environment (Container Apps' `configuration.dapr`). */
  daprApp?(body: Record<string, unknown>): DaprAppFacts | undefined;
  /** The workload's principals besides its identity block (AKS: the kubelet identity pods use). */
  principals?(body: Record<string, unknown>): WorkloadPrincipals;
  /** The cluster's OIDC issuer and workload identity settings (AKS), from a GET body. */
  workloadIdentity?(body: Record<string, unknown>): WorkloadIdentityFacts;
  /** The PUT body that enables what `change` asks for, built from a GET body (sent with If-Match). */
  enableWorkloadIdentityBody?(body: Record<string, unknown>, change: ClusterWorkloadIdentityChange): Record<string, unknown>;
  /** What must follow an identity write before the workload can use the identity (from a GET body). */
  followUp?(body: Record<string, unknown>): FollowUpNeed | undefined;
  /** Runs that follow-up if it is still needed and waits for it; resolves with what was done (undefined: nothing needed). */
  runFollowUp?(arm: ArmRequester, resourceId: string, code: string): Promise<string | undefined>;
  /** Read-only: whether the follow-up is still needed (a scale set: an instance behind the model). */
  followUpNeeded?(arm: ArmRequester, resourceId: string, code: string): Promise<boolean>;
  /**
   * The RBAC actions the follow-up needs, granted only when an enforce rule opts in; `checkActions`, what
   * followUpNeeded reads, granted whenever the type is governed (scripts/infra/permissions.ts).
   */
  readonly followUpPermissions?: {
    readonly optIn: FollowUpNeed['optIn'];
    readonly actions: readonly string[];
    readonly checkActions?: readonly string[];
  };
  /**
   * Seconds to wait before looking again at a resource of this type that is busy (a non-terminal
   * provisioningState, or this RP's "another operation is in progress" conflict): roughly how long
   * this RP's writes take, so a hand-off to the remediation queue does not come back too early.
   */
  readonly busyRetrySeconds: number;
  /**
   * This RP's own "busy" conflict, beyond the generic `AnotherOperationInProgress`: it clears by
   * itself once the running operation ends, so it is transient.
   */
  isBusyConflict?(status: number, code: string, message: string): boolean;
}
