/**
 * Checks each `--custom-role "Name=GUID"` given to `npm run infra:params` before the GUID lands in the
 * app's ABAC condition. A wrong pair is dangerous both ways: the condition would let the app assign a
 * role the rules never name (possibly a privileged one), while the app itself resolves the name through
 * ARM to another GUID and is refused by its own condition.
 *
 * - Offline, against the built-in role table: a built-in GUID is never a custom role.
 * - Through ARM when a credential is available (the deployer's `az login` during `azd up`): the role
 *   definition must exist in the first governed subscription, carry that name (case-insensitive, as
 *   Azure compares role names), and allow no access-control action (the same check the app makes
 *   before each grant).
 * - Otherwise the script says which pairs it could not check.
 */

import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { ArmClientPool, armClientOptions, PUBLIC_ARM_ENDPOINT } from '../../src/azure/clients';
import { ArmRoleAssignmentPort } from '../../src/azure/role-assignment-port';
import { builtinRoleById, builtinRoleRefusal, type RoleDefinitionLookup, refuseAccessControl } from '../../src/config/roles';
import { isAutopilotError } from '../../src/errors';
import { AppPermissionsError } from './permissions';

/** How long to wait for a credential before checking offline only (az login may be slow to answer). */
const CREDENTIAL_TIMEOUT_MS = 30_000;

/** Returns the pairs it could not check (as warnings); throws AppPermissionsError on a wrong pair. */
export async function checkCustomRoles(
  given: ReadonlyMap<string, string>,
  subscriptionId: string,
  lookup: RoleDefinitionLookup | undefined,
  whyOffline = 'no Azure credential',
): Promise<string[]> {
  const warnings: string[] = [];
  for (const [name, rawGuid] of given) {
    const guid = rawGuid.trim().toLowerCase();
    const arg = `--custom-role "${name}=${rawGuid}"`;
    const builtin = builtinRoleById(guid);
    if (builtin) {
      const refusal = builtinRoleRefusal(builtin);
      throw new AppPermissionsError(
        refusal ? 'PrivilegedRole' : 'CustomRoleMismatch',
        `${arg}: ${guid} is the built-in role '${builtin.roleName}', not a custom role named '${name}'${refusal ? `; ${refusal}` : ''}`,
      );
    }
    if (!lookup) {
      warnings.push(`${arg}: not checked against Azure (${whyOffline}); make sure the GUID is the custom role '${name}'`);
      continue;
    }
    const scope = `/subscriptions/${subscriptionId}`;
    let found;
    try {
      found = await lookup.getRoleDefinition(scope, guid);
    } catch (e) {
      warnings.push(`${arg}: not checked against Azure (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    if (!found)
      throw new AppPermissionsError(
        'CustomRoleMismatch',
        `${arg}: no role definition ${guid} is visible in subscription ${subscriptionId}`,
      );
    if (!found.roleName || found.roleName.trim().toLowerCase() !== name.trim().toLowerCase()) {
      throw new AppPermissionsError('CustomRoleMismatch', `${arg}: ${guid} is the role '${found.roleName ?? '(no name)'}', not '${name}'`);
    }
    try {
      refuseAccessControl(found, `custom role '${name}'`);
    } catch (e) {
      if (isAutopilotError(e)) throw new AppPermissionsError('PrivilegedRole', `${arg}: ${e.message}`);
      throw e;
    }
  }
  return warnings;
}

/**
 * Role definition lookups through ARM with the deployer's credential, or the reason there are none.
 * AUTOPILOT_ARM_ENDPOINT and AUTOPILOT_ARM_CA_PATH point it elsewhere (the local emulator), as for the app.
 */
export async function armRoleLookup(
  env: NodeJS.ProcessEnv,
  credential: TokenCredential = new DefaultAzureCredential(),
): Promise<{ lookup: RoleDefinitionLookup } | { reason: string }> {
  const connection = {
    endpoint: env.AUTOPILOT_ARM_ENDPOINT?.trim() || PUBLIC_ARM_ENDPOINT,
    credential,
    ca: env.AUTOPILOT_ARM_CA_PATH?.trim() ? readFileSync(env.AUTOPILOT_ARM_CA_PATH.trim(), 'utf8') : undefined,
  };
  try {
    const token = await credential.getToken(armClientOptions(connection).credentialScopes, {
      abortSignal: AbortSignal.timeout(CREDENTIAL_TIMEOUT_MS),
    });
    if (!token) return { reason: 'no Azure credential' };
  } catch (e) {
    return { reason: `no Azure credential: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
  return { lookup: new ArmRoleAssignmentPort(new ArmClientPool(connection)) };
}
