import { isWithinScope } from '../../src/arm/resource-id';
import { builtinRoleByName } from '../../src/config/roles';
import type { EmulatorState, Json } from './state';

/**
 * Key Vaults as grant targets: the management-plane body Vaults_Get returns, shaped like the official
 * example (keyvault.json, Microsoft.KeyVault 2023-07-01, examples/getVault.json, stored under specs/),
 * and what the vault's permission model means for the data plane.
 *
 * `enableRbacAuthorization` (VaultProperties): "When true, the key vault will use Role Based Access
 * Control (RBAC) for authorization of data actions, and the access policies specified in vault
 * properties will be ignored. When false, the key vault will use the access policies specified in vault
 * properties, and any policy stored on Azure Resource Manager will be ignored. If null or not specified,
 * the vault is created with the default value of false." getVault.json itself has no such property:
 * an access-policy vault.
 */
export function keyVaultProperties(state: EmulatorState, name: string, enableRbacAuthorization: boolean | undefined): Json {
  return {
    sku: { family: 'A', name: 'standard' },
    tenantId: state.tenantId,
    accessPolicies: [],
    // Absent stays absent: what a vault created without the property shows (the RP's default, false).
    ...(enableRbacAuthorization === undefined ? {} : { enableRbacAuthorization }),
    vaultUri: `https://${name}.vault.azure.net`,
    provisioningState: 'Succeeded',
    publicNetworkAccess: 'Enabled',
  };
}

/** True when the vault authorizes its data plane with Azure RBAC (`enableRbacAuthorization` is true). */
export function vaultUsesRbac(state: EmulatorState, vaultId: string): boolean {
  return state.resource(vaultId)?.body.properties?.enableRbacAuthorization === true;
}

/**
 * Built-in roles whose data actions include reading a secret's value
 * (`Microsoft.KeyVault/vaults/secrets/getSecret/action`; Learn: role-based-access-control/built-in-roles/security).
 */
const SECRET_READER_ROLES = ['Key Vault Secrets User', 'Key Vault Secrets Officer', 'Key Vault Administrator'].map((name) =>
  builtinRoleByName(name)!.id.toLowerCase(),
);

/**
 * Whether Azure RBAC lets the principal read the vault's secrets, as the Key Vault data plane decides:
 * on an access-policy vault never, whatever role assignments ARM holds ("any policy stored on Azure
 * Resource Manager will be ignored"); on an RBAC vault when a secret-reading role is assigned at the
 * vault or above. The emulator serves no data plane; tests ask this instead of calling one.
 */
export function canReadSecretsThroughRbac(state: EmulatorState, vaultId: string, principalId: string): boolean {
  if (!vaultUsesRbac(state, vaultId)) return false;
  return state
    .assignmentsFor(principalId)
    .some((a) => SECRET_READER_ROLES.includes(a.roleDefinitionGuid) && isWithinScope(vaultId, a.scope));
}
