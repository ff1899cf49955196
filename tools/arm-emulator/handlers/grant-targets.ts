import type { ArmResourceId } from '../../../src/arm/resource-id';
import { ArmError, notFound, requireApiVersion } from '../arm-error';
import { authorize } from '../authorization';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Resources a role may be scoped to but whose own API the product never writes (Key Vaults, storage
 * accounts, Service Bus namespaces): the emulator serves GET only, with each RP's real api-versions,
 * so the engine can prove a tag-chosen target exists and is of the declared type. Other verbs are
 * refused: nothing in the product may change them. Sources (Azure/azure-rest-api-specs):
 * - Microsoft.KeyVault/vaults: stable/2023-07-01 (examples/getVault.json, commit f005270b), stable/2022-07-01
 * - Microsoft.Storage/storageAccounts: stable/2023-05-01 (storage.json, commit da749a02), stable/2023-01-01
 * - Microsoft.ServiceBus/namespaces: stable/2021-11-01 (namespace-preview.json, commit efdfa5c6)
 * - Microsoft.DocumentDB/databaseAccounts: stable/2024-11-15 (cosmos-db.json, commit 92f4b811)
 */
const GRANT_TARGET_API_VERSIONS: Record<string, readonly string[]> = {
  'microsoft.keyvault/vaults': ['2022-07-01', '2023-07-01'],
  'microsoft.storage/storageaccounts': ['2023-01-01', '2023-05-01'],
  'microsoft.servicebus/namespaces': ['2021-11-01'],
  'microsoft.documentdb/databaseaccounts': ['2024-11-15'],
};

export function isGrantTargetType(type: string | undefined): boolean {
  return type !== undefined && type.toLowerCase() in GRANT_TARGET_API_VERSIONS;
}

export function handleGrantTarget(ctx: HandlerContext, req: EmulatorRequest, id: ArmResourceId): EmulatorResponse {
  const type = id.type!;
  const versions = GRANT_TARGET_API_VERSIONS[type.toLowerCase()]!;
  requireApiVersion(req, versions, type.split('/')[1]!);
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The emulator serves only GET for ${type}.`);
  authorize(ctx.state, req.principal, { action: `${type}/read`, scope: id.id });
  const existing = ctx.state.resource(id.id);
  // ARM looks resources up by full id: a vault id whose type segment names another type is a different (missing) resource.
  if (!existing || String(existing.body.type).toLowerCase() !== type.toLowerCase()) throw notFound(type, id.name!, id.resourceGroup);
  return { status: 200, body: existing.body };
}
