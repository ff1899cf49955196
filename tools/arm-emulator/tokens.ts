import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Directory, Principal } from './directory';

export const ARM_AUDIENCE = 'https://management.azure.com';
/**
 * ARM accepts tokens for either of its two resource ids, with or without the trailing slash. Source:
 * Azure/azure-cli `src/azure-cli-core/azure/cli/core/cloud.py` (AZURE_PUBLIC_CLOUD:
 * `active_directory_resource_id='https://management.core.windows.net/'`, `resource_manager=
 * 'https://management.azure.com/'`): every `az` call to public ARM carries the older audience, while
 * the SDKs ask for `https://management.azure.com/.default`. Found by test/conformance (az login).
 */
export const ARM_AUDIENCES: readonly string[] = [ARM_AUDIENCE, 'https://management.core.windows.net'];
export const EVENT_GRID_AUDIENCE = 'https://eventgrid.azure.net';

interface TokenClaims {
  aud: string;
  iss: string;
  oid: string;
  appid?: string;
  tid: string;
  idtyp: 'app' | 'user';
  iat: number;
  nbf: number;
  exp: number;
}

const b64url = (v: Buffer | string): string => Buffer.from(v).toString('base64url');

/**
 * Issues and verifies bearer tokens. Tokens are JWT-shaped and HMAC-signed with a per-run key, so
 * the emulator knows which principal made each call and a forged token is refused.
 */
export class TokenAuthority {
  private readonly key = randomBytes(32);
  lifetimeSeconds = 3600;

  constructor(private readonly directory: Directory) {}

  issue(principal: Principal, audience = ARM_AUDIENCE): { token: string; expiresOn: number } {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      aud: audience.replace(/\/(\.default)?$/, ''),
      iss: `https://sts.windows.net/${this.directory.tenantId}/`,
      oid: principal.id,
      appid: principal.clientId,
      tid: this.directory.tenantId,
      idtyp: principal.type === 'User' ? 'user' : 'app',
      iat: now,
      nbf: now - 5,
      exp: now + this.lifetimeSeconds,
    };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = b64url(createHmac('sha256', this.key).update(`${head}.${body}`).digest());
    return { token: `${head}.${body}.${sig}`, expiresOn: claims.exp };
  }

  /** Returns the caller, or a reason the token is refused. */
  verify(token: string, audience: string | readonly string[] = ARM_AUDIENCES): { principal: Principal } | { reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { reason: 'The access token is malformed.' };
    const [head, body, sig] = parts as [string, string, string];
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { reason: 'The access token has an invalid signature.' };
    }
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { reason: 'The access token is malformed.' };
    }
    if (claims.exp * 1000 < Date.now()) return { reason: 'The access token has expired.' };
    const accepted = typeof audience === 'string' ? [audience] : audience;
    if (!accepted.some((a) => claims.aud === a || claims.aud === `${a}/`)) {
      return { reason: `The access token has an invalid audience '${claims.aud}'.` };
    }
    const principal = this.directory.get(claims.oid);
    if (!principal) return { reason: 'The principal of the access token no longer exists.' };
    return { principal };
  }
}
