import { randomUUID } from 'node:crypto';

export type PrincipalType = 'ServicePrincipal' | 'User' | 'Group';

export interface Principal {
  readonly id: string;
  readonly type: PrincipalType;
  readonly displayName: string;
  /** Application (client) id; managed identities have one. */
  readonly clientId?: string;
  readonly createdAt: number;
}

/**
 * The emulator's Entra ID: which principals exist and since when. A principal younger than
 * `replicationDelayMs` is reported as PrincipalNotFound by role-assignment writes, as Entra's
 * replication delay does for brand-new managed identities.
 */
export class Directory {
  private readonly principals = new Map<string, Principal>();
  replicationDelayMs = 0;

  constructor(readonly tenantId: string) {}

  create(input: { type?: PrincipalType; displayName: string; id?: string; clientId?: string }): Principal {
    const principal: Principal = {
      id: input.id ?? randomUUID(),
      type: input.type ?? 'ServicePrincipal',
      displayName: input.displayName,
      clientId: input.clientId ?? (input.type === undefined || input.type === 'ServicePrincipal' ? randomUUID() : undefined),
      createdAt: Date.now(),
    };
    this.principals.set(principal.id.toLowerCase(), principal);
    return principal;
  }

  get(id: string): Principal | undefined {
    return this.principals.get(id.toLowerCase());
  }

  byClientId(clientId: string): Principal | undefined {
    const wanted = clientId.toLowerCase();
    for (const p of this.principals.values()) if (p.clientId?.toLowerCase() === wanted) return p;
    return undefined;
  }

  /** Visible to role-assignment writes: it exists and has replicated. */
  isReplicated(id: string, now = Date.now()): boolean {
    const p = this.get(id);
    return p !== undefined && now - p.createdAt >= this.replicationDelayMs;
  }

  /** Every principal (snapshots). */
  all(): Principal[] {
    return [...this.principals.values()];
  }

  /** Puts back a principal as it was (snapshots), keeping its id, client id and creation time. */
  restore(principal: Principal): void {
    this.principals.set(principal.id.toLowerCase(), { ...principal });
  }

  /** How many principals exist (tests check that a refused write created none). */
  get size(): number {
    return this.principals.size;
  }

  remove(id: string): void {
    this.principals.delete(id.toLowerCase());
  }
}
