import type { TokenCredential } from '@azure/core-auth';
import type { CliContext } from './context';
import { CommandFailed } from './context';

/** The token the ARM clients ask for: their audience is always public ARM's (src/azure/clients.ts armClientOptions). */
const ARM_SCOPE = 'https://management.azure.com/.default';

/** What to do when no credential in the chain is available: az's own advice, plus this CLI's ways out. */
export const NOT_LOGGED_IN =
  "not logged in to Azure: run 'az login' (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal, " +
  'or try --sandbox, which needs no account)';

/** @azure/identity's errors for "no credential could be used" (every credential in the chain unavailable). */
const UNAVAILABLE = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError']);

/**
 * Gets an ARM token once before the command starts, so a missing sign-in is one line on stderr and exit 1
 * (as az's "Please run 'az login' to setup account.") instead of the credential chain's 1.5 KB dump inside
 * a failed outcome on stdout. The chain's full text stays available with --debug.
 */
export async function ensureSignedIn(ctx: CliContext, credential: TokenCredential): Promise<void> {
  try {
    await credential.getToken(ARM_SCOPE);
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const detail = e instanceof Error ? e.message : String(e);
    ctx.console.debug(`credential chain: ${detail}`);
    if (UNAVAILABLE.has(name)) throw new CommandFailed(NOT_LOGGED_IN);
    // A credential was found but refused (expired secret, wrong tenant): its first sentence says which.
    throw new CommandFailed(`Azure sign-in failed: ${detail.split(/(?<=\.)\s/)[0]?.slice(0, 300)} (--debug shows the details)`);
  }
}
