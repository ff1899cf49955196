import { randomUUID } from 'node:crypto';
import { ArmError } from './arm-error';
import type { EmulatorRequest } from './handlers/context';
import { resourceTypeModel } from './resource-types';
import type { EmulatorState, Json } from './state';

/**
 * Optimistic concurrency for RPs that support it (AKS), as Learn "Use eTags in AKS" (aks/use-etags)
 * describes it and the AKS spec models it: the cluster carries a read-only `eTag` property
 * (ManagedClustersGet example, managedClusters.json 2024-09-01; agent pools carry their own), writes
 * take `If-Match` / `If-None-Match` header parameters, and a cluster-level write changes the cluster's
 * eTag and every agent pool's. The header form `ETag` is sent on GET as well (RFC 9110 quoting).
 */

export function newEtag(): string {
  return randomUUID();
}

/** A write changes the eTag of the cluster and of each agent pool (Learn: "What would modify existing ETags"). */
export function stampEtags(body: Json): void {
  body.eTag = newEtag();
  const pools = body.properties?.agentPoolProfiles;
  if (Array.isArray(pools)) for (const pool of pools) if (pool && typeof pool === 'object') pool.eTag = newEtag();
}

/** `"abc"`, `W/"abc"` and `abc` name the same entity tag. */
function unquote(tag: string): string {
  return tag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

function preconditionFailed(detail: string): ArmError {
  return new ArmError(412, 'PreconditionFailed', `Operation failed with status: 'Precondition Failed'. Details: ${detail}`);
}

/**
 * The Learn page's table: PUT with `If-Match: *` or a value on a missing resource → 412; a value
 * that is not the current eTag → 412; `If-None-Match: *` on an existing resource → 412. PATCH on a
 * missing resource stays 404 (checked by the caller first). An empty header means "no condition".
 */
export function checkPreconditions(req: EmulatorRequest, current: Json | undefined): void {
  const ifMatch = req.headers?.['if-match']?.trim();
  const ifNoneMatch = req.headers?.['if-none-match']?.trim();
  if (ifNoneMatch) {
    if (ifNoneMatch !== '*') throw new ArmError(400, 'InvalidRequestHeader', "The 'If-None-Match' header may only be empty or '*'.");
    if (current) throw preconditionFailed('the resource already exists (If-None-Match: *).');
  }
  if (!ifMatch) return;
  if (!current) throw preconditionFailed('the resource does not exist (If-Match).');
  if (ifMatch === '*') return;
  const tags = ifMatch.split(',').map(unquote);
  if (!tags.includes(String(current.eTag ?? ''))) {
    throw preconditionFailed(`the eTag '${unquote(ifMatch)}' does not match the current eTag; read the resource again and retry.`);
  }
}

/** The `ETag` response header for a body that has one. */
export function etagHeader(body: Json): Record<string, string> {
  return typeof body.eTag === 'string' ? { ETag: `"${body.eTag}"` } : {};
}

/**
 * Another client's write between two of ours (for a `run` fault): a tag changes, and the eTag too where the
 * type has them, so a write built from an earlier GET no longer holds.
 */
export function concurrentWrite(state: EmulatorState, resourceId: string): void {
  const resource = state.resource(resourceId);
  if (!resource) return;
  resource.body.tags = { ...(resource.body.tags ?? {}), 'changed-by': 'another-client' };
  if (resourceTypeModel(String(resource.body.type))?.etags) stampEtags(resource.body);
}
