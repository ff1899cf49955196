import type { IdentityState } from './types';

const CANONICAL: Record<string, string> = {
  none: 'None',
  systemassigned: 'SystemAssigned',
  userassigned: 'UserAssigned',
  'systemassigned,userassigned': 'SystemAssigned, UserAssigned',
};

/** Reads ARM's identity block, whatever its spelling ("SystemAssigned,UserAssigned", lower case, absent). */
export function readIdentity(raw: unknown): IdentityState {
  const block = (raw ?? {}) as { type?: unknown; principalId?: unknown; tenantId?: unknown; userAssignedIdentities?: unknown };
  const type = typeof block.type === 'string' ? (CANONICAL[block.type.replace(/\s+/g, '').toLowerCase()] ?? block.type) : 'None';
  const uas = (block.userAssignedIdentities ?? {}) as Record<string, { principalId?: string; clientId?: string } | null>;
  return {
    type,
    principalId: typeof block.principalId === 'string' ? block.principalId : undefined,
    tenantId: typeof block.tenantId === 'string' ? block.tenantId : undefined,
    userAssigned: Object.entries(uas).map(([id, v]) => ({ id, principalId: v?.principalId, clientId: v?.clientId })),
  };
}

export const hasSystemAssigned = (i: IdentityState): boolean => i.type.includes('SystemAssigned') && !!i.principalId;
export const hasUserAssigned = (i: IdentityState): boolean => i.userAssigned.length > 0;
