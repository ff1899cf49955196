import type { ArmResourceId } from '../../../src/arm/resource-id';
import { ArmError } from '../arm-error';
import type { EmulatorState, Json } from '../state';

/**
 * How an ARM call completes:
 * - `sync`: the final body in the first response;
 * - `async-operation`: 200/201 (202 for `accepted`) with `Azure-AsyncOperation` pointing at a status monitor;
 * - `location`: 202 with `Location` pointing at an operation-result URL that answers 202 until done,
 *   then 200 with the resource.
 */
export type LroStyle = 'sync' | 'async-operation' | 'location';

export interface ResourceTypeModel {
  /** e.g. `Microsoft.Web/sites` */
  readonly type: string;
  /**
   * For a child type (`Microsoft.Web/sites/slots`): the type of the resource it lives under. ARM
   * refuses a request on a child whose parent does not exist with 404 ParentResourceNotFound
   * ("Can not perform requested operation on nested resource. Parent resource '{name}' not found.",
   * Learn: azure-resource-manager/troubleshooting/error-parent-resource).
   */
  readonly parentType?: string;
  /** The `name` the RP returns, when it is not the last segment of the id (Web: `site/slot`). */
  nameOf?(id: ArmResourceId): string;
  readonly apiVersions: readonly string[];
  /** `tags-only`: PATCH accepts only `tags` (ACI, AKS); other properties are ignored as those RPs do. */
  readonly patch: 'merge' | 'tags-only';
  /**
   * The `identity.type` values this RP's spec enum allows, spelled exactly as the spec spells them: a
   * write with any other spelling is refused (no normalisation), as an RP validating its enum does.
   */
  readonly identityTypes: readonly string[];
  readonly putLro: LroStyle;
  readonly patchLro: LroStyle;
  /** Path segment the RP uses for its operation monitors under `/providers/{ns}/locations/{loc}/`. */
  readonly operationsSegment: string;
  /**
   * How the RP's DELETE completes when it is long-running (absent: synchronous, 200 then 204): 202 with
   * the `style`'s header, the resource showing `provisioningState: Deleting` until the operation ends.
   * `segment` overrides `operationsSegment` for the delete's monitor (AKS: `operationresults`).
   */
  readonly deleteLro?: { style: Exclude<LroStyle, 'sync'>; segment?: string };
  /** The RP supports optimistic concurrency: `eTag` on GET, `If-Match`/`If-None-Match` on writes (see etags.ts). */
  readonly etags?: boolean;
  /**
   * False for RPs whose resource model has no `properties.provisioningState` (Microsoft.Web `Site`:
   * its spec has `state`/`availabilityState` instead); default true.
   */
  readonly provisioningState?: boolean;
  /** Checks a PUT body carries what the RP requires, so a GET-modify-PUT that drops data is refused. */
  validatePut(body: Json): string | undefined;
  /** The body as a GET shows it, when the RP leaves fields out of reads (write-only secrets). Never mutates. */
  readView?(body: Json): Json;
  /** Refuses (throws ArmError) a PUT over an existing resource the RP would refuse, e.g. one that drops a secret. */
  checkReplace?(stored: Json, input: Json): void;
  /** Every PUT of an existing resource restarts the workload (ACI); the emulator counts them per resource. */
  readonly putRestarts?: boolean;
  /** Called after a PUT or PATCH stored a new body (scale sets: what happens to the instances). */
  onModelWritten?(state: EmulatorState, before: Json | undefined, after: Json): void;
  /**
   * How long this RP's writes really run (ms) before the operation ends, used when the emulator runs
   * with a time factor (`lro.timeFactor`): realistic durations, scaled down by tests.
   */
  readonly realisticWriteMs: number;
  /** What the RP answers a write that arrives while another operation on the resource runs. */
  busyConflict?(name: string, runningState: string): ArmError;
}

/**
 * The generic answer to a write during another operation (Compute, Web, Container Apps):
 * 409 AnotherOperationInProgress (azure-facts: "Conflict codes differ per RP"; Terraform azurerm
 * and the Azure CLI retry this code for Compute).
 */
export function anotherOperationInProgress(name: string): ArmError {
  return new ArmError(
    409,
    'AnotherOperationInProgress',
    `Another operation on this or dependent resource is in progress. To retry later, please wait for the operation on '${name}' to complete.`,
  );
}

/**
 * The RP-specific enum with "SystemAssigned, UserAssigned" (comma and space), as the Web
 * (ManagedServiceIdentity.type), Compute (ResourceIdentityType) and Container Instances
 * (ContainerGroupIdentity.type, containerInstance.json 2023-05-01, commit 179aaf82) specs spell it.
 */
export const SPACED_IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'] as const;

/**
 * common-types v3 `ManagedServiceIdentityType` (Azure/azure-rest-api-specs
 * specification/common-types/resource-management/v3/managedidentity.json, commit 05432ee0), used by
 * Microsoft.App: "SystemAssigned,UserAssigned" without a space.
 */
export const COMMON_TYPES_V3_IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const;
