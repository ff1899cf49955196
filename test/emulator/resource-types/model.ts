import type { Json } from '../state';

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
  readonly apiVersions: readonly string[];
  /** `tags-only`: PATCH accepts only `tags` (ACI, AKS); other properties are ignored as those RPs do. */
  readonly patch: 'merge' | 'tags-only';
  readonly identityTypes: readonly string[];
  readonly putLro: LroStyle;
  readonly patchLro: LroStyle;
  /** Path segment the RP uses for its operation monitors under `/providers/{ns}/locations/{loc}/`. */
  readonly operationsSegment: string;
  /** Checks a PUT body carries what the RP requires, so a GET-modify-PUT that drops data is refused. */
  validatePut(body: Json): string | undefined;
}

export const ALL_IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'] as const;
