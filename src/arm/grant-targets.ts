/**
 * Resource types a tag-derived role scope may point at, with the api-version used to prove the
 * target exists and is of that type before any grant (a GET by id). A type is listed only once an
 * api-version has been checked against Azure/azure-rest-api-specs; the rules loader refuses any other
 * type in a `tagScope`, since the product could not verify such a target.
 *
 * Sources (azure-rest-api-specs, stable folders):
 * - Microsoft.KeyVault/vaults 2023-07-01: specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/examples/getVault.json (commit f005270b)
 * - Microsoft.Storage/storageAccounts 2023-05-01: specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/storage.json (commit da749a02)
 * - Microsoft.ServiceBus/namespaces 2021-11-01: specification/servicebus/resource-manager/Microsoft.ServiceBus/stable/2021-11-01/namespace-preview.json (commit efdfa5c6)
 * - Microsoft.DocumentDB/databaseAccounts 2024-11-15: specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/cosmos-db.json
 *   (commit 92f4b811; also the api-version of its rbac.json, commit c9388702, whose sqlRoleAssignments the product writes)
 */
export const GRANT_TARGET_API_VERSIONS: Readonly<Record<string, string>> = {
  'Microsoft.KeyVault/vaults': '2023-07-01',
  'Microsoft.Storage/storageAccounts': '2023-05-01',
  'Microsoft.ServiceBus/namespaces': '2021-11-01',
  'Microsoft.DocumentDB/databaseAccounts': '2024-11-15',
};

/** Scope kinds a tag may name when the administrator lists them by these words. */
export const SCOPE_KIND_WORDS = ['resourceGroup', 'subscription'] as const;

/** The canonical spelling of a grant-target type (case-insensitive lookup), or undefined. */
export function canonicalGrantTargetType(type: string): string | undefined {
  const lower = type.toLowerCase();
  return Object.keys(GRANT_TARGET_API_VERSIONS).find((t) => t.toLowerCase() === lower);
}

export function grantTargetApiVersion(type: string): string | undefined {
  const canonical = canonicalGrantTargetType(type);
  return canonical ? GRANT_TARGET_API_VERSIONS[canonical] : undefined;
}

export const KEY_VAULT_TYPE = 'Microsoft.KeyVault/vaults';

/**
 * A scope at or inside a Key Vault (the vault, or one of its secrets, keys or certificates); group 1 is
 * the vault's id. Matches rule templates too (`{resourceGroup}` in place of a name).
 */
export const KEY_VAULT_SCOPE = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+)(?:\/|$)/i;

/** The vault a role scope is at or inside, or undefined when it is not a Key Vault scope. */
export function keyVaultOf(scope: string): string | undefined {
  return KEY_VAULT_SCOPE.exec(scope)?.[1];
}
