import { createHash } from 'node:crypto';

/** A fixed namespace so every deployment names the same grant the same way. */
const NAMESPACE = '6f2b1f9e-3c4d-5a8b-9e0f-1a2b3c4d5e6f';

function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(name, 'utf8')]))
    .digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The role assignment's name: UUID v5 of (scope, principal, role). Retries and redeliveries write the
 * same name, so a repeated PUT is idempotent rather than a duplicate.
 */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionGuid: string): string {
  return uuidV5(`${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleDefinitionGuid.toLowerCase()}`, NAMESPACE);
}
