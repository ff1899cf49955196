import { createHash } from 'node:crypto';

/** Azure tag values hold at most 256 characters. */
const MAX_TAG_VALUE = 256;

/**
 * The owner as recorded on an identity the product creates: the owning resource's id in lower case (ARM
 * ids are case-insensitive), or a SHA-256 of it when the id is longer than a tag value may be.
 */
export function ownerTagValue(owner: string): string {
  const lower = owner.toLowerCase();
  return lower.length <= MAX_TAG_VALUE ? lower : `sha256:${createHash('sha256').update(lower).digest('hex')}`;
}

/** Whether an identity's recorded owner names `owner`. Tags prove nothing alone: pair it with ARM's createdBy. */
export const recordsOwner = (recorded: string | undefined, owner: string): boolean =>
  recorded !== undefined && recorded.toLowerCase() === ownerTagValue(owner);
